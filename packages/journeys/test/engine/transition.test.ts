/**
 * transition(), rule by rule (SPEC §3 and §4's re-entry and blocked-user rules), on plain data: no
 * database, no clock but the one given. What persisting a result does is parity.test.ts's business.
 */
import { describe, expect, it } from "vitest";
import {
  ALREADY_IN_FLOW,
  EARLY_TOLERANCE_MS,
  pickDelayMs,
  questionWaitedOn,
  stepsInvalidated,
  textTaker,
  transition,
} from "../../src/engine/transition.ts";
import type { DelayRow, OutItem, TransitionResult } from "../../src/engine/types.ts";
import { validateAnswer } from "../../src/validation/index.ts";
import { clockAt, journey, session, T0, USER } from "./journeys.ts";

const MIN = 60_000;
const start = { type: "start", param: "p", user: USER } as const;
const text = (t: string) => ({ type: "text", text: t }) as const;
const fired = (row: Partial<DelayRow> = {}) =>
  ({ type: "delay_fired", delay: { id: "d1", stepId: "s2", status: "pending", scheduledFor: T0, ...row } }) as const;
/** What a change sends, as texts (a Bot API call other than sendMessage by its method). */
const texts = (items: readonly OutItem[]) => items.map((o) => (o.method === undefined ? o.text : o.method));
const only = (r: TransitionResult) => {
  expect(r.changes).toHaveLength(1);
  return r.changes[0]!;
};

const quiz = journey([
  { message: "Hi" },
  { question: "Age?", key: "age", validation: "number" },
  { question: "Name?", key: "name" },
  { delay: [10, 20] },
  { message: "Later" },
]);

describe("start", () => {
  it("a new session runs to the first question: messages and the question queued, in order", () => {
    const r = transition(quiz, null, start, clockAt());
    const c = only(r);
    expect(r.outcome).toBe("started");
    expect(c.kind).toBe("insert");
    expect(texts(c.outbox)).toEqual(["Hi", "Age?"]);
    expect(c.session).toMatchObject({
      id: "",
      journeyId: "j1",
      telegramUserId: 42,
      telegramChatId: 42,
      status: "active",
      currentStepId: "s2",
      answers: {},
      startedAt: T0,
      lastActivityAt: T0,
      completedAt: null,
    });
    expect(c.schedule).toEqual([]);
    expect(c.cancelPending).toBeNull();
    expect(r.happened.map((h) => h.kind)).toEqual(["session_started", "message_queued", "question_asked"]);
    expect(r.firedDelay).toBeNull();
  });

  it("a journey of messages completes at once; an empty one too", () => {
    const c = only(transition(journey([{ message: "A" }, { message: "B" }]), null, start, clockAt()));
    expect(texts(c.outbox)).toEqual(["A", "B"]);
    expect(c.session).toMatchObject({ status: "completed", currentStepId: null, completedAt: T0 });
    const empty = only(transition(journey([]), null, start, clockAt()));
    expect(texts(empty.outbox)).toEqual([]);
    expect(empty.session).toMatchObject({ status: "completed", completedAt: T0 });
  });

  it("a delay first: one delay row at now + the picked delay, the session waiting on it", () => {
    const j = journey([{ delay: [10, 20] }, { message: "After" }]);
    const r = transition(j, null, start, clockAt(T0, 0.25));
    const c = only(r);
    expect(c.session).toMatchObject({ status: "waiting_delay", currentStepId: "s1" });
    expect(c.schedule).toEqual([
      {
        stepId: "s1",
        scheduledFor: new Date(T0.getTime() + 12.5 * MIN),
        payload: { kind: "resume_after_delay", delay_minutes: 12.5 },
      },
    ]);
    expect(texts(c.outbox)).toEqual([]);
    expect(r.happened.at(-1)).toEqual({
      kind: "delay_scheduled",
      stepId: "s1",
      scheduledFor: c.schedule[0]!.scheduledFor,
      delayMs: 12.5 * MIN,
    });
  });

  it("removed steps are skipped; a conditional step is skipped and said so", () => {
    const j = journey([{ message: "Gone" }, { conditional: true }, { question: "Q?", key: "q" }], { removed: [1] });
    const r = transition(j, null, start, clockAt());
    expect(texts(only(r).outbox)).toEqual(["Q?"]);
    expect(r.happened).toContainEqual({ kind: "conditional_skipped", stepId: "s2", stepOrder: 2 });
    expect(r.happened.some((h) => h.kind === "message_queued")).toBe(false);
  });

  it("block: a live session is told it is in the flow and asked its question again; nothing created", () => {
    const live = session({ currentStepId: "s3" });
    const r = transition(quiz, live, start, clockAt());
    const c = only(r);
    expect(r.outcome).toBe("blocked");
    expect(c.kind).toBe("keep");
    expect(c.session).toEqual(live);
    expect(texts(c.outbox)).toEqual([ALREADY_IN_FLOW, "Name?"]);
    expect(r.happened).toEqual([{ kind: "reentry_blocked", policy: "block", sessionId: "sess-1" }]);
  });

  it("block during a delay: only the reminder (no question waits)", () => {
    const r = transition(quiz, session({ status: "waiting_delay", currentStepId: "s4" }), start, clockAt());
    expect(texts(only(r).outbox)).toEqual([ALREADY_IN_FLOW]);
  });

  it("the block reply is SPEC §3's text, word for word", () => {
    expect(ALREADY_IN_FLOW).toBe("You're already in this flow. Reply to continue.");
  });

  it("allow behaves as block, and says it is not supported yet", () => {
    const r = transition({ ...quiz, reEntryPolicy: "allow" }, session({ currentStepId: "s2" }), start, clockAt());
    expect(r.outcome).toBe("blocked");
    expect(texts(only(r).outbox)).toEqual([ALREADY_IN_FLOW, "Age?"]);
    expect(r.happened.map((h) => h.kind)).toEqual(["reentry_allow_unsupported", "reentry_blocked"]);
  });

  it("restart: the live session is cancelled with its pending rows, then a new one starts", () => {
    const live = session({ currentStepId: "s3", answers: { age: 30 } });
    const r = transition({ ...quiz, reEntryPolicy: "restart" }, live, start, clockAt());
    expect(r.outcome).toBe("started");
    const [old, fresh] = r.changes;
    expect(old).toMatchObject({ kind: "update", cancelPending: "restarted", outbox: [] });
    expect(old!.session).toMatchObject({ id: "sess-1", status: "cancelled", lastActivityAt: T0, answers: { age: 30 } });
    expect(fresh).toMatchObject({ kind: "insert", outbox: [{ text: "Hi" }, { text: "Age?" }] });
    expect(fresh!.session).toMatchObject({ answers: {}, currentStepId: "s2" });
    expect(r.happened.slice(0, 2)).toEqual([
      { kind: "session_cancelled", sessionId: "sess-1", reason: "restarted" },
      { kind: "session_started", replacedSessionId: "sess-1" },
    ]);
  });
});

describe("text", () => {
  const onAge = session({ currentStepId: "s2", answers: { earlier: "x" } });

  it("a valid answer is stored normalised and the run goes on to the next question", () => {
    const r = transition(quiz, onAge, text(" 41 "), clockAt());
    const c = only(r);
    expect(r.outcome).toBe("accepted");
    expect(c.kind).toBe("update");
    expect(c.answersSet).toEqual({ age: 41 });
    expect(c.session).toMatchObject({
      answers: { earlier: "x", age: 41 },
      currentStepId: "s3",
      status: "active",
      lastActivityAt: T0,
    });
    expect(texts(c.outbox)).toEqual(["Name?"]);
    expect(r.happened.map((h) => h.kind)).toEqual(["answer_stored", "question_asked"]);
  });

  it("an invalid answer re-prompts with the validator's message and stays", () => {
    const r = transition(quiz, onAge, text("old"), clockAt());
    const c = only(r);
    const expected = validateAnswer("number", "old");
    expect(expected.ok).toBe(false);
    expect(r.outcome).toBe("invalid");
    expect(texts(c.outbox)).toEqual([(expected as { error: string }).error]);
    expect(c.answersSet).toEqual({});
    expect(c.session).toEqual({ ...onAge, lastActivityAt: T0 });
    expect(r.happened).toEqual([{ kind: "answer_invalid", stepId: "s2", answerKey: "age", validation: "number" }]);
  });

  it("a question's error_text overrides the validator's message", () => {
    const j = journey([{ question: "Age?", key: "age", validation: "number", error_text: "Digits, please" }]);
    expect(texts(only(transition(j, session({ currentStepId: "s1" }), text("x"), clockAt())).outbox)).toEqual([
      "Digits, please",
    ]);
  });

  it("the last answer completes the session; a delay after it is scheduled", () => {
    const last = only(
      transition(journey([{ question: "Q?", key: "q" }]), session({ currentStepId: "s1" }), text("a"), clockAt()),
    );
    expect(last.session).toMatchObject({
      status: "completed",
      currentStepId: null,
      completedAt: T0,
      answers: { q: "a" },
    });
    const toDelay = only(transition(quiz, session({ currentStepId: "s3" }), text("Ann"), clockAt(T0, 0)));
    expect(toDelay.session).toMatchObject({ status: "waiting_delay", currentStepId: "s4" });
    expect(toDelay.schedule.map((s) => s.scheduledFor)).toEqual([new Date(T0.getTime() + 10 * MIN)]);
  });

  it.each([
    ["no session", null],
    [
      "waiting on a delay, already told so",
      session({ status: "waiting_delay", currentStepId: "s4", context: { waiting_acked: true } }),
    ],
    ["completed", session({ status: "completed", currentStepId: null })],
    ["cancelled on a question", session({ status: "cancelled", currentStepId: "s2" })],
    ["active on a message step", session({ currentStepId: "s1" })],
    ["on no step", session({ currentStepId: null })],
    ["on a step of another journey", session({ currentStepId: "elsewhere" })],
  ])("changes nothing for a session that waits on no question: %s", (_, s) => {
    expect(transition(quiz, s, text("41"), clockAt())).toEqual({
      outcome: "not_waiting",
      changes: [],
      firedDelay: null,
      happened: [],
    });
  });

  it("a question that was removed takes no answer", () => {
    const j = journey([{ question: "Q?", key: "q" }], { removed: [1] });
    expect(transition(j, session({ currentStepId: "s1" }), text("a"), clockAt()).outcome).toBe("not_waiting");
  });
});

describe("delay fired", () => {
  const waiting = session({ status: "waiting_delay", currentStepId: "s2" });
  const j = journey([{ message: "Before" }, { delay: [1, 1] }, { question: "Back! Q?", key: "q" }]);

  it("the row is sent, the session active again and run on from the step after the delay", () => {
    const r = transition(j, waiting, fired({ scheduledFor: new Date(T0.getTime() - 250) }), clockAt());
    const c = only(r);
    expect(r.outcome).toBe("resumed");
    expect(r.firedDelay).toEqual({ id: "d1", status: "sent", error: null });
    expect(c.session).toMatchObject({ status: "active", currentStepId: "s3", lastActivityAt: T0 });
    expect(texts(c.outbox)).toEqual(["Back! Q?"]);
    expect(r.happened[0]).toEqual({ kind: "delay_fired", scheduledMessageId: "d1", lateMs: 250 });
  });

  it("a delay as the last step completes the session when it fires", () => {
    const c = only(
      transition(
        journey([{ delay: [1, 2] }]),
        session({ status: "waiting_delay", currentStepId: "s1" }),
        fired({ stepId: "s1" }),
        clockAt(),
      ),
    );
    expect(c.session).toMatchObject({ status: "completed", completedAt: T0 });
  });

  it.each(["sent", "failed", "cancelled"] as const)("a row already %s changes nothing", (status) => {
    expect(transition(j, waiting, fired({ status }), clockAt())).toEqual({
      outcome: "not_pending",
      changes: [],
      firedDelay: null,
      happened: [],
    });
  });

  it("too early (beyond the tolerance) changes nothing; at the tolerance it fires", () => {
    const early = fired({ scheduledFor: new Date(T0.getTime() + EARLY_TOLERANCE_MS + 1) });
    expect(transition(j, waiting, early, clockAt()).outcome).toBe("early");
    const atTolerance = fired({ scheduledFor: new Date(T0.getTime() + EARLY_TOLERANCE_MS) });
    expect(transition(j, waiting, atTolerance, clockAt()).outcome).toBe("resumed");
  });

  it.each([
    ["active", session({ status: "active", currentStepId: "s3" })],
    ["waiting on another delay", session({ status: "waiting_delay", currentStepId: "s9" })],
    ["cancelled", session({ status: "cancelled", currentStepId: "s2" })],
  ])("a session no longer waiting on it (%s): the row fails, the session stays", (_, s) => {
    const r = transition(j, s, fired(), clockAt());
    expect(r.outcome).toBe("session_not_waiting");
    expect(r.changes).toEqual([]);
    expect(r.firedDelay).toEqual({
      id: "d1",
      status: "failed",
      error: `session is ${s.status}, not waiting on this delay`,
    });
    expect(r.happened).toEqual([{ kind: "delay_not_waited_on", scheduledMessageId: "d1", sessionStatus: s.status }]);
  });
});

describe("user blocked and steps replaced", () => {
  it("a user who blocked the bot has a live session cancelled with its pending rows", () => {
    for (const source of ["kicked", "send_forbidden"] as const) {
      const r = transition(quiz, session({ currentStepId: "s2" }), { type: "user_blocked", source }, clockAt());
      expect(only(r)).toMatchObject({ kind: "update", cancelPending: "user blocked the bot", outbox: [] });
      expect(only(r).session).toMatchObject({ status: "cancelled", lastActivityAt: T0 });
    }
    const done = session({ status: "completed" });
    expect(transition(quiz, done, { type: "user_blocked", source: "kicked" }, clockAt()).changes).toEqual([]);
  });

  const before = quiz.steps;
  it.each([
    ["removed", { ...quiz, steps: before.map((s) => (s.id === "s2" ? { ...s, removed: true } : s)) }, true],
    ["deleted", { ...quiz, steps: before.filter((s) => s.id !== "s2") }, true],
    [
      "changed type",
      { ...quiz, steps: before.map((s) => (s.id === "s2" ? { ...s, stepType: "message" as const } : s)) },
      true,
    ],
    [
      "given a new text",
      { ...quiz, steps: before.map((s) => (s.id === "s2" ? { ...s, config: { ...s.config, text: "New?" } } : s)) },
      false,
    ],
  ])("a session standing on a step %s: cancelled = %s", (_, after, cancelled) => {
    const r = transition(after, session({ currentStepId: "s2" }), { type: "steps_replaced", before }, clockAt());
    expect(r.outcome).toBe(cancelled ? "cancelled" : "unchanged");
    if (cancelled) expect(only(r).cancelPending).toBe("step_removed_or_changed");
  });

  it("a session standing elsewhere, or not live, is left alone", () => {
    const after = { ...quiz, steps: before.map((s) => (s.id === "s2" ? { ...s, removed: true } : s)) };
    const event = { type: "steps_replaced", before } as const;
    expect(transition(after, session({ currentStepId: "s3" }), event, clockAt()).changes).toEqual([]);
    expect(transition(after, session({ currentStepId: "s2", status: "completed" }), event, clockAt()).changes).toEqual(
      [],
    );
    expect(transition(after, null, event, clockAt()).changes).toEqual([]);
  });

  it("stepsInvalidated names removed, deleted and retyped steps only", () => {
    const after = [
      { ...before[0]!, config: { text: "Hello" } },
      { ...before[1]!, removed: true },
      { ...before[2]!, stepType: "delay" as const },
      before[3]!,
    ];
    expect([...stepsInvalidated(before, after)].sort()).toEqual(["s2", "s3", "s5"]);
  });
});

describe("events without a session to act on", () => {
  const nothing = (outcome: string) => ({ outcome, changes: [], firedDelay: null, happened: [] });
  it.each([
    ["a text, no session", null, text("41"), "not_waiting"],
    ["a fired delay, no session", null, fired(), "not_pending"],
    ["a block, no session", null, { type: "user_blocked", source: "kicked" } as const, "unchanged"],
    [
      "a block, session completed",
      session({ status: "completed" }),
      { type: "user_blocked", source: "kicked" } as const,
      "unchanged",
    ],
    [
      "a block, session cancelled",
      session({ status: "cancelled", currentStepId: "s2" }),
      { type: "user_blocked", source: "send_forbidden" } as const,
      "unchanged",
    ],
    ["steps replaced, no session", null, { type: "steps_replaced", before: [] } as const, "unchanged"],
  ])("%s: nothing changes, and the outcome says why", (_, s, event, outcome) => {
    expect(transition(quiz, s, event, clockAt())).toEqual(nothing(outcome));
  });
});

describe("what happened, in order", () => {
  const waitingOn = (step: string) => session({ status: "waiting_delay", currentStepId: step });
  it.each([
    [
      "messages only",
      journey([{ message: "A" }, { message: "B" }]),
      null,
      start,
      ["session_started", "message_queued", "message_queued", "session_completed"],
    ],
    ["an empty journey", journey([]), null, start, ["session_started", "session_completed"]],
    [
      "the last answer",
      journey([{ question: "Q?", key: "q" }]),
      session({ currentStepId: "s1" }),
      text("a"),
      ["answer_stored", "session_completed"],
    ],
    [
      "a last delay fired",
      journey([{ delay: [1, 2] }]),
      waitingOn("s1"),
      fired({ stepId: "s1" }),
      ["delay_fired", "session_completed"],
    ],
    [
      "a delay fired onto a message",
      journey([{ delay: [1, 2] }, { message: "M" }]),
      waitingOn("s1"),
      fired({ stepId: "s1" }),
      ["delay_fired", "message_queued", "session_completed"],
    ],
  ])("%s", (_, j, s, event, kinds) => {
    expect(transition(j, s, event, clockAt()).happened.map((h) => h.kind)).toEqual(kinds);
  });

  it("session_completed carries nothing but its kind", () => {
    const r = transition(journey([{ message: "A" }]), null, start, clockAt());
    expect(r.happened.at(-1)).toEqual({ kind: "session_completed" });
  });
});

describe("helpers", () => {
  it("textTaker picks the first live session that waits on a question", () => {
    const a = { journey: quiz, session: session({ id: "a", status: "waiting_delay", currentStepId: "s4" }) };
    const b = { journey: quiz, session: session({ id: "b", currentStepId: "s3" }) };
    const c = { journey: quiz, session: session({ id: "c", currentStepId: "s2" }) };
    expect(textTaker([a, b, c])).toBe(b);
    expect(textTaker([a])).toBeUndefined();
    expect(questionWaitedOn(quiz, c.session)?.id).toBe("s2");
  });

  it("pickDelayMs is uniform over [min, max] minutes, to the millisecond", () => {
    const config = { min_minutes: 1.5, max_minutes: 3 };
    expect(pickDelayMs(config, () => 0)).toBe(90_000);
    expect(pickDelayMs(config, () => 0.5)).toBe(135_000);
    expect(pickDelayMs(config, () => 0.9999999)).toBe(180_000);
    expect(pickDelayMs({ min_minutes: 5, max_minutes: 5 }, () => 0.7)).toBe(300_000);
  });

  it("is pure: the same inputs give equal results, and the inputs are not changed", () => {
    const s = Object.freeze(session({ currentStepId: "s2", answers: Object.freeze({ a: 1 }) }));
    const frozen = Object.freeze({ ...quiz, steps: Object.freeze(quiz.steps.map((x) => Object.freeze(x))) });
    const one = transition(frozen, s, text("41"), clockAt());
    const two = transition(frozen, s, text("41"), clockAt());
    expect(one).toEqual(two);
    expect(s.answers).toEqual({ a: 1 });
  });
});
