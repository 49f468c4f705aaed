/**
 * The engine: every rule of SPEC §3 (and §4's re-entry and blocked-user rules) in one pure function.
 * `transition(journey, session, event, clock)` reads nothing and writes nothing; it returns what the
 * session becomes, the messages and delay rows to write, what to cancel and what happened. The
 * locking transaction and the lock-free statement (repo/applier.ts) both persist that result and
 * decide nothing themselves; test/engine/parity.test.ts checks that they leave the same rows.
 */
import { LIVE_STATUSES } from "../db/schema.ts";
import { evaluateRule, type FlowData, RENDERED_EMPTY, renderTemplate } from "../flow/index.ts";
import { type ChoiceOption, phoneFromContact, type ValidationKind, validateAnswer } from "../validation/index.ts";
import { type BotTexts, DEFAULT_BOT_TEXTS } from "./bot-texts.ts";
import type {
  Clock,
  EngineEvent,
  Happening,
  JourneyDef,
  OutItem,
  ScheduleRow,
  SessionChange,
  SessionContext,
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
  userCancelled: "cancelled by the user",
} as const;
/** Said when a forwarded message arrives where an answer is expected (then the question again). */
export const FORWARD_HINT = "Forwarded messages don't count as answers — please type your own answer.";
/** A message with no text at a question, when the question has no error_text of its own. */
export const TEXT_PLEASE = "Please answer with a text message.";
export const CHOICE_PLEASE = "Please press one of the buttons (or type one of the options).";
export const PHONE_PLEASE = "Please share your number with the button below, or type it with its country code.";
export const NOT_YOUR_CONTACT = "Please share your own phone number with the button below.";
export const SHARE_PHONE_BUTTON = "Share my phone number";
/** The answered choice keyboard is replaced by the chosen option, marked. Pressing it again: stale. */
export const CHOSEN_MARK = "✓ ";
export const CHOSEN_DATA = "chosen";

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
      return start(journey, session, event.user, event.param, clock);
    case "text":
      if (!session) return unchanged("not_waiting");
      if (event.forwarded) return reask(journey, session, clock, "forwarded", [FORWARD_HINT]);
      return answer(journey, session, event.text, event.languageCode, clock);
    case "edit":
      return session ? edited(journey, session, event, clock) : unchanged("ignored");
    case "command":
      return session ? command(journey, session, event.name, clock) : unchanged("not_waiting");
    case "button":
      return session ? pressed(journey, session, event, clock) : unchanged("stale");
    case "contact":
      return session ? contact(journey, session, event, clock) : unchanged("not_waiting");
    case "media":
      return session ? media(journey, session, clock) : unchanged("not_waiting");
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

function start(
  journey: JourneyDef,
  live: SessionState | null,
  user: TelegramUser,
  param: string,
  clock: Clock,
): TransitionResult {
  const happened: Happening[] = [];
  const changes: SessionChange[] = [];
  if (live && journey.reEntryPolicy !== "restart") {
    if (journey.reEntryPolicy === "allow") happened.push({ kind: "reentry_allow_unsupported", sessionId: live.id });
    const change = keep(live);
    change.outbox.push({ text: ALREADY_IN_FLOW });
    const question = questionWaitedOn(journey, live);
    const again = question ? ask(question, live) : null;
    if (again) change.outbox.push(again);
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
    stepEnteredAt: clock.now,
    context: { user: userContext(user), trigger: { param } },
  };
  const change: SessionChange = { ...keep(fresh), kind: "insert" };
  happened.push({ kind: "session_started", ...(live ? { replacedSessionId: live.id } : {}) });
  runFrom(journey, change, firstLiveStep(journey), clock, happened);
  changes.push(change);
  return { outcome: "started", changes, firedDelay: null, happened };
}

function answer(
  journey: JourneyDef,
  session: SessionState,
  text: string,
  languageCode: string | null | undefined,
  clock: Clock,
): TransitionResult {
  const step = questionWaitedOn(journey, session);
  if (!step) return waiting(journey, session, clock);
  const { config } = step;
  const result = validateAnswer(config.validation as ValidationKind, text, {
    languageCode: languageCode ?? session.context.user?.language_code ?? null,
    defaultRegion: defaultRegion(journey, session, step),
    options: optionsOf(step),
  });
  if (!result.ok) {
    // An ambiguous answer is asked back in the validator's words; a plain invalid one gets the step's.
    const error = (!result.askBack && errorText(step, session)) || result.error;
    // The error alone re-prompts a typed question; a question with buttons sends them again with it.
    const withKeyboard = ask(step, session);
    return invalidAnswer(
      step,
      session,
      clock,
      withKeyboard?.method === undefined && withKeyboard?.reply_markup
        ? [{ ...withKeyboard, text: error }]
        : [{ text: error }],
      false,
    );
  }
  return accepted(journey, session, step, result.value, clock, []);
}

/** The answer `value` stored for `step`, then the session runs on. `first`: calls to make before. */
function accepted(
  journey: JourneyDef,
  session: SessionState,
  step: StepDef,
  value: unknown,
  clock: Clock,
  first: OutItem[],
): TransitionResult {
  const change = touched(session, clock);
  change.outbox.push(...first);
  const key = String(step.config.answer_key);
  change.answersSet[key] = value;
  change.session.answers = { ...change.session.answers, [key]: value };
  const happened: Happening[] = [{ kind: "answer_stored", stepId: step.id, answerKey: key }];
  const before = change.outbox.length;
  runFrom(journey, change, liveStepAfter(journey, step), clock, happened);
  if (step.config.validation === "phone") removeReplyKeyboard(change.outbox, before);
  return { outcome: "accepted", changes: [change], firedDelay: null, happened };
}

/** An answer refused: `say`, then (`reaskToo`) the question again with its buttons; the session stays. */
function invalidAnswer(
  step: StepDef,
  session: SessionState,
  clock: Clock,
  say: OutItem[],
  reaskToo = true,
): TransitionResult {
  const change = touched(session, clock);
  change.outbox.push(...say);
  const question = reaskToo ? ask(step, session) : null;
  if (question) change.outbox.push(question);
  const happened: Happening[] = [
    { kind: "answer_invalid", stepId: step.id, answerKey: step.config.answer_key, validation: step.config.validation },
  ];
  return { outcome: "invalid", changes: [change], firedDelay: null, happened };
}

/** Not an answer (a forward, an unknown command, a bare /start): `say`, then the pending question again. */
function reask(
  journey: JourneyDef,
  session: SessionState,
  clock: Clock,
  reason: string,
  say: string[],
): TransitionResult {
  const step = questionWaitedOn(journey, session);
  if (!step) return waiting(journey, session, clock);
  const change = keep(session);
  change.outbox.push(...say.map((text) => ({ text })));
  const question = ask(step, session);
  if (question) change.outbox.push(question);
  return {
    outcome: "reasked",
    changes: [change],
    firedDelay: null,
    happened: [{ kind: "reasked", stepId: step.id, reason }],
  };
}

/**
 * Something from the user while the session waits on a delay: the bot's waiting text, once per
 * delay (the flag is cleared when the next delay starts), and the session does not move.
 */
function waiting(journey: JourneyDef, session: SessionState, clock: Clock): TransitionResult {
  if (session.status !== "waiting_delay" || session.context.waiting_acked) return unchanged("not_waiting");
  const change = touched(session, clock);
  change.session.context = { ...session.context, waiting_acked: true };
  change.outbox.push({ text: textsOf(journey).waiting_text });
  return { outcome: "acknowledged", changes: [change], firedDelay: null, happened: [{ kind: "waiting_acknowledged" }] };
}

/** An edit answers only the question that was already asked when the edited message was first sent. */
function edited(
  journey: JourneyDef,
  session: SessionState,
  event: { text: string; sentAt: Date; languageCode?: string | null },
  clock: Clock,
): TransitionResult {
  const step = questionWaitedOn(journey, session);
  // Telegram's message dates are whole seconds: the asking time is compared at that precision.
  const askedAt = session.stepEnteredAt ? Math.floor(session.stepEnteredAt.getTime() / 1000) : Number.POSITIVE_INFINITY;
  if (!step || Math.floor(event.sentAt.getTime() / 1000) < askedAt) return unchanged("ignored");
  return answer(journey, session, event.text, event.languageCode, clock);
}

function command(journey: JourneyDef, session: SessionState, name: string, clock: Clock): TransitionResult {
  if (name === "cancel" || name === "stop") return cancel(session, CANCEL_REASONS.userCancelled, clock);
  return reask(journey, session, clock, `command /${name}`, []);
}

function pressed(
  journey: JourneyDef,
  session: SessionState,
  event: { stepId: string; index: number; callbackQueryId: string; messageId: number },
  clock: Clock,
): TransitionResult {
  const step = questionWaitedOn(journey, session);
  const option = step?.id === event.stepId ? optionsOf(step)?.[event.index] : undefined;
  if (!step || !option) return unchanged("stale");
  const first: OutItem[] = [
    { method: "answerCallbackQuery", callback_query_id: event.callbackQueryId },
    {
      method: "editMessageReplyMarkup",
      message_id: event.messageId,
      reply_markup: { inline_keyboard: [[{ text: CHOSEN_MARK + option.label, callback_data: CHOSEN_DATA }]] },
    },
  ];
  return accepted(journey, session, step, option.value, clock, first);
}

function contact(
  journey: JourneyDef,
  session: SessionState,
  event: { phone: string; own: boolean },
  clock: Clock,
): TransitionResult {
  const step = questionWaitedOn(journey, session);
  if (step?.config.validation !== "phone") return media(journey, session, clock);
  if (!event.own) return invalidAnswer(step, session, clock, [{ text: NOT_YOUR_CONTACT }]);
  const phone = phoneFromContact(event.phone, defaultRegion(journey, session, step));
  if (phone === null) return invalidAnswer(step, session, clock, [{ text: PHONE_PLEASE }]);
  return accepted(journey, session, step, phone, clock, []);
}

/** A message without text: at a question, its error text (or a default) and the question again. */
function media(journey: JourneyDef, session: SessionState, clock: Clock): TransitionResult {
  const step = questionWaitedOn(journey, session);
  if (!step) return waiting(journey, session, clock);
  const { config } = step;
  const fallback =
    config.validation === "choice" ? CHOICE_PLEASE : config.validation === "phone" ? PHONE_PLEASE : TEXT_PLEASE;
  return invalidAnswer(step, session, clock, [{ text: errorText(step, session) || fallback }]);
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

/** More steps than this in one run is a loop with no question or delay on it (the write-time check refuses those). */
export const MAX_STEPS_PER_RUN = 1000;

/**
 * Run `change`'s session from `step` until a step blocks (a question waits for its answer, a delay for
 * its time) or the journey ends. A conditional step may jump anywhere (`goto` a step key, or "end");
 * a run that passes MAX_STEPS_PER_RUN steps, or a text that fails to render, stops where it is.
 */
function runFrom(journey: JourneyDef, change: SessionChange, from: StepDef | null, clock: Clock, log: Happening[]) {
  const s = change.session;
  let step = from;
  for (let n = 0; ; n++) {
    if (!step) {
      s.status = "completed";
      s.currentStepId = null;
      s.completedAt = clock.now;
      log.push({ kind: "session_completed" });
      return;
    }
    if (n >= MAX_STEPS_PER_RUN) return stopAt(s, step, `more than ${MAX_STEPS_PER_RUN} steps in one run`, log);
    const { config } = step;
    let next: StepDef | null = liveStepAfter(journey, step);
    switch (step.stepType) {
      case "message": {
        const text = render(step, String(config.text), s, log, true);
        if (text === EMPTY) {
          // Only unset variables in it (a path that skipped the question): nothing to send, go on.
          log.push({ kind: "message_empty", stepId: step.id });
          break;
        }
        if (text === null) return stopAt(s, step, "the text failed to render", log);
        change.outbox.push(withLinks({ text }, config.buttons));
        log.push({ kind: "message_queued", stepId: step.id, stepOrder: step.stepOrder });
        break;
      }
      case "question": {
        const entered = { ...s, status: "active" as const, currentStepId: step.id, stepEnteredAt: clock.now };
        const question = ask(step, entered, log);
        if (question === null) return stopAt(s, step, "the text failed to render", log);
        Object.assign(s, entered);
        change.outbox.push(question);
        log.push({ kind: "question_asked", stepId: step.id, stepOrder: step.stepOrder, answerKey: config.answer_key });
        return;
      }
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
        s.stepEnteredAt = clock.now;
        if (s.context.waiting_acked) {
          const { waiting_acked: _, ...rest } = s.context;
          s.context = rest;
        }
        log.push({ kind: "delay_scheduled", stepId: step.id, scheduledFor: row.scheduledFor, delayMs });
        return;
      }
      case "conditional": {
        const hasElse = config.else !== undefined && config.else !== null;
        const branches = Array.isArray(config.branches)
          ? (config.branches as Record<string, unknown>[])
          : hasElse
            ? []
            : null;
        if (!branches) {
          // A v1 conditional (no branches, no else) is still skipped, as v1 documented.
          log.push({ kind: "conditional_skipped", stepId: step.id, stepOrder: step.stepOrder });
          break;
        }
        const data = flowData(s);
        const hit = branches.findIndex((b) => evaluateRule(b?.when, data));
        const target = hit >= 0 ? branches[hit]?.goto : config.else;
        const branch = hit >= 0 ? hit : target === undefined || target === null ? "next" : "else";
        if (branch !== "next") next = stepByKey(journey, target);
        log.push({ kind: "branch_taken", stepId: step.id, branch, goto: next?.id ?? "end" });
        break;
      }
    }
    step = next;
  }
}

/** The live step a `goto` names; "end" (or a key no live step has) ends the session. */
function stepByKey(journey: JourneyDef, key: unknown): StepDef | null {
  if (typeof key !== "string" || key === "end") return null;
  return journey.steps.find((st) => st.key === key && !st.removed) ?? null;
}

/**
 * A run that cannot go on stays where it is: the session stands on `step`, active, nothing sent for
 * it, and the reason kept in its context (shown with the session) and logged.
 */
function stopAt(s: SessionState, step: StepDef, reason: string, log: Happening[]) {
  s.status = "active";
  s.currentStepId = step.id;
  s.context = { ...s.context, error: { step_id: step.id, reason } };
  log.push({ kind: "run_stopped", stepId: step.id, reason });
}

/** A message text that rendered to nothing (its variables unset). */
const EMPTY = Symbol("empty");

/** What rules and templates read: the answers, and who started the session with which link. */
const flowData = (s: SessionState): FlowData => ({
  answers: s.answers,
  user: s.context.user ?? {},
  trigger: s.context.trigger ?? {},
});

/**
 * A step text rendered for the session (LiquidJS, flow/templates.ts); a text with no tags as it is.
 * Null when it fails to render (and that is logged); cut at Telegram's limit when too long.
 */
function render(step: StepDef, source: string, s: SessionState, log?: Happening[]): string | null;
function render(
  step: StepDef,
  source: string,
  s: SessionState,
  log: Happening[],
  allowEmpty: true,
): string | null | typeof EMPTY;
function render(
  step: StepDef,
  source: string,
  s: SessionState,
  log?: Happening[],
  allowEmpty = false,
): string | null | typeof EMPTY {
  if (!source.includes("{{") && !source.includes("{%")) return source;
  const out = renderTemplate(source, flowData(s));
  if (!out.ok && allowEmpty && out.error === RENDERED_EMPTY) return EMPTY;
  if (!out.ok) {
    log?.push({ kind: "render_failed", stepId: step.id, error: out.error });
    return null;
  }
  if (out.cut) log?.push({ kind: "text_cut", stepId: step.id });
  return out.text;
}

/** The question's own error text, rendered; "" when it has none (or it fails to render). */
function errorText(step: StepDef, s: SessionState): string {
  const source = step.config.error_text;
  return typeof source === "string" ? (render(step, source, s) ?? "") : "";
}

/** A message with its link buttons (https only, checked when written), one per row. */
function withLinks(item: { text: string }, buttons: unknown): OutItem {
  if (!Array.isArray(buttons) || buttons.length === 0) return item;
  const rows = (buttons as { text: string; url: string }[]).map((b) => [{ text: b.text, url: b.url }]);
  return { ...item, reply_markup: { inline_keyboard: rows } };
}

const firstLiveStep = (journey: JourneyDef): StepDef | null => journey.steps.find((s) => !s.removed) ?? null;

/** The first step after `step` (by step order) that was not removed, or null at the end. */
function liveStepAfter(journey: JourneyDef, step: StepDef): StepDef | null {
  return journey.steps.find((s) => s.stepOrder > step.stepOrder && !s.removed) ?? null;
}

// ---- what a question sends ----

/** A question's options as buttons: a choice question's, or a country question's optional ones. */
function optionsOf(step: StepDef): readonly ChoiceOption[] | undefined {
  const options = step.config.options;
  return Array.isArray(options) ? (options as ChoiceOption[]) : undefined;
}

/**
 * The question's message: its text, with its keyboard — the options as inline buttons (their
 * callback_data the option's index, sealed by the applier to this step visit), or the phone button.
 */
export function ask(step: StepDef, session: SessionState, log?: Happening[]): OutItem | null {
  const text = render(step, String(step.config.text), session, log);
  if (text === null) return null;
  const options = optionsOf(step);
  if (options?.length) {
    return {
      text,
      reply_markup: { inline_keyboard: options.map((o, i) => [{ text: o.label, callback_data: String(i) }]) },
      seal: { step_id: step.id, entered_at_ms: session.stepEnteredAt?.getTime() ?? 0 },
    };
  }
  if (step.config.validation === "phone") {
    return {
      text,
      reply_markup: {
        keyboard: [[{ text: SHARE_PHONE_BUTTON, request_contact: true }]],
        resize_keyboard: true,
        one_time_keyboard: true,
      },
    };
  }
  return { text };
}

/** After a phone answer, the first message sent without a keyboard of its own removes the phone button. */
function removeReplyKeyboard(outbox: OutItem[], from: number) {
  const next = outbox.slice(from).find((o) => o.method === undefined);
  if (next && next.method === undefined && !next.reply_markup) next.reply_markup = { remove_keyboard: true };
}

/**
 * The region a typed phone number without a country code is read in: the question's
 * `default_region`, else the first country the user answered in this session.
 */
function defaultRegion(journey: JourneyDef, session: SessionState, step: StepDef): string | null {
  if (typeof step.config.default_region === "string") return step.config.default_region;
  for (const s of journey.steps) {
    if (s.stepType !== "question" || s.config.validation !== "country") continue;
    const v = session.answers[String(s.config.answer_key)];
    if (typeof v === "string" && /^[A-Z]{2}$/.test(v)) return v;
  }
  return null;
}

const textsOf = (journey: JourneyDef): BotTexts => journey.texts ?? DEFAULT_BOT_TEXTS;

function userContext(user: TelegramUser): NonNullable<SessionContext["user"]> {
  const out: NonNullable<SessionContext["user"]> = {};
  if (user.firstName) out.first_name = user.firstName;
  if (user.lastName) out.last_name = user.lastName;
  if (user.username) out.username = user.username;
  if (user.languageCode) out.language_code = user.languageCode;
  return out;
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
