/**
 * The engine's vocabulary: what `transition()` reads (a journey, a session, one event, a clock) and
 * what it decides (a TransitionResult). Plain data only — no rows, no executors — so the function
 * that uses them stays pure and the two ways of persisting a result (engine/README in docs/architecture.md)
 * can be checked against each other.
 */
import type { ReEntryPolicy, ScheduledStatus, SessionStatus, StepType } from "../db/schema.ts";
import type { BotTexts } from "./bot-texts.ts";

/** One step of a journey as the engine sees it. `removed`: dropped by PUT …/steps, kept for history. */
export interface StepDef {
  id: string;
  stepOrder: number;
  stepType: StepType;
  config: Record<string, unknown>;
  removed: boolean;
  /** The step's optional stable name (jumps, reports). */
  key?: string | null;
}

/** A journey: its policy and every step it has, removed ones included, in step order. */
export interface JourneyDef {
  id: string;
  reEntryPolicy: ReEntryPolicy;
  steps: readonly StepDef[];
  /** The texts of the journey's bot (what it says outside steps); the defaults when absent. */
  texts?: BotTexts;
}

/** What a session knows besides its answers (journey_user_sessions.context). */
export interface SessionContext {
  /** The user as the update that started the session showed them. */
  user?: { first_name?: string; last_name?: string; username?: string; language_code?: string };
  /** What started the session: the deep-link parameter. */
  trigger?: { param?: string };
  /** The waiting text was sent during the current delay (one acknowledgement per delay). */
  waiting_acked?: boolean;
  /** Why the session's last run stopped short (a text that failed to render, a runaway loop). */
  error?: { step_id: string; reason: string };
}

/** A session's state: everything a transition may read or change. `id` is "" for one not yet inserted. */
export interface SessionState {
  id: string;
  journeyId: string;
  telegramUserId: number;
  telegramChatId: number;
  status: SessionStatus;
  currentStepId: string | null;
  answers: Record<string, unknown>;
  startedAt: Date | null;
  completedAt: Date | null;
  lastActivityAt: Date | null;
  /** When the session arrived at its current step. */
  stepEnteredAt: Date | null;
  context: SessionContext;
}

/** The Telegram user an update came from (the chat is their private chat with the bot). */
export interface TelegramUser {
  id: number;
  chatId: number;
  firstName?: string;
  lastName?: string;
  username?: string;
  languageCode?: string;
}

// ---- what goes out: one Bot API call per journey_outbox row (its message_content) ----

export interface InlineButton {
  text: string;
  /** For a choice button the engine writes the option's index; the applier seals it (see `seal`). */
  callback_data?: string;
  url?: string;
}
export interface InlineKeyboardMarkup {
  inline_keyboard: InlineButton[][];
}
export interface ReplyKeyboardMarkup {
  keyboard: { text: string; request_contact?: boolean }[][];
  resize_keyboard?: boolean;
  one_time_keyboard?: boolean;
}
export type ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | { remove_keyboard: true };

/**
 * One Bot API call, in the shape its outbox row holds (journey_outbox.message_content) and the sender
 * sends. No `method`: sendMessage. `seal`: the applier replaces each inline button's callback_data
 * (an option index) with a MAC over (bot key, chat, step, step_entered_at, index) and drops `seal`,
 * so the row holds exactly what is sent and a press can be checked without any state of its own.
 */
export type OutItem =
  | { method?: undefined; text: string; reply_markup?: ReplyMarkup; seal?: { step_id: string; entered_at_ms: number } }
  | { method: "answerCallbackQuery"; callback_query_id: string; text?: string }
  | { method: "editMessageReplyMarkup"; message_id: number; reply_markup?: InlineKeyboardMarkup; text?: undefined };

/** A delay row as the worker found it when its job ran. */
export interface DelayRow {
  id: string;
  stepId: string;
  status: ScheduledStatus;
  scheduledFor: Date;
}

/**
 * What happens to a session. Open for the events still to come (button pressed, contact shared, timer
 * fired, admin cancel): each becomes a new member here and a new case in transition().
 */
export type EngineEvent =
  | { type: "start"; param: string; user: TelegramUser }
  /** A text message. `forwarded`: someone else's words, never an answer. */
  | { type: "text"; text: string; languageCode?: string | null; forwarded?: boolean }
  /** A command other than /help and /start <param>: "start" (bare), "cancel", "stop", or unknown. */
  | { type: "command"; name: string }
  /** A press on a choice button whose callback_data the transport checked against this session's step. */
  | { type: "button"; stepId: string; index: number; callbackQueryId: string; messageId: number }
  /** A contact shared (the phone button). `own`: contact.user_id is the sender. */
  | { type: "contact"; phone: string; own: boolean }
  /** An edited text message; `sentAt` is when the original was sent. */
  | { type: "edit"; text: string; sentAt: Date; languageCode?: string | null }
  /** A message with no text: photo (caption or not), sticker, voice, document, location… */
  | { type: "media"; kind: string }
  | { type: "delay_fired"; delay: DelayRow }
  | { type: "user_blocked"; source: "kicked" | "send_forbidden" }
  | { type: "steps_replaced"; before: readonly StepDef[] };

/** Time and randomness are arguments: the same inputs always give the same result. */
export interface Clock {
  now: Date;
  /** Uniform in [0, 1), as Math.random. */
  random: () => number;
}

/** A delay row to insert for the session. */
export interface ScheduleRow {
  stepId: string;
  scheduledFor: Date;
  payload: Record<string, unknown>;
}

/**
 * What to write for one session. `insert`: a new row (the state's id is assigned by the insert);
 * `update`: the row becomes `session`; `keep`: the row stays as it is and only rows are added for it.
 */
export interface SessionChange {
  kind: "insert" | "update" | "keep";
  session: SessionState;
  /** Answers stored by this transition (already merged into `session.answers`). */
  answersSet: Record<string, unknown>;
  /** Bot API calls queued to the session's chat, in the order they are to arrive. */
  outbox: OutItem[];
  schedule: ScheduleRow[];
  /** When set, the session's pending delay rows and unsent messages are cancelled with this reason. */
  cancelPending: string | null;
}

/** What happened, in order: the log lines now, an event log later. */
export type Happening =
  | { kind: "session_started"; replacedSessionId?: string }
  | { kind: "reentry_blocked"; policy: ReEntryPolicy; sessionId: string }
  | { kind: "reentry_allow_unsupported"; sessionId: string }
  | { kind: "session_cancelled"; sessionId: string; reason: string }
  | { kind: "message_queued"; stepId: string; stepOrder: number }
  | { kind: "question_asked"; stepId: string; stepOrder: number; answerKey: unknown }
  | { kind: "answer_stored"; stepId: string; answerKey: string }
  | { kind: "answer_invalid"; stepId: string; answerKey: unknown; validation: unknown }
  | { kind: "delay_scheduled"; stepId: string; scheduledFor: Date; delayMs: number }
  | { kind: "delay_fired"; scheduledMessageId: string; lateMs: number }
  | { kind: "delay_not_waited_on"; scheduledMessageId: string; sessionStatus: SessionStatus }
  | { kind: "conditional_skipped"; stepId: string; stepOrder: number }
  | { kind: "reasked"; stepId: string; reason: string }
  | { kind: "branch_taken"; stepId: string; branch: number | "else" | "next"; goto: string }
  | { kind: "run_stopped"; stepId: string; reason: string }
  | { kind: "render_failed"; stepId: string; error: string }
  | { kind: "text_cut"; stepId: string }
  | { kind: "message_empty"; stepId: string }
  | { kind: "waiting_acknowledged" }
  | { kind: "button_stale"; stepId: string }
  | { kind: "session_completed" };

/** A short word for what the event came to (logs, test assertions, the webhook's debug line). */
export type Outcome =
  | "started"
  | "blocked"
  | "accepted"
  | "invalid"
  | "not_waiting"
  | "resumed"
  | "early"
  | "not_pending"
  | "session_not_waiting"
  | "cancelled"
  | "reasked"
  | "acknowledged"
  | "ignored"
  | "stale"
  | "unchanged";

export interface TransitionResult {
  outcome: Outcome;
  /** In the order they are to be applied (a restart cancels the old session before the new one). */
  changes: SessionChange[];
  /** The fired delay row's new status, when the event was a delay firing. */
  firedDelay: { id: string; status: "sent" | "failed"; error: string | null } | null;
  happened: Happening[];
}
