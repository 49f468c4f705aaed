/**
 * What the flow language can read (issue 17): a session's answers, the user who started it and the
 * trigger that started it. Rules (rules.ts) and templates (templates.ts) both name these as dotted
 * paths, and both check a path the same way here, so a write is refused for the same reasons in either.
 */

/** What rules and templates can read. `answers` as stored (number, string, {amount,currency}, …). */
export interface FlowData {
  answers: Record<string, unknown>;
  user: { first_name?: string; last_name?: string; username?: string; language_code?: string };
  trigger: { param?: string };
}

/** Per step: rules and templates together (issue 17: "over 16 KB per step" is refused). */
export const MAX_STEP_SOURCE_BYTES = 16 * 1024;

export const FLOW_ROOTS = ["answers", "user", "trigger"] as const;
export type FlowRoot = (typeof FLOW_ROOTS)[number];

/** The fields the engine captures; a typo such as `user.firstname` would always read as unset. */
export const USER_FIELDS = ["first_name", "last_name", "username", "language_code"] as const;
export const TRIGGER_FIELDS = ["param"] as const;

/** Property names that reach the prototype chain instead of the data. */
const FORBIDDEN_SEGMENTS = new Set(["__proto__", "prototype", "constructor"]);

function isRoot(x: string): x is FlowRoot {
  return (FLOW_ROOTS as readonly string[]).includes(x);
}

/**
 * Checks a path's segments (`["answers", "deposit_amount", "amount"]`); returns the problem or null.
 * A root alone (`answers`) is allowed: it reads the whole object.
 */
export function checkPathSegments(segments: readonly string[]): string | null {
  const [root, field] = segments;
  const shown = segments.join(".");
  if (root === undefined || !isRoot(root)) {
    return `unknown variable "${shown}": variables start with ${FLOW_ROOTS.map((r) => `${r}.`).join(", ")}`;
  }
  for (const s of segments) {
    if (s === "") return `variable "${shown}" has an empty segment`;
    if (FORBIDDEN_SEGMENTS.has(s)) return `variable "${shown}" may not name "${s}"`;
  }
  if (field === undefined) return null;
  if (root === "user" && !(USER_FIELDS as readonly string[]).includes(field)) {
    return `unknown variable "${shown}": user has ${USER_FIELDS.join(", ")}`;
  }
  if (root === "trigger" && !(TRIGGER_FIELDS as readonly string[]).includes(field)) {
    return `unknown variable "${shown}": trigger has ${TRIGGER_FIELDS.join(", ")}`;
  }
  return null;
}

/**
 * The answer key a path reads (`answers.deposit_amount.amount` → `deposit_amount`), or null when it
 * names none (`user.first_name`, `answers`). Answer keys may hold dots (step-config allows them), so
 * the longest defined key the path starts with wins; with none defined, the first segment.
 */
export function answerKeyOf(path: string, defined: ReadonlySet<string> = new Set()): string | null {
  const [root, ...rest] = path.split(".");
  if (root !== "answers" || rest.length === 0 || rest[0] === "") return null;
  for (let n = rest.length; n > 1; n--) {
    const key = rest.slice(0, n).join(".");
    if (defined.has(key)) return key;
  }
  return rest[0] ?? null;
}

/** Serialised size in bytes, as the 16 KB limit counts it. */
export function jsonBytes(value: unknown): number {
  const json = JSON.stringify(value);
  return json === undefined ? 0 : Buffer.byteLength(json, "utf8");
}
