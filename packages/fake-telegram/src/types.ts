/**
 * What the fake records and answers, and the interface a test drives it through: shared by the
 * server, its control API (control.ts) and the package's users.
 */
import type { FakeBotInfo, Webhook } from "./bot-api.ts";

export interface RecordedCall {
  seq: number;
  /** Epoch ms (fractional). */
  at: number;
  token: string;
  botId: number;
  method: string;
  params: Record<string, unknown>;
  /** HTTP status answered: 200, or the error_code (401, 400, 403, 429, …). */
  status: number;
}

export interface SentMessage {
  /** Same seq as the sendMessage call in `calls`. */
  seq: number;
  at: number;
  botId: number;
  chatId: number;
  text: string;
  messageId: number;
  /** The reply_markup sent with it, parsed (any kind: inline keyboard, reply keyboard, remove_keyboard). */
  replyMarkup?: unknown;
}

/** A successful answerCallbackQuery. */
export interface CallbackAnswer {
  seq: number;
  at: number;
  botId: number;
  callbackQueryId: string;
  text?: string;
  showAlert?: boolean;
  /** The chat of the pressed message, when the query came from the fake (`userActs` press). */
  chatId?: number;
}

/** A successful editMessageReplyMarkup of a bot's message. */
export interface MarkupEdit {
  seq: number;
  at: number;
  botId: number;
  chatId: number;
  messageId: number;
  /** The new inline keyboard; absent: the keyboard was removed. */
  replyMarkup?: unknown;
}

/** What the bot did in a chat, in the fake's receive order (one seq space for all three). */
export type BotEvent =
  | ({ kind: "message" } & SentMessage)
  | ({ kind: "callback_answer" } & CallbackAnswer)
  | ({ kind: "markup_edit" } & MarkupEdit);

/**
 * Something a user does in their private chat with the bot, delivered as the update Telegram sends
 * for it. `press`: an inline button of the bot's message `messageId` (its callback_data `data`);
 * `contact`: shares a contact (their own unless `contactUserId` is given; null: not on Telegram);
 * `edit`: edits their earlier message `messageId` (the fake remembers its date).
 */
export type UserAction =
  | { type: "text"; text: string }
  | { type: "press"; messageId: number; data: string }
  | { type: "contact"; phoneNumber: string; contactUserId?: number | null; contactFirstName?: string }
  | { type: "edit"; messageId: number; text: string }
  | { type: "forward"; text: string; originUserId?: number; originFirstName?: string }
  | { type: "photo"; caption?: string }
  | { type: "sticker"; emoji?: string }
  | { type: "voice"; duration?: number }
  | { type: "location"; latitude: number; longitude: number };

export type UserActOptions = UserAction & {
  userId: number;
  chatId?: number;
  firstName?: string;
  languageCode?: string | null;
};

export interface FailureSpec {
  status: number;
  description: string;
  retryAfter?: number;
}

export interface SentFilter {
  botId?: number;
  chatId?: number;
}

export interface Delivery {
  status: number;
  body: string;
}

export interface UserSaysOptions {
  userId: number;
  chatId?: number;
  text: string;
  firstName?: string;
}

export interface FakeTelegramStats {
  sent: number;
  rejected429: number;
  peakPerSecondByBot: Record<number, number>;
}

export interface StartOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  rateLimitPerSecond?: number | null;
}

export interface FakeTelegram {
  /** What TELEGRAM_API_ROOT should be, e.g. "http://127.0.0.1:PORT". */
  apiRoot: string;
  port: number;
  /** Every Bot API call, in order. */
  calls: RecordedCall[];
  /** Successful sendMessage calls. */
  sent(filter?: SentFilter): SentMessage[];
  /** Successful answerCallbackQuery calls (filtered by chat only when the fake issued the query). */
  callbackAnswers(filter?: SentFilter): CallbackAnswer[];
  /** Successful editMessageReplyMarkup calls. */
  markupEdits(filter?: SentFilter): MarkupEdit[];
  /** The three above in one list, in the order the fake received them. */
  events(filter?: SentFilter): BotEvent[];
  registerBot(token: string, info?: Partial<FakeBotInfo>): FakeBotInfo;
  webhookOf(botId: number): { url: string; secretToken?: string } | undefined;
  blockChat(chatId: number, botId?: number): void;
  /** From now on every call with `token` is answered 401 Unauthorized (as when BotFather revokes it). */
  revokeToken(token: string): void;
  failNext(method: string, response: FailureSpec, count?: number): void;
  /** The next `count` calls of `method` are answered `ms` later (as a slow Telegram would). */
  delayNext(method: string, ms: number, count?: number): void;
  setRateLimit(perSecond: number | null): void;
  stats(): FakeTelegramStats;
  deliverUpdate(botId: number, update: object): Promise<Delivery>;
  userSays(botId: number, opts: UserSaysOptions): Promise<Delivery & { update: object }>;
  /**
   * The user does `opts` (a press, a shared contact, an edit, a forward, a photo…): the update is
   * built with this chat's next message id and delivered to the bot's webhook. A press of a message
   * the bot never sent to the chat throws.
   */
  userActs(botId: number, opts: UserActOptions): Promise<Delivery & { update: object }>;
  waitForMessages(filter: SentFilter & { count: number; timeoutMs?: number }): Promise<SentMessage[]>;
  reset(): void;
  close(): Promise<void>;
}

/** What the control API needs beyond the public interface (the server implements both). */
export interface ControlledFake extends FakeTelegram {
  readonly webhooks: Map<number, Webhook>;
  sentAfter(sinceSeq: number, filter?: SentFilter): SentMessage[];
  /** Messages, callback answers and keyboard edits with seq > sinceSeq, in order. */
  eventsAfter(sinceSeq: number, filter?: SentFilter): BotEvent[];
  waitForSent<T>(compute: () => T | undefined, timeoutMs: number, signal?: AbortSignal): Promise<T | undefined>;
  botForToken(token: string): FakeBotInfo | undefined;
}
