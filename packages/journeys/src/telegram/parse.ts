import { START_PARAM_RE } from "../step-config.ts";

/**
 * `/start`, `/start <param>`, `/start@botname <param>`. Returns null when the text is not a /start
 * command for this bot; `param` is null when absent and `invalid` when outside [A-Za-z0-9_-]{1,64}.
 */
export function parseStart(text: string, botUsername: string): { param: string | null; invalid: boolean } | null {
  const m = /^\/start(?:@([A-Za-z0-9_]+))?(?:\s+(.*))?$/s.exec(text.trim());
  if (!m) return null;
  if (m[1] && m[1].toLowerCase() !== botUsername.toLowerCase()) return null;
  const raw = m[2]?.trim();
  if (!raw) return { param: null, invalid: false };
  return START_PARAM_RE.test(raw) ? { param: raw, invalid: false } : { param: null, invalid: true };
}

/** Who sent an update, as the session's context keeps it. */
export interface From {
  userId: number;
  chatId: number;
  firstName?: string;
  lastName?: string;
  username?: string;
  languageCode?: string;
}

export type ClassifiedUpdate =
  | ({ kind: "start"; updateId: number; param: string | null; invalidParam: boolean } & From)
  /** A command other than /start (a message beginning with a bot_command entity); `name` lower-case, no "/". */
  | ({ kind: "command"; updateId: number; name: string } & From)
  | ({ kind: "text"; updateId: number; text: string; forwarded: boolean } & From)
  | ({ kind: "edit"; updateId: number; text: string; sentAt: Date } & From)
  | ({ kind: "media"; updateId: number; media: string } & From)
  | ({ kind: "contact"; updateId: number; phone: string; own: boolean } & From)
  | ({ kind: "button"; updateId: number; callbackQueryId: string; data: string; messageId: number } & From)
  | { kind: "blocked"; updateId: number; userId: number }
  | { kind: "ignored"; updateId: number; type: string };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const isId = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x);
const str = (x: unknown, max = 256): string | undefined => (typeof x === "string" && x.length <= max ? x : undefined);
/** Journeys are private conversations: a group, supergroup or channel chat never drives one. */
const isGroupish = (chat: Record<string, unknown>) => typeof chat.type === "string" && chat.type !== "private";
/** `/cmd@otherbot …` is addressed to another bot: neither a deep link nor an answer for this one. */
function commandForOtherBot(text: string, botUsername: string): boolean {
  const m = /^\/[A-Za-z0-9_]+@([A-Za-z0-9_]+)/.exec(text.trim());
  return m !== null && m[1]!.toLowerCase() !== botUsername.toLowerCase();
}

/** The update_id of a webhook body, or null when the body is not an update at all. */
export function updateIdOf(body: unknown): number | null {
  return isObj(body) && isId(body.update_id) && body.update_id >= 0 ? body.update_id : null;
}

/** Media kinds Telegram puts on a message without text (the first found names it). */
const MEDIA_KINDS = [
  "photo",
  "sticker",
  "voice",
  "video_note",
  "video",
  "animation",
  "audio",
  "document",
  "location",
  "venue",
  "poll",
  "dice",
  "game",
  "story",
] as const;

function fromOf(msg: Record<string, unknown>): From | null {
  const from = msg.from;
  const chat = msg.chat;
  if (!isObj(from) || !isId(from.id) || !isObj(chat) || !isId(chat.id)) return null;
  const out: From = { userId: from.id, chatId: chat.id };
  const first = str(from.first_name);
  const last = str(from.last_name);
  const username = str(from.username, 64);
  const lang = str(from.language_code, 35);
  if (first) out.firstName = first;
  if (last) out.lastName = last;
  if (username) out.username = username;
  if (lang) out.languageCode = lang;
  return out;
}

/**
 * The command a message begins with: a `bot_command` entity at offset 0 (what Telegram sends for
 * every /command), or — only for a message with no entities at all — a leading `/word`.
 */
function commandOf(msg: Record<string, unknown>, text: string): string | null {
  const entities = msg.entities;
  let length: number | null = null;
  if (Array.isArray(entities)) {
    const first = entities.find((e) => isObj(e) && e.type === "bot_command" && e.offset === 0);
    if (isObj(first) && typeof first.length === "number") length = first.length;
  } else {
    const m = /^\/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]+)?(?=\s|$)/.exec(text);
    if (m) length = m[0].length;
  }
  if (length === null) return null;
  const word = text.slice(1, length).split("@")[0] ?? "";
  return /^[A-Za-z0-9_]{1,64}$/.test(word) ? word.toLowerCase() : null;
}

const forwardedOf = (msg: Record<string, unknown>) =>
  msg.forward_origin !== undefined ||
  msg.forward_from !== undefined ||
  msg.forward_date !== undefined ||
  msg.forward_sender_name !== undefined ||
  msg.forward_from_chat !== undefined;

/**
 * Sort a Telegram update into what the engine acts on: messages, edits, button presses and a user
 * blocking the bot, from private chats. Anything else — channel posts, groups, bots, future types —
 * is "ignored" (answered 200, nothing done).
 */
export function classifyUpdate(body: Record<string, unknown>, botUsername: string): ClassifiedUpdate {
  const updateId = body.update_id as number;
  const msg = body.message;
  if (isObj(msg)) {
    const from = fromOf(msg);
    if (!from) return { kind: "ignored", updateId, type: "message_without_sender" };
    if (isObj(msg.from) && msg.from.is_bot === true) return { kind: "ignored", updateId, type: "message_from_bot" };
    if (isObj(msg.chat) && isGroupish(msg.chat)) return { kind: "ignored", updateId, type: "message_in_group" };
    if (typeof msg.text === "string") return textMessage(updateId, msg, msg.text, from, botUsername);
    const contact = msg.contact;
    if (isObj(contact) && typeof contact.phone_number === "string") {
      const own = isId(contact.user_id) && contact.user_id === from.userId;
      return { kind: "contact", updateId, phone: contact.phone_number.slice(0, 64), own, ...from };
    }
    const media = MEDIA_KINDS.find((k) => msg[k] !== undefined);
    if (media) return { kind: "media", updateId, media, ...from };
    return { kind: "ignored", updateId, type: "message_without_text" };
  }
  const edit = body.edited_message;
  if (isObj(edit)) {
    const from = fromOf(edit);
    if (!from || typeof edit.text !== "string" || !isId(edit.date))
      return { kind: "ignored", updateId, type: "edited_message" };
    if ((isObj(edit.from) && edit.from.is_bot === true) || (isObj(edit.chat) && isGroupish(edit.chat))) {
      return { kind: "ignored", updateId, type: "edited_message" };
    }
    if (edit.text.trim().startsWith("/")) return { kind: "ignored", updateId, type: "edited_command" };
    return { kind: "edit", updateId, text: edit.text, sentAt: new Date(edit.date * 1000), ...from };
  }
  const cq = body.callback_query;
  if (isObj(cq) && typeof cq.id === "string" && isObj(cq.from) && isId(cq.from.id)) {
    const message = cq.message;
    const chat = isObj(message) && isObj(message.chat) ? message.chat : null;
    const privateChat = chat !== null && isId(chat.id) && !isGroupish(chat);
    const data = typeof cq.data === "string" ? cq.data : "";
    const messageId = isObj(message) && isId(message.message_id) ? message.message_id : 0;
    const from = fromOf({ from: cq.from, chat: privateChat ? chat : { id: cq.from.id } });
    if (!from) return { kind: "ignored", updateId, type: "callback_query" };
    // A press anywhere else (a group, an inline message) still gets its answer: Telegram shows a spinner until then.
    return {
      kind: "button",
      updateId,
      callbackQueryId: cq.id.slice(0, 128),
      data: privateChat ? data : "",
      messageId,
      ...from,
    };
  }
  const member = body.my_chat_member;
  if (isObj(member) && isObj(member.new_chat_member) && isObj(member.from) && isId(member.from.id)) {
    // Only in the private chat does "kicked" mean the user blocked the bot; in a group it means the
    // bot was removed from that group, which says nothing about the remover's own conversations.
    const privateChat = !isObj(member.chat) || !isGroupish(member.chat);
    if (privateChat && member.new_chat_member.status === "kicked") {
      return { kind: "blocked", updateId, userId: member.from.id };
    }
  }
  const type = Object.keys(body).find((k) => k !== "update_id") ?? "empty";
  return { kind: "ignored", updateId, type };
}

function textMessage(
  updateId: number,
  msg: Record<string, unknown>,
  text: string,
  from: From,
  botUsername: string,
): ClassifiedUpdate {
  const forwarded = forwardedOf(msg);
  if (!forwarded) {
    if (commandForOtherBot(text, botUsername)) return { kind: "ignored", updateId, type: "command_for_other_bot" };
    const name = commandOf(msg, text);
    if (name === "start") {
      const start = parseStart(text, botUsername);
      if (start) return { kind: "start", updateId, param: start.param, invalidParam: start.invalid, ...from };
    }
    if (name !== null) return { kind: "command", updateId, name, ...from };
  }
  return { kind: "text", updateId, text, forwarded, ...from };
}
