/**
 * transition() over random journeys and random event sequences (fast-check), its results applied to
 * an in-memory copy of the tables the way the applier applies them. After every event:
 * - at most one live session per user and journey;
 * - an answer is stored only from a valid input, normalised, under the key of the question waited on;
 * - a waiting_delay session has exactly one pending delay row, for the step it stands on;
 * - no outbox text is over Telegram's 4096 characters;
 * - a delay row is settled (sent or failed) once, never fired twice;
 * - the run ends (every transition returns; the step budget of a run is the journey's length).
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { isLive, questionWaitedOn, stepsInvalidated, textTaker, transition } from "../../src/engine/transition.ts";
import type { EngineEvent, JourneyDef, SessionState, StepDef } from "../../src/engine/types.ts";
import { MAX_TEXT_LENGTH } from "../../src/step-config.ts";
import { type ValidationKind, validateAnswer } from "../../src/validation/index.ts";

const VALIDATIONS: ValidationKind[] = ["number", "text", "country", "money"];
const ANSWERS = ["41", "abc", "", "  ", "germany", "DE", "$1,000", "1k", "€250.50", "-3", "1e400", "x".repeat(5000)];

const stepSpec = fc.oneof(
  fc.record({ stepType: fc.constant("message" as const), text: fc.string({ maxLength: 30 }) }),
  fc.record({
    stepType: fc.constant("question" as const),
    text: fc.string({ minLength: 1, maxLength: 30 }),
    validation: fc.constantFrom(...VALIDATIONS),
    key: fc.constantFrom("a", "b", "c"),
  }),
  fc.record({
    stepType: fc.constant("delay" as const),
    min: fc.integer({ min: 0, max: 60 }),
    span: fc.integer({ min: 0, max: 60 }),
  }),
  fc.record({ stepType: fc.constant("conditional" as const) }),
);
type Spec = typeof stepSpec extends fc.Arbitrary<infer S> ? S : never;

/** Steps by position, as PUT …/steps keeps them: ids stable per position, the ones past the end removed. */
function stepsOf(specs: Spec[], previous: readonly StepDef[] = []): StepDef[] {
  const live: StepDef[] = specs.map((spec, i) => {
    const base = { id: `s${i + 1}`, stepOrder: i + 1, removed: false };
    switch (spec.stepType) {
      case "message":
        return { ...base, stepType: "message", config: { text: spec.text || "." } };
      case "question":
        return {
          ...base,
          stepType: "question",
          config: { text: spec.text, answer_key: spec.key, validation: spec.validation },
        };
      case "delay":
        return { ...base, stepType: "delay", config: { min_minutes: spec.min, max_minutes: spec.min + spec.span } };
      default:
        return { ...base, stepType: "conditional", config: {} };
    }
  });
  const gone = previous.filter((s) => s.stepOrder > specs.length).map((s) => ({ ...s, removed: true }));
  return [...live, ...gone];
}

const event = fc.oneof(
  fc.record({ kind: fc.constant("start" as const), user: fc.constantFrom(1, 2) }),
  fc.record({
    kind: fc.constant("text" as const),
    user: fc.constantFrom(1, 2),
    text: fc.oneof(fc.constantFrom(...ANSWERS), fc.string()),
  }),
  fc.record({ kind: fc.constant("fire" as const), pick: fc.nat(), earlyMs: fc.constantFrom(0, 0, 5000) }),
  fc.record({ kind: fc.constant("block" as const), user: fc.constantFrom(1, 2) }),
  fc.record({ kind: fc.constant("replace" as const), steps: fc.array(stepSpec, { maxLength: 8 }) }),
);

interface Tables {
  sessions: SessionState[];
  delays: { id: string; sessionId: string; stepId: string; status: string; scheduledFor: Date }[];
  outbox: { sessionId: string; text: string; status: string }[];
}

describe("transition() over random journeys and events", () => {
  it("keeps its invariants", () => {
    fc.assert(
      fc.property(
        fc.array(stepSpec, { maxLength: 10 }),
        fc.constantFrom("block", "restart", "allow" as const),
        fc.array(event, { maxLength: 25 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (specs, policy, events, random) => {
          let journey: JourneyDef = { id: "j", reEntryPolicy: policy, steps: stepsOf(specs) };
          const t: Tables = { sessions: [], delays: [], outbox: [] };
          let now = new Date("2026-12-04T12:00:00Z");
          let ids = 0;
          /** Writes a result as the applier does; `stored` is what it may store (nothing but for an answer). */
          const apply = (result: ReturnType<typeof transition>, stored: Record<string, unknown> = {}) => {
            for (const c of result.changes) {
              expect(c.answersSet).toEqual(c.kind === "insert" ? {} : stored);
              if (c.kind === "insert") {
                const s = { ...c.session, id: `x${++ids}` };
                t.sessions.push(s);
                c.session = s;
              } else if (c.kind === "update") {
                t.sessions = t.sessions.map((s) => (s.id === c.session.id ? c.session : s));
              }
              if (c.cancelPending) {
                for (const d of t.delays)
                  if (d.sessionId === c.session.id && d.status === "pending") d.status = "cancelled";
                for (const o of t.outbox)
                  if (o.sessionId === c.session.id && o.status === "pending") o.status = "cancelled";
              }
              for (const m of c.outbox)
                t.outbox.push({
                  sessionId: c.session.id,
                  text: m.method === undefined ? m.text : m.method,
                  status: "pending",
                });
              for (const r of c.schedule) {
                t.delays.push({
                  id: `d${++ids}`,
                  sessionId: c.session.id,
                  stepId: r.stepId,
                  status: "pending",
                  scheduledFor: r.scheduledFor,
                });
              }
            }
            if (result.firedDelay) {
              const row = t.delays.find((d) => d.id === result.firedDelay!.id)!;
              expect(row.status).toBe("pending"); // a delay row is settled once: never fired twice
              row.status = result.firedDelay.status;
            }
          };
          for (const e of events) {
            const clock = { now, random: () => random };
            const liveOf = (user: number) => t.sessions.filter((s) => s.telegramUserId === user && isLive(s));
            switch (e.kind) {
              case "start":
                apply(
                  transition(
                    journey,
                    liveOf(e.user)[0] ?? null,
                    { type: "start", param: "p", user: { id: e.user, chatId: e.user } },
                    clock,
                  ),
                );
                break;
              case "text": {
                const taker = textTaker(liveOf(e.user).map((session) => ({ journey, session })));
                const r = transition(
                  journey,
                  taker?.session ?? null,
                  { type: "text", text: e.text } as EngineEvent,
                  clock,
                );
                if (!taker) expect(r.changes).toEqual([]);
                // Stored only from a valid input, normalised, under the key of the question waited on.
                const q = taker ? questionWaitedOn(journey, taker.session) : null;
                const v = q ? validateAnswer(q.config.validation as ValidationKind, e.text) : null;
                apply(r, q && v?.ok ? { [String(q.config.answer_key)]: v.value } : {});
                break;
              }
              case "fire": {
                if (t.delays.length === 0) break;
                const row = t.delays[e.pick % t.delays.length]!;
                const at = new Date(row.scheduledFor.getTime() - e.earlyMs);
                if (at > now) now = at;
                const s = t.sessions.find((x) => x.id === row.sessionId)!;
                apply(
                  transition(
                    journey,
                    s,
                    { type: "delay_fired", delay: { ...row, status: row.status as "pending" } },
                    { now, random: () => random },
                  ),
                );
                break;
              }
              case "block":
                for (const s of liveOf(e.user))
                  apply(transition(journey, s, { type: "user_blocked", source: "kicked" }, clock));
                break;
              case "replace": {
                const before = journey.steps;
                journey = { ...journey, steps: stepsOf(e.steps, before) };
                const hit = stepsInvalidated(before, journey.steps);
                for (const s of t.sessions.filter((x) => isLive(x) && x.currentStepId && hit.has(x.currentStepId))) {
                  apply(transition(journey, s, { type: "steps_replaced", before }, clock));
                }
                break;
              }
            }
            // Invariants.
            for (const user of [1, 2]) expect(liveOf(user).length).toBeLessThanOrEqual(1);
            for (const s of t.sessions.filter((x) => x.status === "waiting_delay")) {
              const pending = t.delays.filter((d) => d.sessionId === s.id && d.status === "pending");
              expect(pending).toHaveLength(1);
              expect(pending[0]!.stepId).toBe(s.currentStepId);
            }
            for (const o of t.outbox) expect(o.text.length).toBeLessThanOrEqual(MAX_TEXT_LENGTH);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
