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

export type ClassifiedUpdate =
  | { kind: "start"; updateId: number; userId: number; chatId: number; param: string | null; invalidParam: boolean }
  | { kind: "text"; updateId: number; userId: number; chatId: number; text: string }
  | { kind: "blocked"; updateId: number; userId: number }
  | { kind: "ignored"; updateId: number; type: string };

const isObj = (x: unknown): x is Record<string, unknown> => typeof x === "object" && x !== null && !Array.isArray(x);
const isId = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x);
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

/**
 * Sort a Telegram update into what the engine acts on. Anything else — edited messages, media,
 * callbacks, channel posts, future types — is "ignored" (answered 200, nothing done).
 */
export function classifyUpdate(body: Record<string, unknown>, botUsername: string): ClassifiedUpdate {
  const updateId = body.update_id as number;
  const msg = body.message;
  if (
    isObj(msg) &&
    typeof msg.text === "string" &&
    isObj(msg.from) &&
    isId(msg.from.id) &&
    isObj(msg.chat) &&
    isId(msg.chat.id)
  ) {
    if (msg.from.is_bot === true) return { kind: "ignored", updateId, type: "message_from_bot" };
    if (isGroupish(msg.chat)) return { kind: "ignored", updateId, type: "message_in_group" };
    if (commandForOtherBot(msg.text, botUsername)) return { kind: "ignored", updateId, type: "command_for_other_bot" };
    const start = parseStart(msg.text, botUsername);
    if (start) {
      return {
        kind: "start",
        updateId,
        userId: msg.from.id,
        chatId: msg.chat.id,
        param: start.param,
        invalidParam: start.invalid,
      };
    }
    return { kind: "text", updateId, userId: msg.from.id, chatId: msg.chat.id, text: msg.text };
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
  return { kind: "ignored", updateId, type: isObj(msg) ? "message_without_text" : type };
}
