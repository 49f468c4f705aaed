/**
 * Checks over a whole journey when its steps are written (issue 17 item 5): step keys, conditional
 * steps' targets and rules, templates, link buttons, loops that would spin, and answers read where
 * no question sets them. Errors refuse the write (the API answers `400 steps[<index>].<field>: …`);
 * warnings go back with the accepted write.
 *
 * The flow: a step goes on to the next one (past the last: the end); a conditional goes to one of
 * its branches' targets, its else target, or (with no else) the next step.
 */
import { answerKeyOf, type FlowData, jsonBytes, MAX_STEP_SOURCE_BYTES } from "./data.ts";
import { checkRule, evaluateRule } from "./rules.ts";
import { checkTemplate } from "./templates.ts";

export interface FlowStep {
  index: number;
  key?: string | null;
  stepType: "message" | "question" | "delay" | "conditional";
  config: Record<string, unknown>;
}
export interface FlowProblem {
  index: number;
  field: string;
  message: string;
}

export const STEP_KEY_RE = /^[a-z0-9_]{1,64}$/;
export const END = "end";
export const MAX_BRANCHES = 20;
export const MAX_BUTTONS = 20;
export const MAX_BUTTON_TEXT = 64;
export const MAX_BUTTON_URL = 2048;

interface Branch {
  when: unknown;
  goto: unknown;
}

/** A jump out of a step: where to (a position, or steps.length for the end) and which field says so. */
interface Edge {
  to: number;
  field: string;
}

/** A place a step reads variables: a template field or a branch's rule. */
interface Read {
  field: string;
  vars: string[];
  rule: boolean;
  /** Paths a rule only tests for being set (`missing`): no warning that they may be unset. */
  presenceOnly?: string[];
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

/** The template fields of a step: texts, error and expiry texts, reminder texts. */
function templateFields(step: FlowStep): Array<[string, unknown]> {
  const c = step.config;
  if (step.stepType === "message") return [["config.text", c.text]];
  if (step.stepType !== "question") return [];
  const fields: Array<[string, unknown]> = [["config.text", c.text]];
  for (const name of ["error_text", "expired_text"]) {
    if (c[name] !== undefined && c[name] !== null) fields.push([`config.${name}`, c[name]]);
  }
  if (Array.isArray(c.reminders)) {
    c.reminders.forEach((r, i) => {
      if (isObject(r) && r.text !== undefined) fields.push([`config.reminders[${i}].text`, r.text]);
    });
  }
  return fields;
}

function branchesOf(config: Record<string, unknown>): unknown[] {
  return Array.isArray(config.branches) ? config.branches : [];
}

class FlowCheck {
  readonly errors: FlowProblem[] = [];
  readonly warnings: FlowProblem[] = [];
  /** step key → position */
  private readonly keys = new Map<string, number>();
  /** answer keys set by some question */
  private readonly answerKeys = new Set<string>();
  private readonly edges: Edge[][];
  private readonly reads: Read[][];

  constructor(private readonly steps: readonly FlowStep[]) {
    this.edges = steps.map(() => []);
    this.reads = steps.map(() => []);
  }

  run(): { errors: FlowProblem[]; warnings: FlowProblem[] } {
    for (const [i, s] of this.steps.entries()) this.collectKey(s, i);
    for (const s of this.steps) {
      if (s.stepType === "question" && typeof s.config.answer_key === "string")
        this.answerKeys.add(s.config.answer_key);
    }
    for (const [i, s] of this.steps.entries()) this.checkStep(s, i);
    this.checkSpins();
    this.checkAnswersSet();
    return { errors: this.errors, warnings: this.warnings };
  }

  private error(i: number, field: string, message: string): void {
    this.errors.push({ index: this.steps[i]?.index ?? i, field, message });
  }

  private collectKey(step: FlowStep, i: number): void {
    if (step.key === undefined || step.key === null) return;
    if (typeof step.key !== "string" || !STEP_KEY_RE.test(step.key)) {
      this.error(i, "key", `must match ${STEP_KEY_RE.source}`);
    } else if (step.key === END) {
      this.error(i, "key", `"${END}" is reserved: goto "${END}" ends the journey`);
    } else if (this.keys.has(step.key)) {
      this.error(i, "key", `"${step.key}" is already the key of steps[${this.keys.get(step.key)}]`);
    } else {
      this.keys.set(step.key, i);
    }
  }

  private checkStep(step: FlowStep, i: number): void {
    const bytes = jsonBytes(step.config);
    if (bytes > MAX_STEP_SOURCE_BYTES) {
      this.error(i, "config", `is ${bytes} bytes as JSON; at most ${MAX_STEP_SOURCE_BYTES} are allowed per step`);
      return;
    }
    for (const [field, source] of templateFields(step)) {
      if (typeof source !== "string") continue; // step-config reports a missing or non-string text
      const checked = checkTemplate(source);
      if (checked.ok) this.reads[i]?.push({ field, vars: checked.vars, rule: false });
      else this.error(i, field, checked.error);
    }
    if (step.stepType === "message" && step.config.buttons !== undefined) this.checkButtons(step.config.buttons, i);
    if (step.stepType === "conditional") this.checkConditional(step.config, i);
    else this.edges[i]?.push({ to: i + 1, field: "" });
  }

  private checkButtons(buttons: unknown, i: number): void {
    if (!Array.isArray(buttons) || buttons.length < 1 || buttons.length > MAX_BUTTONS) {
      this.error(i, "config.buttons", `must be a list of 1 to ${MAX_BUTTONS} buttons {text, url}`);
      return;
    }
    for (const [j, b] of buttons.entries()) {
      const at = `config.buttons[${j}]`;
      if (!isObject(b)) {
        this.error(i, at, "must be an object {text, url}");
        continue;
      }
      if (typeof b.text !== "string" || b.text.trim() === "" || b.text.length > MAX_BUTTON_TEXT) {
        this.error(i, `${at}.text`, `must be a non-empty string of at most ${MAX_BUTTON_TEXT} characters`);
      }
      const problem = urlProblem(b.url);
      if (problem !== null) this.error(i, `${at}.url`, problem);
    }
  }

  private checkConditional(config: Record<string, unknown>, i: number): void {
    // With an `else`, branches may be left out: a conditional with only `else` is a plain jump.
    const hasElse = config.else !== undefined && config.else !== null;
    const branches = config.branches === undefined && hasElse ? [] : config.branches;
    const least = hasElse ? 0 : 1;
    if (!Array.isArray(branches) || branches.length < least || branches.length > MAX_BRANCHES) {
      this.error(i, "config.branches", `must be a list of ${least} to ${MAX_BRANCHES} branches {when, goto}`);
    } else {
      for (const [j, b] of branches.entries()) {
        const at = `config.branches[${j}]`;
        if (!isObject(b)) {
          this.error(i, at, "must be an object {when, goto}");
          continue;
        }
        const { when, goto } = b as Partial<Branch>;
        if (when === undefined) this.error(i, `${at}.when`, "is required: a JSON Logic rule");
        else {
          const checked = checkRule(when);
          if (checked.ok) {
            this.reads[i]?.push({
              field: `${at}.when`,
              vars: checked.vars,
              rule: true,
              presenceOnly: checked.presenceOnly,
            });
          } else this.error(i, `${at}.when`, checked.error);
        }
        this.target(goto, i, `${at}.goto`, false);
      }
    }
    if (config.else === undefined || config.else === null) this.edges[i]?.push({ to: i + 1, field: "" });
    else this.target(config.else, i, "config.else", true);
  }

  private target(goto: unknown, i: number, field: string, isElse: boolean): void {
    const what = isElse ? "else" : "goto";
    if (typeof goto !== "string") {
      this.error(i, field, `${what} must be a step key or "${END}"`);
    } else if (goto === END) {
      this.edges[i]?.push({ to: this.steps.length, field });
    } else {
      const to = this.keys.get(goto);
      if (to === undefined)
        this.error(i, field, `no step has the key "${goto}" (${what} names a step key or "${END}")`);
      else this.edges[i]?.push({ to, field });
    }
  }

  /**
   * A loop made only of messages and conditionals runs without waiting for anyone: an error. Found
   * as the strongly connected components of the graph without questions and delays; every loop
   * needs a backward jump, and only conditionals jump backwards, so the error names that jump.
   */
  private checkSpins(): void {
    const waits = (i: number) => this.steps[i]?.stepType === "question" || this.steps[i]?.stepType === "delay";
    const component = stronglyConnected(this.steps.length, (i) =>
      waits(i) ? [] : (this.edges[i] ?? []).map((e) => e.to).filter((to) => to < this.steps.length && !waits(to)),
    );
    this.edges.forEach((edges, i) => {
      if (waits(i)) return;
      const reported = new Set<string>();
      for (const e of edges) {
        if (e.to > i || e.to >= this.steps.length || component[e.to] !== component[i] || reported.has(e.field))
          continue;
        reported.add(e.field);
        const loop = component.flatMap((c, j) => (c === component[i] ? [this.steps[j]?.index ?? j] : []));
        this.error(
          i,
          e.field,
          `jumps back into a loop (steps ${loop.join(", ")}) with no question or delay on it: it would spin`,
        );
      }
    });
  }

  /**
   * Every answer a text or rule reads must be set by some question (error); one set only on some
   * paths to the reading step is a warning. "Set on every path" is a must-analysis (the greatest
   * fixpoint of IN(s) = ∩ OUT(p) over s's predecessors, IN(first step) = ∅), so loops and
   * branches are exact over the graph.
   */
  private checkAnswersSet(): void {
    const n = this.steps.length;
    for (let i = 0; i < n; i++) {
      for (const read of this.reads[i] ?? []) {
        const seen = new Set<string>();
        for (const path of read.vars) {
          const key = answerKeyOf(path, this.answerKeys);
          if (key === null || seen.has(key)) continue;
          seen.add(key);
          if (!this.answerKeys.has(key)) {
            this.error(i, read.field, `reads ${path}, but no question has answer_key "${key}"`);
          } else if (read.rule && key.includes(".")) {
            this.error(i, read.field, `a rule cannot read answer key "${key}": rule paths split on dots`);
          }
        }
      }
    }
    if (n === 0) return;
    const setOnEveryPath = mustSet(this.steps, this.edges);
    for (let i = 0; i < n; i++) {
      const set = setOnEveryPath[i];
      if (set === undefined) continue; // not reachable from the first step
      for (const read of this.reads[i] ?? []) {
        const warned = new Set<string>();
        for (const path of read.vars) {
          if (read.presenceOnly?.includes(path)) continue;
          const key = answerKeyOf(path, this.answerKeys);
          if (key === null || !this.answerKeys.has(key) || set.has(key) || warned.has(key)) continue;
          warned.add(key);
          const effect = read.rule ? "its comparisons are false" : "it renders empty";
          this.warnings.push({
            index: this.steps[i]?.index ?? i,
            field: read.field,
            message: `answers.${key} is set on some paths to this step only; where it is unset, ${effect}`,
          });
        }
      }
    }
  }
}

function urlProblem(url: unknown): string | null {
  if (typeof url !== "string" || url.length === 0) return "must be an https URL";
  if (url.length > MAX_BUTTON_URL) return `must be at most ${MAX_BUTTON_URL} characters`;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be an https URL";
  }
  if (parsed.protocol !== "https:" || parsed.hostname === "") return "must be an https URL";
  return null;
}

/** Tarjan's algorithm: the component number of each node (nodes in one component share it). */
function stronglyConnected(n: number, next: (i: number) => number[]): number[] {
  const index: number[] = new Array(n).fill(-1);
  const low: number[] = new Array(n).fill(0);
  const component: number[] = new Array(n).fill(-1);
  const stack: number[] = [];
  const onStack: boolean[] = new Array(n).fill(false);
  let counter = 0;
  let components = 0;
  const visit = (v: number): void => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = true;
    for (const w of next(v)) {
      if (index[w] === -1) {
        visit(w);
        low[v] = Math.min(low[v] as number, low[w] as number);
      } else if (onStack[w]) {
        low[v] = Math.min(low[v] as number, index[w] as number);
      }
    }
    if (low[v] === index[v]) {
      let w: number;
      do {
        w = stack.pop() as number;
        onStack[w] = false;
        component[w] = components;
      } while (w !== v);
      components++;
    }
  };
  for (let v = 0; v < n; v++) if (index[v] === -1) visit(v);
  return component;
}

/**
 * For each step reachable from the first, the answer keys set on every path that reaches it
 * (before the step runs: a question's own texts are rendered before its answer). Unreachable
 * steps are undefined.
 */
function mustSet(steps: readonly FlowStep[], edges: readonly Edge[][]): Array<Set<string> | undefined> {
  const n = steps.length;
  const setsHere = steps.map((s) =>
    s.stepType === "question" && typeof s.config.answer_key === "string" ? s.config.answer_key : null,
  );
  // undefined stands for "every key" (not reached yet), the top of the lattice. The first step is
  // entered with nothing set, whatever jumps back to it; sets only shrink, so this terminates.
  const inSets: Array<Set<string> | undefined> = new Array(n).fill(undefined);
  inSets[0] = new Set();
  const work = [0];
  while (work.length > 0) {
    const i = work.pop() as number;
    const out = new Set(inSets[i]);
    const key = setsHere[i];
    if (key !== null && key !== undefined) out.add(key);
    for (const { to } of edges[i] ?? []) {
      if (to >= n) continue;
      const before = inSets[to];
      const met = before === undefined ? out : new Set([...before].filter((k) => out.has(k)));
      if (before === undefined || met.size < before.size) {
        inSets[to] = met;
        if (!work.includes(to)) work.push(to);
      }
    }
  }
  return inSets;
}

export function checkFlow(steps: readonly FlowStep[]): { errors: FlowProblem[]; warnings: FlowProblem[] } {
  return new FlowCheck(steps).run();
}

/**
 * Where a conditional step goes for this data: the first branch whose rule holds, else its else
 * target, else the next step. `target` is a position in `steps` or "end" (past the last step is the
 * end too). A goto naming no step (steps written without checkFlow) ends the run rather than guess.
 */
export function nextIndexAfterConditional(
  steps: readonly Pick<FlowStep, "key" | "config">[],
  index: number,
  data: FlowData,
): { target: number | typeof END; branch: number | "else" | "next" } {
  const config = steps[index]?.config ?? {};
  const resolve = (goto: unknown): number | typeof END => {
    if (goto === END || typeof goto !== "string") return END;
    const to = steps.findIndex((s) => s.key === goto);
    return to === -1 ? END : to;
  };
  const branches = branchesOf(config);
  for (let j = 0; j < branches.length; j++) {
    const b = branches[j];
    if (isObject(b) && evaluateRule(b.when, data)) return { target: resolve(b.goto), branch: j };
  }
  if (config.else !== undefined && config.else !== null) return { target: resolve(config.else), branch: "else" };
  return { target: index + 1 < steps.length ? index + 1 : END, branch: "next" };
}
