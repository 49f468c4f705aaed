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

/** What the methods need from the server's state. */
export interface BotApiState {
  webhooks: Map<number, Webhook>;
  commands: Map<number, unknown>;
  isBlocked(botId: number, chatId: number): boolean;
  /** Counts an accepted send against the rate limit; false means "answer 429". */
  admitSend(botId: number): boolean;
  nextMessageId(botId: number, chatId: number): number;
}

export const MAX_MESSAGE_LENGTH = 4096;
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
    if (s.isBlocked(bot.id, chatId)) return apiError(403, "Forbidden: bot was blocked by the user");
    if (!s.admitSend(bot.id)) return apiError(429, "Too Many Requests: retry after 1", 1);
    const markup = jsonParam(p.reply_markup);
    return ok({
      message_id: s.nextMessageId(bot.id, chatId),
      from: { id: bot.id, is_bot: true, first_name: bot.first_name, username: bot.username },
      chat: chatOf(chatId),
      date: nowSeconds(),
      text,
      ...(isInlineKeyboard(markup) ? { reply_markup: markup } : {}),
    });
  },

  answerCallbackQuery: (_s, _bot, p) =>
    typeof p.callback_query_id === "string" && p.callback_query_id !== ""
      ? ok(true)
      : apiError(400, "Bad Request: query is too old and response timeout expired or query ID is invalid"),

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

function isInlineKeyboard(markup: unknown): boolean {
  return typeof markup === "object" && markup !== null && "inline_keyboard" in markup;
}
