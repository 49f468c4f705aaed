/**
 * Conditional steps' rules: JSON Logic (json-logic-js), serialisable and without code execution,
 * cut down to an allow-list of operators and checked when steps are written (issue 17 item 2).
 *
 * One rule of our own on top of JSON Logic: a comparison (==, ===, !=, !==, <, <=, >, >=) or an `in`
 * with an operand that is null or undefined is false. An unset variable reads as null, and in plain
 * JSON Logic `{"<": [{"var": "answers.age"}, 18]}` would hold for a user who never answered
 * (null < 18 in JavaScript). So a rule about an unset answer is false, never an error, and to ask
 * whether an answer is unset a rule says `{"missing": ["answers.age"]}` or `{"!": {"var": "answers.age"}}`.
 */
import jsonLogic from "json-logic-js";
import { checkPathSegments, type FlowData, jsonBytes, MAX_STEP_SOURCE_BYTES } from "./data.ts";

export { MAX_STEP_SOURCE_BYTES } from "./data.ts";

const COMPARISONS = ["==", "===", "!=", "!==", "<", "<=", ">", ">="] as const;
const LOGIC = ["and", "or", "!", "!!", "if"] as const;
export const RULE_OPERATORS: readonly string[] = [...COMPARISONS, ...LOGIC, "in", "var", "missing", "missing_some"];
export const MAX_RULE_DEPTH = 10;

/**
 * `vars`: every path the rule reads. `presenceOnly`: those it reads only through missing/missing_some,
 * that is, the ones it asks about being set (no warning that they may be unset is due there).
 */
type Check = { ok: true; vars: string[]; presenceOnly: string[] } | { ok: false; error: string };

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** A path a rule reads: a literal, from an allowed root (JSON Logic splits it on dots). */
function pathProblem(path: unknown, op: string): string | null {
  if (typeof path !== "string") return `"${op}" needs a literal variable path (a string), not ${JSON.stringify(path)}`;
  return checkPathSegments(path.split("."));
}

class RuleWalk {
  readonly vars = new Set<string>();
  readonly viaVar = new Set<string>();

  /** Returns the first problem found, or null. `depth` counts operators and literal arrays. */
  node(node: unknown, depth: number): string | null {
    if (node === null || typeof node === "string" || typeof node === "boolean") return null;
    if (typeof node === "number") return Number.isFinite(node) ? null : "a rule's numbers must be finite";
    if (depth + 1 > MAX_RULE_DEPTH) return `the rule is nested deeper than ${MAX_RULE_DEPTH} levels`;
    if (Array.isArray(node)) return this.all(node, depth + 1);
    if (!isPlainObject(node)) return `a rule may not hold ${typeof node}`;
    const keys = Object.keys(node);
    const [op] = keys;
    if (op === undefined || keys.length !== 1) {
      return `a rule object has exactly one key, its operator (found ${keys.length}: ${keys.slice(0, 5).join(", ")})`;
    }
    if (!RULE_OPERATORS.includes(op)) return `unknown operator "${op}" (allowed: ${RULE_OPERATORS.join(" ")})`;
    const raw = node[op];
    const args = Array.isArray(raw) ? raw : [raw];
    switch (op) {
      case "var":
        return this.variable(args, depth + 1);
      case "missing":
        // JSON Logic reads `{"missing": [["a", "b"]]}` like `{"missing": ["a", "b"]}`.
        return this.paths(Array.isArray(args[0]) ? args[0] : args, op);
      case "missing_some": {
        const [need, paths] = args;
        if (args.length !== 2 || typeof need !== "number" || !Array.isArray(paths)) {
          return `"missing_some" takes [a number, [paths…]]`;
        }
        return this.paths(paths, op);
      }
      default:
        return this.all(args, depth + 1);
    }
  }

  private all(nodes: readonly unknown[], depth: number): string | null {
    for (const n of nodes) {
      const problem = this.node(n, depth);
      if (problem !== null) return problem;
    }
    return null;
  }

  private variable(args: readonly unknown[], depth: number): string | null {
    const [path, fallback] = args;
    if (args.length === 0 || args.length > 2) return `"var" takes a path and an optional default`;
    const problem = pathProblem(path, "var");
    if (problem !== null) return problem;
    if (isPlainObject(fallback) || Array.isArray(fallback)) return `"var"'s default must be a literal value`;
    this.vars.add(path as string);
    this.viaVar.add(path as string);
    return this.node(fallback ?? null, depth);
  }

  private paths(paths: readonly unknown[], op: string): string | null {
    for (const p of paths) {
      const problem = pathProblem(p, op);
      if (problem !== null) return problem;
      this.vars.add(p as string);
    }
    return null;
  }
}

/** Checked at write time: the allow-list, the depth and size limits, and every path's root. */
export function checkRule(rule: unknown): Check {
  let bytes: number;
  try {
    bytes = jsonBytes(rule);
  } catch {
    return { ok: false, error: "the rule is not JSON" };
  }
  if (bytes > MAX_STEP_SOURCE_BYTES) {
    return { ok: false, error: `the rule is ${bytes} bytes as JSON; at most ${MAX_STEP_SOURCE_BYTES} are allowed` };
  }
  const walk = new RuleWalk();
  const problem = walk.node(rule, 0);
  if (problem !== null) return { ok: false, error: problem };
  const vars = [...walk.vars];
  return { ok: true, vars, presenceOnly: vars.filter((p) => !walk.viaVar.has(p)) };
}

const unset = (x: unknown) => x === null || x === undefined;

/**
 * The comparisons with the unset rule (see the header), registered under names no rule can use
 * (checkRule refuses them) so that json-logic-js's own operators stay as the library defines them.
 */
const GUARDED: Record<string, (...args: unknown[]) => boolean> = {
  // biome-ignore lint/suspicious/noDoubleEquals: JSON Logic's == is JavaScript's loose equality.
  "==": (a, b) => a == b,
  "===": (a, b) => a === b,
  // biome-ignore lint/suspicious/noDoubleEquals: JSON Logic's != is JavaScript's loose inequality.
  "!=": (a, b) => a != b,
  "!==": (a, b) => a !== b,
  ">": (a, b) => (a as number) > (b as number),
  ">=": (a, b) => (a as number) >= (b as number),
  "<": (a, b, c) =>
    c === undefined ? (a as number) < (b as number) : (a as number) < (b as number) && (b as number) < (c as number),
  "<=": (a, b, c) =>
    c === undefined ? (a as number) <= (b as number) : (a as number) <= (b as number) && (b as number) <= (c as number),
  in: (a, b) => (typeof b === "string" || Array.isArray(b)) && (b as string | unknown[]).indexOf(a as string) !== -1,
};
const GUARDED_PREFIX = "journeys guarded ";
for (const [op, fn] of Object.entries(GUARDED)) {
  jsonLogic.add_operation(`${GUARDED_PREFIX}${op}`, (...args: unknown[]) => (args.some(unset) ? false : fn(...args)));
}

/** The rule with its comparisons renamed to the guarded ones. Cached: rules live as long as their journey. */
const rewritten = new WeakMap<object, unknown>();
function guard(rule: unknown): unknown {
  if (typeof rule !== "object" || rule === null) return rule;
  const cached = rewritten.get(rule);
  if (cached !== undefined) return cached;
  let out: unknown;
  if (Array.isArray(rule)) {
    out = rule.map(guard);
  } else {
    const [op, raw] = Object.entries(rule)[0] as [string, unknown];
    // var and missing take paths and literals, nothing to rename inside.
    if (op === "var" || op === "missing" || op === "missing_some") out = rule;
    else out = { [op in GUARDED ? `${GUARDED_PREFIX}${op}` : op]: guard(raw) };
  }
  rewritten.set(rule, out);
  return out;
}

const checked = new WeakMap<object, boolean>();
function isAllowed(rule: unknown): boolean {
  if (typeof rule !== "object" || rule === null) return checkRule(rule).ok;
  let ok = checked.get(rule);
  if (ok === undefined) {
    ok = checkRule(rule).ok;
    checked.set(rule, ok);
  }
  return ok;
}

/**
 * Whether the rule holds for this data (JSON Logic truthiness). Never throws: a rule that fails
 * checkRule (it should have been refused at write time) or fails while running is false.
 */
export function evaluateRule(rule: unknown, data: FlowData): boolean {
  try {
    if (!isAllowed(rule)) return false;
    const scope = { answers: data.answers ?? {}, user: data.user ?? {}, trigger: data.trigger ?? {} };
    return jsonLogic.truthy(jsonLogic.apply(guard(rule) as jsonLogic.RulesLogic, scope));
  } catch {
    return false;
  }
}
