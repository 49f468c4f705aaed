/**
 * A fake Telegram Bot API server: plays Telegram's side for tests, benchmarks and the chat simulator.
 * Bot API under /bot<token>/<method>; a control API for other processes under /_fake/ (see control.ts).
 */
import { EventEmitter } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  type ApiResult,
  apiError,
  type BotApiState,
  callMethod,
  type FakeBotInfo,
  messageKey,
  type StoredMessage,
  type Webhook,
} from "./bot-api.ts";
import { handleControl } from "./control.ts";
import { jsonParam, parseParams, RequestError, readBody, sendJson } from "./http.ts";
import type {
  BotEvent,
  CallbackAnswer,
  ControlledFake,
  Delivery,
  FailureSpec,
  FakeTelegram,
  FakeTelegramStats,
  MarkupEdit,
  RecordedCall,
  SentFilter,
  SentMessage,
  StartOptions,
  UserActOptions,
  UserSaysOptions,
} from "./types.ts";
import { commandMessage, nextUpdateId } from "./updates.ts";
import { userUpdate } from "./user-acts.ts";

export type { FakeBotInfo };

const TOKEN = /^\d+:[A-Za-z0-9_-]{10,}$/;
const WINDOW_MS = 1000;
const now = (): number => performance.timeOrigin + performance.now();

export async function startFakeTelegram(opts: StartOptions = {}): Promise<FakeTelegram> {
  const fake = new FakeTelegramServer(opts.rateLimitPerSecond ?? null);
  await fake.listen(opts.port ?? 0, opts.host ?? "127.0.0.1");
  return fake;
}

export class FakeTelegramServer implements ControlledFake, BotApiState {
  apiRoot = "";
  port = 0;
  calls: RecordedCall[] = [];
  readonly webhooks = new Map<number, Webhook>();
  readonly commands = new Map<number, unknown>();
  botMessages = new Map<string, StoredMessage>();
  answeredQueries = new Set<string>();
  private readonly emitter = new EventEmitter().setMaxListeners(0); // "sent", "close"
  private sentMessages: SentMessage[] = [];
  private answers: CallbackAnswer[] = [];
  private edits: MarkupEdit[] = [];
  private botEvents: BotEvent[] = []; // the three above, in seq order
  private userMessages = new Map<string, number>(); // "<botId>:<chatId>:<message_id>" → date the user sent it
  private issuedQueries = new Map<string, number>(); // "<botId>:<callback_query_id>" → chat id
  private readonly registered = new Map<string, FakeBotInfo>(); // by token
  private readonly revoked = new Set<string>(); // tokens Telegram answers 401 for
  private blocked = new Set<string>(); // "<botId|*>:<chatId>"
  private failures = new Map<string, FailureSpec[]>(); // by lower-cased method
  private delays = new Map<string, number[]>(); // by lower-cased method
  private recentSends = new Map<number, number[]>(); // accepted send times in the last second, per bot
  private peaks = new Map<number, number>();
  private rejected429 = 0;
  private seq = 0;
  private readonly messageIds = new Map<string, number>(); // "<botId>:<chatId>" → last message_id
  private readonly server: Server;
  private closing: Promise<void> | undefined;

  constructor(private rateLimit: number | null) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  async listen(port: number, host: string): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(port, host, () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    const shown = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
    this.apiRoot = `http://${shown}:${this.port}`;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? "/", "http://fake").pathname;
    const control = path.startsWith("/_fake/");
    try {
      if (control) return await handleControl(this, req, res, path.slice("/_fake/".length));
      const match = /^\/bot([^/]+)\/([A-Za-z0-9_]+)\/?$/.exec(path);
      if (match) return await this.handleBotApi(req, res, decodeURIComponent(match[1]!), match[2]!);
      sendJson(res, 404, apiError(404, "Not Found"));
    } catch (err) {
      if (res.headersSent) return void res.destroy();
      const status = err instanceof RequestError ? err.status : 500;
      const message = err instanceof Error ? err.message : String(err);
      sendJson(res, status, control ? { error: message } : apiError(status, message));
    }
  }

  private async handleBotApi(req: IncomingMessage, res: ServerResponse, token: string, method: string) {
    let parsed: Record<string, unknown> | RequestError;
    try {
      parsed = parseParams(req, await readBody(req));
    } catch (err) {
      if (!(err instanceof RequestError)) throw err;
      parsed = err;
    }
    const hold = this.takeFrom(this.delays, method);
    if (hold) await new Promise((resolve) => setTimeout(resolve, hold));
    const seq = ++this.seq;
    const at = now();
    const bot = this.botForToken(token);
    const params = parsed instanceof RequestError ? {} : parsed;
    const result: ApiResult = !bot
      ? apiError(401, "Unauthorized")
      : parsed instanceof RequestError
        ? apiError(parsed.status, parsed.message)
        : (this.takeFailure(method) ?? callMethod(this, bot, method, params));
    const status = result.ok ? 200 : result.error_code;
    if (status === 429) this.rejected429++;
    const botId = bot?.id ?? Number(/^\d+/.exec(token)?.[0] ?? 0);
    this.calls.push({ seq, at, token, botId, method, params, status });
    if (result.ok && bot) this.record(seq, at, bot.id, method.toLowerCase(), params, result.result);
    sendJson(res, status, result);
  }

  /** Keep what a successful call did, for `sent()`, `callbackAnswers()`, `markupEdits()` and the events. */
  private record(
    seq: number,
    at: number,
    botId: number,
    method: string,
    params: Record<string, unknown>,
    result: unknown,
  ) {
    const msg = result as { message_id: number; chat: { id: number }; text: string };
    const markup = jsonParam(params.reply_markup);
    let event: BotEvent;
    if (method === "sendmessage") {
      const sent: SentMessage = { seq, at, botId, chatId: msg.chat.id, text: msg.text, messageId: msg.message_id };
      if (markup !== undefined) sent.replyMarkup = markup;
      this.sentMessages.push(sent);
      event = { kind: "message", ...sent };
    } else if (method === "answercallbackquery") {
      const callbackQueryId = String(params.callback_query_id);
      const answer: CallbackAnswer = { seq, at, botId, callbackQueryId };
      if (typeof params.text === "string") answer.text = params.text;
      const alert = jsonParam(params.show_alert);
      if (alert !== undefined) answer.showAlert = alert === true;
      const chatId = this.issuedQueries.get(`${botId}:${callbackQueryId}`);
      if (chatId !== undefined) answer.chatId = chatId;
      this.answers.push(answer);
      event = { kind: "callback_answer", ...answer };
    } else if (method === "editmessagereplymarkup") {
      const edit: MarkupEdit = { seq, at, botId, chatId: msg.chat.id, messageId: msg.message_id };
      const kept = (result as { reply_markup?: unknown }).reply_markup;
      if (kept !== undefined) edit.replyMarkup = kept;
      this.edits.push(edit);
      event = { kind: "markup_edit", ...edit };
    } else {
      return;
    }
    this.botEvents.push(event);
    this.emitter.emit("sent", event);
  }

  private takeFailure(method: string): ApiResult | undefined {
    const failure = this.takeFrom(this.failures, method);
    return failure && apiError(failure.status, failure.description, failure.retryAfter);
  }

  private takeFrom<T>(queues: Map<string, T[]>, method: string): T | undefined {
    const queue = queues.get(method.toLowerCase());
    const next = queue?.shift();
    if (queue?.length === 0) queues.delete(method.toLowerCase());
    return next;
  }

  /** The bot a token stands for, or undefined when Telegram would answer 401. */
  botForToken(token: string): FakeBotInfo | undefined {
    if (token.includes("invalid") || !TOKEN.test(token) || this.revoked.has(token)) return undefined;
    const id = Number(token.slice(0, token.indexOf(":")));
    return this.registered.get(token) ?? { id, username: `bot${id}_bot`, first_name: `Bot ${id}` };
  }

  // ---- BotApiState ----

  isBlocked(botId: number, chatId: number): boolean {
    return this.blocked.has(`*:${chatId}`) || this.blocked.has(`${botId}:${chatId}`);
  }

  admitSend(botId: number): boolean {
    const t = now();
    const recent = this.recentSends.get(botId) ?? [];
    let expired = 0;
    while (expired < recent.length && recent[expired]! <= t - WINDOW_MS) expired++;
    if (expired > 0) recent.splice(0, expired);
    this.recentSends.set(botId, recent);
    if (this.rateLimit !== null && recent.length >= this.rateLimit) return false;
    recent.push(t);
    this.peaks.set(botId, Math.max(this.peaks.get(botId) ?? 0, recent.length));
    return true;
  }

  nextMessageId(botId: number, chatId: number): number {
    const key = `${botId}:${chatId}`;
    const next = (this.messageIds.get(key) ?? 0) + 1;
    this.messageIds.set(key, next);
    return next;
  }

  // ---- programmatic API ----

  sent(filter: SentFilter = {}): SentMessage[] {
    return this.sentMessages.filter((m) => matches(m, filter));
  }

  callbackAnswers(filter: SentFilter = {}): CallbackAnswer[] {
    return this.answers.filter((a) => matches(a, filter));
  }

  markupEdits(filter: SentFilter = {}): MarkupEdit[] {
    return this.edits.filter((e) => matches(e, filter));
  }

  events(filter: SentFilter = {}): BotEvent[] {
    return this.botEvents.filter((e) => matches(e, filter));
  }

  /** Matching messages with seq > sinceSeq (scans from the end: cheap for long-pollers that keep up). */
  sentAfter(sinceSeq: number, filter: SentFilter = {}): SentMessage[] {
    return after(this.sentMessages, sinceSeq).filter((m) => matches(m, filter));
  }

  eventsAfter(sinceSeq: number, filter: SentFilter = {}): BotEvent[] {
    return after(this.botEvents, sinceSeq).filter((e) => matches(e, filter));
  }

  registerBot(token: string, info: Partial<FakeBotInfo> = {}): FakeBotInfo {
    if (token.includes("invalid") || !TOKEN.test(token))
      throw new Error(`fake-telegram: malformed bot token "${token}"`);
    const id = info.id ?? Number(token.slice(0, token.indexOf(":")));
    const bot = { id, username: info.username ?? `bot${id}_bot`, first_name: info.first_name ?? `Bot ${id}` };
    this.registered.set(token, bot);
    return bot;
  }

  webhookOf(botId: number): { url: string; secretToken?: string } | undefined {
    const hook = this.webhooks.get(botId);
    if (!hook) return undefined;
    return hook.secretToken === undefined ? { url: hook.url } : { url: hook.url, secretToken: hook.secretToken };
  }

  revokeToken(token: string): void {
    this.revoked.add(token);
  }

  blockChat(chatId: number, botId?: number): void {
    this.blocked.add(`${botId ?? "*"}:${chatId}`);
  }

  failNext(method: string, response: FailureSpec, count = 1): void {
    const key = method.toLowerCase();
    const queue = this.failures.get(key) ?? [];
    for (let i = 0; i < count; i++) queue.push(response);
    this.failures.set(key, queue);
  }

  delayNext(method: string, ms: number, count = 1): void {
    const key = method.toLowerCase();
    const queue = this.delays.get(key) ?? [];
    for (let i = 0; i < count; i++) queue.push(ms);
    this.delays.set(key, queue);
  }

  setRateLimit(perSecond: number | null): void {
    this.rateLimit = perSecond;
  }

  stats(): FakeTelegramStats {
    return {
      sent: this.sentMessages.length,
      rejected429: this.rejected429,
      peakPerSecondByBot: Object.fromEntries(this.peaks),
    };
  }

  async deliverUpdate(botId: number, update: object): Promise<Delivery> {
    const hook = this.webhooks.get(botId);
    if (!hook)
      throw new Error(`fake-telegram: bot ${botId} has no webhook (setWebhook was not called, or was deleted)`);
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (hook.secretToken !== undefined) headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secretToken;
    let res: Response;
    try {
      const init = { method: "POST", headers, body: JSON.stringify(update), signal: AbortSignal.timeout(60_000) };
      res = await fetch(hook.url, init);
    } catch (err) {
      noteWebhookError(hook, "Connection refused");
      const reason = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      throw new Error(`fake-telegram: delivering an update to ${hook.url} failed: ${reason}`, { cause: err });
    }
    const body = await res.text();
    if (res.status < 200 || res.status > 299) {
      noteWebhookError(hook, `Wrong response from the webhook: ${res.status} ${res.statusText}`);
    }
    return { status: res.status, body };
  }

  /** A text as a Telegram client sends it: a leading /command gets its bot_command entity. */
  async userSays(botId: number, opts: UserSaysOptions): Promise<Delivery & { update: object }> {
    const chatId = opts.chatId ?? opts.userId;
    const messageId = this.nextMessageId(botId, chatId);
    const update = commandMessage(opts.text, {
      updateId: nextUpdateId(),
      userId: opts.userId,
      chatId,
      firstName: opts.firstName ?? "Alice",
      messageId,
    });
    this.userMessages.set(messageKey(botId, chatId, messageId), (update.message as { date: number }).date);
    return { ...(await this.deliverUpdate(botId, update)), update };
  }

  async userActs(botId: number, opts: UserActOptions): Promise<Delivery & { update: object }> {
    const chatId = opts.chatId ?? opts.userId;
    const built = userUpdate(opts, {
      chatId,
      bot: this.botById(botId),
      nextMessageId: () => this.nextMessageId(botId, chatId),
      botMessage: (id) => this.botMessages.get(messageKey(botId, chatId, id)),
      userMessageDate: (id) => this.userMessages.get(messageKey(botId, chatId, id)),
    });
    if (built.sentMessageId !== undefined) {
      this.userMessages.set(messageKey(botId, chatId, built.sentMessageId), built.date);
    }
    if (built.queryId !== undefined) this.issuedQueries.set(`${botId}:${built.queryId}`, chatId);
    return { ...(await this.deliverUpdate(botId, built.update)), update: built.update };
  }

  /** The bot's public face (for the `from` of its messages in updates). */
  private botById(botId: number): FakeBotInfo {
    for (const bot of this.registered.values()) if (bot.id === botId) return bot;
    return { id: botId, username: `bot${botId}_bot`, first_name: `Bot ${botId}` };
  }

  async waitForMessages(filter: SentFilter & { count: number; timeoutMs?: number }): Promise<SentMessage[]> {
    const { count, timeoutMs = 5000, ...where } = filter;
    const enough = (): SentMessage[] | undefined => {
      const found = this.sent(where);
      return found.length >= count ? found : undefined;
    };
    const found = await this.waitForSent(enough, timeoutMs);
    if (found) return found;
    const have = this.sent(where);
    const why = this.closing ? "the fake was closed" : `timed out after ${timeoutMs} ms`;
    throw new Error(
      `waitForMessages: ${why} waiting for ${count} message(s) matching ${JSON.stringify(where)}; ` +
        `got ${have.length}${have.length ? `: ${JSON.stringify(have.map((m) => m.text))}` : ""}`,
    );
  }

  /** Resolves with compute()'s first defined value, re-checked on every send; undefined on timeout, abort or close. */
  waitForSent<T>(compute: () => T | undefined, timeoutMs: number, signal?: AbortSignal): Promise<T | undefined> {
    return new Promise((resolve) => {
      const first = compute();
      if (first !== undefined || this.closing || signal?.aborted) return resolve(first);
      const finish = (value: T | undefined) => {
        clearTimeout(timer);
        this.emitter.off("sent", onSent);
        this.emitter.off("close", onEnd);
        signal?.removeEventListener("abort", onEnd);
        resolve(value);
      };
      const onSent = () => {
        const value = compute();
        if (value !== undefined) finish(value);
      };
      const onEnd = () => finish(undefined);
      const timer = setTimeout(onEnd, timeoutMs);
      this.emitter.on("sent", onSent);
      this.emitter.on("close", onEnd);
      signal?.addEventListener("abort", onEnd);
    });
  }

  /**
   * Clears calls, sent messages, callback answers, keyboard edits, the chats' stored messages, blocks,
   * queued failures and rate/peak counters; keeps bots, webhooks, the rate limit and message ids.
   */
  reset(): void {
    this.calls = [];
    this.sentMessages = [];
    this.answers = [];
    this.edits = [];
    this.botEvents = [];
    this.botMessages = new Map();
    this.answeredQueries = new Set();
    this.userMessages = new Map();
    this.issuedQueries = new Map();
    this.blocked = new Set();
    this.failures = new Map();
    this.delays = new Map();
    this.recentSends = new Map();
    this.peaks = new Map();
    this.rejected429 = 0;
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve, reject) => {
      this.emitter.emit("close");
      this.server.close((err) => (err ? reject(err) : resolve()));
      this.server.closeAllConnections();
    });
    return this.closing;
  }
}

/** The entries with seq > sinceSeq of a list in seq order (scanned from the end). */
function after<T extends { seq: number }>(list: T[], sinceSeq: number): T[] {
  let start = list.length;
  while (start > 0 && list[start - 1]!.seq > sinceSeq) start--;
  return list.slice(start);
}

function matches(m: { botId: number; chatId?: number }, filter: SentFilter): boolean {
  return (
    (filter.botId === undefined || m.botId === filter.botId) &&
    (filter.chatId === undefined || m.chatId === filter.chatId)
  );
}

function noteWebhookError(hook: Webhook, message: string): void {
  hook.lastErrorDate = Math.floor(Date.now() / 1000);
  hook.lastErrorMessage = message;
}
