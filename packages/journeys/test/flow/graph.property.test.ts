/**
 * Property tests of checkFlow over random branching journeys, each against an oracle written
 * another way: loops that would spin (transitive closure instead of strongly connected components),
 * answers set on some paths only (a search for one path that avoids every question setting the key,
 * instead of the fixpoint), and nextIndexAfterConditional (a journey checkFlow accepts, run from any
 * step with any answers, always reaches a question, a delay or the end within as many hops as it
 * has steps).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { questionWaitedOn, transition } from "../../src/engine/transition.ts";
import type { JourneyDef, SessionState } from "../../src/engine/types.ts";
import type { FlowData } from "../../src/flow/data.ts";
import { checkFlow, type FlowStep, nextIndexAfterConditional } from "../../src/flow/graph.ts";

const ANSWER_KEYS = ["x", "y"] as const;
const MAX_STEPS = 8;

/** A rule over one answer, or a constant. */
const ruleArb = fc.oneof(
  fc.constantFrom(true, false),
  fc.record({ key: fc.constantFrom(...ANSWER_KEYS), n: fc.integer({ min: 0, max: 10 }) }).map(({ key, n }) => ({
    "<": [{ var: `answers.${key}` }, n],
  })),
);

/** Jump targets: a step position (turned into its key) or the end. */
const targetArb = fc.oneof(fc.constant<"end">("end"), fc.integer({ min: 0, max: MAX_STEPS - 1 }));

type Target = number | "end";
type StepSpec =
  | { type: "message"; reads?: string }
  | { type: "question"; key: string }
  | { type: "delay" }
  | { type: "conditional"; branches: { when: unknown; goto: Target }[]; else?: Target };

const stepArb: fc.Arbitrary<StepSpec> = fc.oneof(
  fc.record({
    type: fc.constant("message" as const),
    reads: fc.option(fc.constantFrom(...ANSWER_KEYS), { nil: undefined }),
  }),
  fc.record({ type: fc.constant("question" as const), key: fc.constantFrom(...ANSWER_KEYS) }),
  fc.record({ type: fc.constant("delay" as const) }),
  fc.record({
    type: fc.constant("conditional" as const),
    branches: fc.array(fc.record({ when: ruleArb, goto: targetArb }), { minLength: 1, maxLength: 3 }),
    else: fc.option(targetArb, { nil: undefined }),
  }),
);

/** Every step gets the key s<position>; targets past the last step become "end". */
function build(specs: StepSpec[]): FlowStep[] {
  const target = (t: Target) => (t === "end" || t >= specs.length ? "end" : `s${t}`);
  return specs.map((s, index): FlowStep => {
    const key = `s${index}`;
    switch (s.type) {
      case "message":
        return { index, key, stepType: "message", config: { text: s.reads ? `{{ answers.${s.reads} }}` : "Hi" } };
      case "question":
        return { index, key, stepType: "question", config: { text: "?", answer_key: s.key, validation: "number" } };
      case "delay":
        return { index, key, stepType: "delay", config: { min_minutes: 1, max_minutes: 1 } };
      default:
        return {
          index,
          key,
          stepType: "conditional",
          config: {
            branches: s.branches.map((b) => ({ when: b.when, goto: target(b.goto) })),
            ...(s.else === undefined ? {} : { else: target(s.else) }),
          },
        };
    }
  });
}

const journeyArb = fc.array(stepArb, { minLength: 1, maxLength: MAX_STEPS }).map(build);

/** Every place a step can go next (n = the end), as the flow rules say. */
function successors(steps: FlowStep[], i: number): number[] {
  const n = steps.length;
  const step = steps[i] as FlowStep;
  const at = (t: unknown) => (t === "end" ? n : steps.findIndex((s) => s.key === t));
  if (step.stepType !== "conditional") return [i + 1];
  const out = (step.config.branches as { goto: string }[]).map((b) => at(b.goto));
  out.push(step.config.else === undefined ? i + 1 : at(step.config.else));
  return out;
}

const waits = (s: FlowStep | undefined) => s?.stepType === "question" || s?.stepType === "delay";

/** Steps that can come back to themselves through messages and conditionals alone. */
function spinningSteps(steps: FlowStep[]): Set<number> {
  const n = steps.length;
  const reach = steps.map(
    (_, i) => new Set(waits(steps[i]) ? [] : successors(steps, i).filter((j) => j < n && !waits(steps[j]))),
  );
  for (let k = 0; k < n; k++) {
    for (let i = 0; i < n; i++) if (reach[i]?.has(k)) for (const j of reach[k] ?? []) reach[i]?.add(j);
  }
  return new Set(steps.map((_, i) => i).filter((i) => reach[i]?.has(i)));
}

/** Whether some path from the first step enters `target` with no question for `key` run before it. */
function reachableWithout(steps: FlowStep[], key: string, target: number): boolean {
  const seen = new Set<number>([0]);
  const queue = [0];
  while (queue.length > 0) {
    const i = queue.shift() as number;
    if (i === target) return true;
    const step = steps[i] as FlowStep;
    if (step.stepType === "question" && step.config.answer_key === key) continue; // leaving it sets the key
    for (const j of successors(steps, i)) {
      if (j < steps.length && !seen.has(j)) {
        seen.add(j);
        queue.push(j);
      }
    }
  }
  return false;
}

function reachable(steps: FlowStep[]): Set<number> {
  const seen = new Set<number>([0]);
  const queue = [0];
  while (queue.length > 0) {
    for (const j of successors(steps, queue.shift() as number)) {
      if (j < steps.length && !seen.has(j)) {
        seen.add(j);
        queue.push(j);
      }
    }
  }
  return seen;
}

describe("checkFlow over random journeys", () => {
  it("refuses a journey exactly when a loop of messages and conditionals exists, naming a step on it", () => {
    fc.assert(
      fc.property(journeyArb, (steps) => {
        const spinning = spinningSteps(steps);
        const spinErrors = checkFlow(steps).errors.filter((e) => e.message.includes("it would spin"));
        expect(spinErrors.length > 0).toBe(spinning.size > 0);
        for (const e of spinErrors) expect(spinning.has(e.index)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it("reports no error other than spins (every key and target exists) and never throws", () => {
    fc.assert(
      fc.property(journeyArb, (steps) => {
        const defined = new Set(steps.flatMap((s) => (s.stepType === "question" ? [s.config.answer_key] : [])));
        const { errors } = checkFlow(steps);
        for (const e of errors) {
          if (!e.message.includes("it would spin")) expect(e.message).toMatch(/no question has answer_key/);
          if (e.message.includes("no question has answer_key")) {
            expect(defined.has(/answer_key "(\w+)"/.exec(e.message)?.[1])).toBe(false);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("warns exactly where a read answer may be unset: some path reaches the step around every question that sets it", () => {
    fc.assert(
      fc.property(journeyArb, (steps) => {
        const defined = new Set(steps.flatMap((s) => (s.stepType === "question" ? [s.config.answer_key] : [])));
        const live = reachable(steps);
        const expected: string[] = [];
        for (const s of steps) {
          if (!live.has(s.index)) continue;
          // [field, answer key read there]: a message's text, or each branch's rule.
          const reads: [string, string | undefined][] =
            s.stepType === "message"
              ? [["config.text", /answers\.(\w)/.exec(String(s.config.text))?.[1]]]
              : s.stepType === "conditional"
                ? (s.config.branches as { when: unknown }[]).map((b, j) => [
                    `config.branches[${j}].when`,
                    /answers\.(\w)/.exec(JSON.stringify(b.when))?.[1],
                  ])
                : [];
          for (const [field, key] of reads) {
            if (key === undefined || !defined.has(key) || !reachableWithout(steps, key, s.index)) continue;
            expected.push(`${s.index}:${field}:${key}`);
          }
        }
        const { warnings } = checkFlow(steps);
        const got = warnings.map((w) => `${w.index}:${w.field}:${/answers\.(\w)/.exec(w.message)?.[1]}`);
        expect(got.sort()).toEqual(expected.sort());
      }),
      { numRuns: 2000 },
    );
  });

  it("a journey it accepts never spins: from any step, any answers, a question, a delay or the end comes within n hops", () => {
    const answersArb = fc.record(
      { x: fc.integer({ min: -2, max: 12 }), y: fc.integer({ min: -2, max: 12 }) },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(journeyArb, answersArb, fc.nat(), (steps, answers, start) => {
        fc.pre(checkFlow(steps).errors.length === 0);
        const data: FlowData = { answers, user: {}, trigger: {} };
        let at: number | "end" = start % steps.length;
        for (let hops = 0; hops <= steps.length; hops++) {
          if (at === "end" || at >= steps.length || waits(steps[at])) return;
          at = steps[at]?.stepType === "conditional" ? nextIndexAfterConditional(steps, at, data).target : at + 1;
        }
        throw new Error(`ran ${steps.length + 1} hops without waiting from step ${start % steps.length}`);
      }),
      { numRuns: 2000 },
    );
  });

  it("transition() runs a journey it accepts to a question, a delay or the end, whatever the answers", () => {
    const clock = { now: new Date("2026-12-04T12:00:00Z"), random: () => 0.5 };
    fc.assert(
      fc.property(journeyArb, fc.array(fc.integer({ min: -2, max: 12 }), { maxLength: 12 }), (steps, replies) => {
        fc.pre(checkFlow(steps).errors.length === 0);
        const journey: JourneyDef = {
          id: "j",
          reEntryPolicy: "block",
          steps: steps.map((st) => ({
            id: `id${st.index}`,
            stepOrder: st.index + 1,
            stepType: st.stepType,
            config: st.config,
            removed: false,
            key: st.key ?? null,
          })),
        };
        const settled = (r: ReturnType<typeof transition>): SessionState | null => {
          expect(r.happened.some((h) => h.kind === "run_stopped" || h.kind === "render_failed")).toBe(false);
          const s = r.changes.at(-1)?.session ?? null;
          if (s) {
            const waitsNow = questionWaitedOn(journey, s) !== null || s.status === "waiting_delay";
            expect(waitsNow || s.status === "completed").toBe(true);
          }
          return s;
        };
        let s = settled(transition(journey, null, { type: "start", param: "p", user: { id: 1, chatId: 1 } }, clock));
        for (const reply of replies) {
          if (!s || s.status === "completed") return;
          if (s.status === "waiting_delay" && s.currentStepId) {
            const delay = { id: "d", stepId: s.currentStepId, status: "pending" as const, scheduledFor: clock.now };
            s = settled(transition(journey, s, { type: "delay_fired", delay }, clock)) ?? s;
          } else {
            s = settled(transition(journey, s, { type: "text", text: String(reply) }, clock)) ?? s;
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
