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
  /** Echoed when the bot attached an inline keyboard. */
  replyMarkup?: unknown;
}

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
  waitForMessages(filter: SentFilter & { count: number; timeoutMs?: number }): Promise<SentMessage[]>;
  reset(): void;
  close(): Promise<void>;
}

/** What the control API needs beyond the public interface (the server implements both). */
export interface ControlledFake extends FakeTelegram {
  readonly webhooks: Map<number, Webhook>;
  sentAfter(sinceSeq: number, filter?: SentFilter): SentMessage[];
  waitForSent<T>(compute: () => T | undefined, timeoutMs: number, signal?: AbortSignal): Promise<T | undefined>;
  botForToken(token: string): FakeBotInfo | undefined;
}
