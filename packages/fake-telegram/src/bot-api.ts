/** The Bot API methods the fake implements, answering like Telegram does. */
import { intParam, jsonParam } from "./http.ts";
import { nowSeconds } from "./updates.ts";

export interface FakeBotInfo {
  id: number;
  username: string;
  first_name: string;
}

export type ApiResult =
  | { ok: true; result: unknown; description?: string }
  | { ok: false; error_code: number; description: string; parameters?: { retry_after: number } };

export interface Webhook {
  url: string;
  secretToken?: string;
  allowedUpdates?: unknown;
  maxConnections: number;
  lastErrorDate?: number;
  lastErrorMessage?: string;
}

/** A message the bot sent, as its edits and the buttons pressed under it need it. */
export interface StoredMessage {
  date: number;
  text: string;
  /** Its inline keyboard as it stands (the only markup a message keeps). */
  replyMarkup?: unknown;
}

/** What the methods need from the server's state. */
export interface BotApiState {
  webhooks: Map<number, Webhook>;
  commands: Map<number, unknown>;
  /** By messageKey(bot, chat, message id). */
  botMessages: Map<string, StoredMessage>;
  /** "<botId>:<callback_query_id>" answered already: Telegram takes one answer per query. */
  answeredQueries: Set<string>;
  isBlocked(botId: number, chatId: number): boolean;
  /** Counts an accepted send against the rate limit; false means "answer 429". */
  admitSend(botId: number): boolean;
  nextMessageId(botId: number, chatId: number): number;
}

export const MAX_MESSAGE_LENGTH = 4096;
/** Telegram's limits on a callback button's data and a callback answer's text. */
export const MAX_CALLBACK_DATA_BYTES = 64;
export const MAX_CALLBACK_ANSWER_LENGTH = 200;
const NOT_MODIFIED =
  "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message";
const QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid";

export const messageKey = (botId: number, chatId: number, messageId: number) => `${botId}:${chatId}:${messageId}`;
const SECRET_TOKEN = /^[A-Za-z0-9_-]{1,256}$/;

export function apiError(code: number, description: string, retryAfter?: number): ApiResult {
  return {
    ok: false,
    error_code: code,
    description,
    ...(retryAfter === undefined ? {} : { parameters: { retry_after: retryAfter } }),
  };
}
const ok = (result: unknown, description?: string): ApiResult => ({
  ok: true,
  result,
  ...(description ? { description } : {}),
});

type Method = (state: BotApiState, bot: FakeBotInfo, params: Record<string, unknown>) => ApiResult;

const methods: Record<string, Method> = {
  getMe: (_s, bot) =>
    ok({
      id: bot.id,
      is_bot: true,
      first_name: bot.first_name,
      username: bot.username,
      can_join_groups: true,
      can_read_all_group_messages: false,
      supports_inline_queries: false,
    }),

  setWebhook: (s, bot, p) => {
    const url = typeof p.url === "string" ? p.url : "";
    if (url === "") return methods.deleteWebhook!(s, bot, p);
    if (!/^https?:\/\/[^/]/.test(url) || !URL.canParse(url))
      return apiError(400, "Bad Request: bad webhook: invalid URL");
    const secret = p.secret_token;
    if (secret !== undefined && (typeof secret !== "string" || !SECRET_TOKEN.test(secret))) {
      return apiError(400, "Bad Request: secret token contains unallowed characters");
    }
    const previous = s.webhooks.get(bot.id);
    s.webhooks.set(bot.id, {
      url,
      maxConnections: intParam(p.max_connections) ?? 40,
      ...(typeof secret === "string" ? { secretToken: secret } : {}),
      ...(p.allowed_updates === undefined ? {} : { allowedUpdates: jsonParam(p.allowed_updates) }),
    });
    return ok(true, previous?.url === url ? "Webhook is already set" : "Webhook was set");
  },

  deleteWebhook: (s, bot) => ok(true, s.webhooks.delete(bot.id) ? "Webhook was deleted" : "Webhook is already deleted"),

  getWebhookInfo: (s, bot) => {
    const hook = s.webhooks.get(bot.id);
    if (!hook) return ok({ url: "", has_custom_certificate: false, pending_update_count: 0 });
    return ok({
      url: hook.url,
      has_custom_certificate: false,
      pending_update_count: 0,
      max_connections: hook.maxConnections,
      ip_address: "127.0.0.1",
      ...(hook.allowedUpdates === undefined ? {} : { allowed_updates: hook.allowedUpdates }),
      ...(hook.lastErrorDate === undefined
        ? {}
        : { last_error_date: hook.lastErrorDate, last_error_message: hook.lastErrorMessage }),
    });
  },

  sendMessage: (s, bot, p) => {
    if (p.chat_id === undefined || p.chat_id === "") return apiError(400, "Bad Request: chat_id is empty");
    const chatId = intParam(p.chat_id);
    if (chatId === undefined) return apiError(400, "Bad Request: chat not found");
    const text = typeof p.text === "string" ? p.text : p.text === undefined ? "" : String(p.text);
    if (text.trim() === "") return apiError(400, "Bad Request: message text is empty");
    if (text.length > MAX_MESSAGE_LENGTH) return apiError(400, "Bad Request: message is too long");
    const markup = jsonParam(p.reply_markup);
    const badMarkup = markupError(markup);
    if (badMarkup) return apiError(400, badMarkup);
    if (s.isBlocked(bot.id, chatId)) return apiError(403, "Forbidden: bot was blocked by the user");
    if (!s.admitSend(bot.id)) return apiError(429, "Too Many Requests: retry after 1", 1);
    const messageId = s.nextMessageId(bot.id, chatId);
    const kept = keptMarkup(markup);
    const date = nowSeconds();
    s.botMessages.set(messageKey(bot.id, chatId, messageId), { date, text, ...(kept ? { replyMarkup: kept } : {}) });
    return ok({ message_id: messageId, from: botFrom(bot), chat: chatOf(chatId), date, text, ...markupField(kept) });
  },

  answerCallbackQuery: (s, bot, p) => {
    const queryId = typeof p.callback_query_id === "number" ? String(p.callback_query_id) : p.callback_query_id;
    const key = `${bot.id}:${queryId}`;
    if (typeof queryId !== "string" || queryId === "" || s.answeredQueries.has(key))
      return apiError(400, QUERY_TOO_OLD);
    if (typeof p.text === "string" && p.text.length > MAX_CALLBACK_ANSWER_LENGTH)
      return apiError(400, "Bad Request: MESSAGE_TOO_LONG");
    s.answeredQueries.add(key);
    return ok(true);
  },

  editMessageReplyMarkup: (s, bot, p) => {
    if (p.inline_message_id !== undefined)
      return apiError(400, "Bad Request: inline messages are not supported by fake-telegram");
    if (p.chat_id === undefined || p.chat_id === "") return apiError(400, "Bad Request: chat_id is empty");
    const chatId = intParam(p.chat_id);
    if (chatId === undefined) return apiError(400, "Bad Request: chat not found");
    const messageId = intParam(p.message_id);
    if (messageId === undefined) return apiError(400, "Bad Request: message identifier is not specified");
    const markup = jsonParam(p.reply_markup);
    if (markup !== undefined && !isInlineKeyboard(markup))
      return apiError(400, "Bad Request: inline keyboard expected");
    const badMarkup = markupError(markup);
    if (badMarkup) return apiError(400, badMarkup);
    if (s.isBlocked(bot.id, chatId)) return apiError(403, "Forbidden: bot was blocked by the user");
    const stored = s.botMessages.get(messageKey(bot.id, chatId, messageId));
    if (!stored) return apiError(400, "Bad Request: message to edit not found");
    const kept = keptMarkup(markup);
    if (sameMarkup(stored.replyMarkup, kept)) return apiError(400, NOT_MODIFIED);
    if (!s.admitSend(bot.id)) return apiError(429, "Too Many Requests: retry after 1", 1);
    if (kept) stored.replyMarkup = kept;
    else delete stored.replyMarkup;
    return ok({
      message_id: messageId,
      from: botFrom(bot),
      chat: chatOf(chatId),
      date: stored.date,
      edit_date: nowSeconds(),
      text: stored.text,
      ...markupField(kept),
    });
  },

  setMyCommands: (s, bot, p) => {
    const commands = jsonParam(p.commands);
    if (!Array.isArray(commands)) return apiError(400, "Bad Request: can't parse commands JSON object");
    s.commands.set(bot.id, commands);
    return ok(true);
  },
  getMyCommands: (s, bot) => ok(s.commands.get(bot.id) ?? []),
  deleteMyCommands: (s, bot) => {
    s.commands.delete(bot.id);
    return ok(true);
  },
  sendChatAction: () => ok(true),
};

// Telegram matches method names case-insensitively.
const byLowerName = new Map(Object.entries(methods).map(([name, fn]) => [name.toLowerCase(), fn]));

export function callMethod(state: BotApiState, bot: FakeBotInfo, method: string, params: Record<string, unknown>) {
  const fn = byLowerName.get(method.toLowerCase());
  return fn ? fn(state, bot, params) : apiError(404, "Not Found: method not found");
}

function chatOf(id: number) {
  if (id > 0) return { id, type: "private", first_name: "User" };
  return String(id).startsWith("-100")
    ? { id, type: "supergroup", title: "Group" }
    : { id, type: "group", title: "Group" };
}

const botFrom = (bot: FakeBotInfo) => ({
  id: bot.id,
  is_bot: true,
  first_name: bot.first_name,
  username: bot.username,
});

function isInlineKeyboard(markup: unknown): markup is { inline_keyboard: unknown } {
  return typeof markup === "object" && markup !== null && "inline_keyboard" in markup;
}

/** A message keeps only an inline keyboard, and an empty one is none. */
function keptMarkup(markup: unknown): { inline_keyboard: unknown[][] } | undefined {
  if (!isInlineKeyboard(markup)) return undefined;
  const rows = markup.inline_keyboard as unknown[][];
  return rows.some((row) => row.length > 0) ? { inline_keyboard: rows } : undefined;
}

const markupField = (kept: unknown) => (kept ? { reply_markup: kept } : {});

/** Equal keyboards, whatever the order of each button's keys. */
function sameMarkup(a: unknown, b: unknown): boolean {
  const canon = (m: unknown) =>
    JSON.stringify(
      (m as { inline_keyboard?: Record<string, unknown>[][] } | undefined)?.inline_keyboard?.map((row) =>
        row.map((button) => Object.entries(button).sort(([x], [y]) => x.localeCompare(y))),
      ) ?? null,
    );
  return canon(a) === canon(b);
}

/** Telegram's refusal of a reply_markup it cannot use, or undefined when it is fine (or absent). */
function markupError(markup: unknown): string | undefined {
  if (markup === undefined) return undefined;
  if (typeof markup !== "object" || markup === null)
    return "Bad Request: can't parse reply keyboard markup JSON object";
  const m = markup as Record<string, unknown>;
  if ("inline_keyboard" in m) {
    if (!isRows(m.inline_keyboard))
      return 'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup should be an Array of Arrays';
    for (const button of m.inline_keyboard.flat()) {
      const b = (typeof button === "object" && button !== null ? button : {}) as Record<string, unknown>;
      if (typeof b.text !== "string" || b.text === "")
        return "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
      if (typeof b.callback_data === "string") {
        const bytes = Buffer.byteLength(b.callback_data, "utf8");
        if (bytes === 0 || bytes > MAX_CALLBACK_DATA_BYTES) return "Bad Request: BUTTON_DATA_INVALID";
      } else if (typeof b.url !== "string") {
        return "Bad Request: can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard";
      }
    }
    return undefined;
  }
  if ("keyboard" in m) {
    if (!isRows(m.keyboard))
      return 'Bad Request: field "keyboard" of the ReplyKeyboardMarkup should be an Array of Arrays';
    const texts = m.keyboard.flat().map((k) => (typeof k === "string" ? k : (k as { text?: unknown } | null)?.text));
    return texts.every((t) => typeof t === "string" && t !== "")
      ? undefined
      : "Bad Request: keyboard button text must be non-empty";
  }
  if (m.remove_keyboard === true || m.force_reply === true) return undefined;
  return "Bad Request: can't parse reply keyboard markup JSON object";
}

const isRows = (v: unknown): v is unknown[][] => Array.isArray(v) && v.every(Array.isArray);
