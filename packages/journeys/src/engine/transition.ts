/**
 * The engine: every rule of SPEC §3 (and §4's re-entry and blocked-user rules) in one pure function.
 * `transition(journey, session, event, clock)` reads nothing and writes nothing; it returns what the
 * session becomes, the messages and delay rows to write, what to cancel and what happened. The
 * locking transaction and the lock-free statement (repo/applier.ts) both persist that result and
 * decide nothing themselves; test/engine/parity.test.ts checks that they leave the same rows.
 */
import { LIVE_STATUSES } from "../db/schema.ts";
import { type ValidationKind, validateAnswer } from "../validation/index.ts";
import type {
  Clock,
  EngineEvent,
  Happening,
  JourneyDef,
  ScheduleRow,
  SessionChange,
  SessionState,
  StepDef,
  TelegramUser,
  TransitionResult,
} from "./types.ts";

export const ALREADY_IN_FLOW = "You're already in this flow. Reply to continue.";
/**
 * A delay job that runs more than this before its row's scheduled_for is early — the enqueuing host's
 * clock differs, or an operator moved the row later — and is put back to wait, not fired.
 */
export const EARLY_TOLERANCE_MS = 1000;
export const CANCEL_REASONS = {
  restarted: "restarted",
  blocked: "user blocked the bot",
  stepsReplaced: "step_removed_or_changed",
} as const;

/** Whether a session is live (see LIVE_STATUSES: at most one per journey and user). */
export const isLive = (s: Pick<SessionState, "status">) => (LIVE_STATUSES as readonly string[]).includes(s.status);

export function transition(
  journey: JourneyDef,
  session: SessionState | null,
  event: EngineEvent,
  clock: Clock,
): TransitionResult {
  switch (event.type) {
    case "start":
      return start(journey, session, event.user, clock);
    case "text":
      return session ? answer(journey, session, event.text, clock) : unchanged("not_waiting");
    case "delay_fired":
      return session ? delayFired(journey, session, event.delay, clock) : unchanged("not_pending");
    case "user_blocked":
      return session ? cancel(session, CANCEL_REASONS.blocked, clock) : unchanged("unchanged");
    case "steps_replaced": {
      const affected = stepsInvalidated(event.before, journey.steps);
      if (!session?.currentStepId || !affected.has(session.currentStepId)) return unchanged("unchanged");
      return cancel(session, CANCEL_REASONS.stepsReplaced, clock);
    }
  }
}

/**
 * The question `session` waits on, if it waits on one: it is active, stands on a question of its
 * journey, and that step was not removed. A text goes to the first live session for which this holds.
 */
export function questionWaitedOn(journey: JourneyDef, session: SessionState): StepDef | null {
  if (session.status !== "active" || session.currentStepId === null) return null;
  const step = journey.steps.find((s) => s.id === session.currentStepId);
  return step && step.stepType === "question" && !step.removed ? step : null;
}

/**
 * Steps whose sessions a replacement of the steps invalidates (ids are kept by position): a step
 * removed, or one whose type changed — its position no longer means what it meant.
 */
export function stepsInvalidated(before: readonly StepDef[], after: readonly StepDef[]): Set<string> {
  const now = new Map(after.map((s) => [s.id, s]));
  const out = new Set<string>();
  for (const old of before) {
    const kept = now.get(old.id);
    if (!kept || kept.removed || kept.stepType !== old.stepType) out.add(old.id);
  }
  return out;
}

/** A random delay in [min, max] minutes, uniformly distributed, in milliseconds. */
export function pickDelayMs(config: Record<string, unknown>, random: () => number): number {
  const min = Number(config.min_minutes);
  const max = Number(config.max_minutes);
  return Math.round((min + (max - min) * random()) * 60_000);
}

// ---- the events ----

function start(journey: JourneyDef, live: SessionState | null, user: TelegramUser, clock: Clock): TransitionResult {
  const happened: Happening[] = [];
  const changes: SessionChange[] = [];
  if (live && journey.reEntryPolicy !== "restart") {
    if (journey.reEntryPolicy === "allow") happened.push({ kind: "reentry_allow_unsupported", sessionId: live.id });
    const change = keep(live);
    change.outbox.push(ALREADY_IN_FLOW);
    const question = questionWaitedOn(journey, live);
    if (question) change.outbox.push(String(question.config.text));
    happened.push({ kind: "reentry_blocked", policy: journey.reEntryPolicy, sessionId: live.id });
    return { outcome: "blocked", changes: [change], firedDelay: null, happened };
  }
  if (live) {
    const cancelled = cancel(live, CANCEL_REASONS.restarted, clock);
    changes.push(...cancelled.changes);
    happened.push(...cancelled.happened);
  }
  const fresh: SessionState = {
    id: "",
    journeyId: journey.id,
    telegramUserId: user.id,
    telegramChatId: user.chatId,
    status: "active",
    currentStepId: null,
    answers: {},
    startedAt: clock.now,
    completedAt: null,
    lastActivityAt: clock.now,
  };
  const change: SessionChange = { ...keep(fresh), kind: "insert" };
  happened.push({ kind: "session_started", ...(live ? { replacedSessionId: live.id } : {}) });
  runFrom(journey, change, firstLiveStep(journey), clock, happened);
  changes.push(change);
  return { outcome: "started", changes, firedDelay: null, happened };
}

function answer(journey: JourneyDef, session: SessionState, text: string, clock: Clock): TransitionResult {
  const step = questionWaitedOn(journey, session);
  if (!step) return unchanged("not_waiting");
  const { config } = step;
  const result = validateAnswer(config.validation as ValidationKind, text);
  const change = touched(session, clock);
  if (!result.ok) {
    change.outbox.push(typeof config.error_text === "string" ? config.error_text : result.error);
    const happened: Happening[] = [
      { kind: "answer_invalid", stepId: step.id, answerKey: config.answer_key, validation: config.validation },
    ];
    return { outcome: "invalid", changes: [change], firedDelay: null, happened };
  }
  const key = String(config.answer_key);
  change.answersSet[key] = result.value;
  change.session.answers = { ...change.session.answers, [key]: result.value };
  const happened: Happening[] = [{ kind: "answer_stored", stepId: step.id, answerKey: key }];
  runFrom(journey, change, liveStepAfter(journey, step), clock, happened);
  return { outcome: "accepted", changes: [change], firedDelay: null, happened };
}

function delayFired(
  journey: JourneyDef,
  session: SessionState,
  delay: { id: string; stepId: string; status: string; scheduledFor: Date },
  clock: Clock,
): TransitionResult {
  if (delay.status !== "pending") return unchanged("not_pending");
  const lateMs = clock.now.getTime() - delay.scheduledFor.getTime();
  if (-lateMs > EARLY_TOLERANCE_MS) return unchanged("early");
  if (session.status !== "waiting_delay" || session.currentStepId !== delay.stepId) {
    return {
      outcome: "session_not_waiting",
      changes: [],
      firedDelay: {
        id: delay.id,
        status: "failed",
        error: `session is ${session.status}, not waiting on this delay`,
      },
      happened: [{ kind: "delay_not_waited_on", scheduledMessageId: delay.id, sessionStatus: session.status }],
    };
  }
  const change = touched(session, clock);
  change.session.status = "active";
  const happened: Happening[] = [{ kind: "delay_fired", scheduledMessageId: delay.id, lateMs }];
  const step = journey.steps.find((s) => s.id === delay.stepId);
  runFrom(journey, change, step ? liveStepAfter(journey, step) : null, clock, happened);
  return { outcome: "resumed", changes: [change], firedDelay: { id: delay.id, status: "sent", error: null }, happened };
}

function cancel(session: SessionState, reason: string, clock: Clock): TransitionResult {
  if (!isLive(session)) return unchanged("unchanged");
  const change = touched(session, clock);
  change.session.status = "cancelled";
  change.cancelPending = reason;
  return {
    outcome: "cancelled",
    changes: [change],
    firedDelay: null,
    happened: [{ kind: "session_cancelled", sessionId: session.id, reason }],
  };
}

// ---- running a session on ----

/**
 * Run `change`'s session from `step` until a step blocks (a question waits for its answer, a delay for
 * its time) or the journey ends. Steps only move forward, so this ends within the journey's length.
 */
function runFrom(journey: JourneyDef, change: SessionChange, from: StepDef | null, clock: Clock, log: Happening[]) {
  const s = change.session;
  for (let step = from; ; step = liveStepAfter(journey, step)) {
    if (!step) {
      s.status = "completed";
      s.currentStepId = null;
      s.completedAt = clock.now;
      log.push({ kind: "session_completed" });
      return;
    }
    const { config } = step;
    switch (step.stepType) {
      case "message":
        change.outbox.push(String(config.text));
        log.push({ kind: "message_queued", stepId: step.id, stepOrder: step.stepOrder });
        break;
      case "question":
        change.outbox.push(String(config.text));
        s.status = "active";
        s.currentStepId = step.id;
        log.push({ kind: "question_asked", stepId: step.id, stepOrder: step.stepOrder, answerKey: config.answer_key });
        return;
      case "delay": {
        const delayMs = pickDelayMs(config, clock.random);
        const row: ScheduleRow = {
          stepId: step.id,
          scheduledFor: new Date(clock.now.getTime() + delayMs),
          payload: { kind: "resume_after_delay", delay_minutes: Math.round(delayMs / 600) / 100 },
        };
        change.schedule.push(row);
        s.status = "waiting_delay";
        s.currentStepId = step.id;
        log.push({ kind: "delay_scheduled", stepId: step.id, scheduledFor: row.scheduledFor, delayMs });
        return;
      }
      case "conditional":
        log.push({ kind: "conditional_skipped", stepId: step.id, stepOrder: step.stepOrder });
        break;
    }
  }
}

const firstLiveStep = (journey: JourneyDef): StepDef | null => journey.steps.find((s) => !s.removed) ?? null;

/** The first step after `step` (by step order) that was not removed, or null at the end. */
function liveStepAfter(journey: JourneyDef, step: StepDef): StepDef | null {
  return journey.steps.find((s) => s.stepOrder > step.stepOrder && !s.removed) ?? null;
}

// ---- result builders ----

const unchanged = (outcome: TransitionResult["outcome"]): TransitionResult => ({
  outcome,
  changes: [],
  firedDelay: null,
  happened: [],
});

/** A change that leaves the session as it is (rows may still be added for it). */
const keep = (session: SessionState): SessionChange => ({
  kind: "keep",
  session: { ...session },
  answersSet: {},
  outbox: [],
  schedule: [],
  cancelPending: null,
});

/** A change that updates the session, starting with its last activity. */
const touched = (session: SessionState, clock: Clock): SessionChange => ({
  ...keep(session),
  kind: "update",
  session: { ...session, lastActivityAt: clock.now },
});

/**
 * Which of a user's live sessions on a bot a text answers: the first, in the order given (most
 * recently active first), that waits on a question. Undefined when none does.
 */
export function textTaker<T extends { journey: JourneyDef; session: SessionState }>(live: readonly T[]): T | undefined {
  return live.find((l) => questionWaitedOn(l.journey, l.session) !== null);
}
