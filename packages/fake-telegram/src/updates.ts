/**
 * Builders for realistic Telegram Update objects: everything the product must handle or ignore.
 * Each takes minimal params; ids, dates and names get plausible defaults.
 */

export interface UpdateBase {
  updateId?: number;
  userId?: number;
  /** Defaults to userId (a private chat's id is the user's id). */
  chatId?: number;
  firstName?: string;
  messageId?: number;
  /** Unix seconds. */
  date?: number;
  /** The user's Telegram language (IETF tag); default "en", null: none (Telegram leaves it out then). */
  languageCode?: string | null;
}

export interface BotRef {
  id: number;
  username: string;
  first_name: string;
}

export type Update = { update_id: number } & Record<string, unknown>;

// Update ids continue across restarts of the fake (the product dedupes by (bot, update_id)).
let lastUpdateId = Date.now();
let lastMessageId = 1000;

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
/** Shared by the builders and the server's userSays, so ids never repeat within a process. */
export const nextUpdateId = (): number => ++lastUpdateId;
const randomId = (): string => `${Date.now()}${Math.floor(Math.random() * 1e6)}`;
const DEFAULT_USER_ID = 424242;
const DEFAULT_BOT: BotRef = { id: 1000001, username: "bot1000001_bot", first_name: "Bot 1000001" };

export function user(b: UpdateBase = {}) {
  const language = b.languageCode === undefined ? "en" : b.languageCode;
  return {
    id: b.userId ?? DEFAULT_USER_ID,
    is_bot: false,
    first_name: b.firstName ?? "Alice",
    ...(language === null ? {} : { language_code: language }),
  };
}

export function privateChat(b: UpdateBase = {}) {
  return { id: b.chatId ?? b.userId ?? DEFAULT_USER_ID, type: "private", first_name: b.firstName ?? "Alice" };
}

function botUser(bot: BotRef) {
  return { id: bot.id, is_bot: true, first_name: bot.first_name, username: bot.username };
}

/** The common part of a message sent by the user in a private chat. */
function message(b: UpdateBase) {
  return {
    message_id: b.messageId ?? ++lastMessageId,
    from: user(b),
    chat: privateChat(b),
    date: b.date ?? nowSeconds(),
  };
}

const id = (b: UpdateBase): number => b.updateId ?? nextUpdateId();

export function textMessage(text: string, b: UpdateBase = {}): Update {
  return { update_id: id(b), message: { ...message(b), text } };
}

/** `/start param` (or `/start@botname param`) with its bot_command entity, as a deep link produces. */
export function startCommand(param?: string, b: UpdateBase & { botUsername?: string } = {}): Update {
  const command = b.botUsername ? `/start@${b.botUsername}` : "/start";
  return commandMessage(param ? `${command} ${param}` : command, b);
}

/**
 * A message starting with a command (`/cancel`, `/help`, `/foo@some_bot arg`): Telegram marks the
 * command, `@username` included, with a bot_command entity at offset 0. Text that does not start
 * with `/` gets no entity (it is then a plain message).
 */
export function commandMessage(text: string, b: UpdateBase = {}): Update {
  const command = /^\/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?/.exec(text)?.[0];
  const entities = command ? [{ type: "bot_command", offset: 0, length: command.length }] : undefined;
  return { update_id: id(b), message: { ...message(b), text, ...(entities ? { entities } : {}) } };
}

/** A message in a group chat (negative id) — the product should ignore it. */
export function groupMessage(text: string, b: UpdateBase & { title?: string } = {}): Update {
  const chat = {
    id: b.chatId ?? -4001234567,
    type: "group",
    title: b.title ?? "Some group",
    all_members_are_administrators: true,
  };
  return { update_id: id(b), message: { ...message(b), chat, text } };
}

/**
 * The user edited an earlier message: the same message_id and `date` (when it was first sent), the
 * new text, and `edit_date`. `messageId` and `date` should be the original message's.
 */
export function editedMessage(text: string, b: UpdateBase & { editDate?: number } = {}): Update {
  const date = b.date ?? nowSeconds() - 30;
  const editDate = b.editDate ?? Math.max(date + 1, nowSeconds());
  return { update_id: id(b), edited_message: { ...message({ ...b, date }), edit_date: editDate, text } };
}

/**
 * A message the user forwarded from someone else (by default another user): `forward_origin`
 * (Bot API 7.0+) and the legacy `forward_from` / `forward_date` Telegram still sends beside it.
 */
export function forwardedMessage(
  text: string,
  b: UpdateBase & { origin?: { id: number; first_name: string; username?: string }; originDate?: number } = {},
): Update {
  const sender = { is_bot: false, ...(b.origin ?? { id: 777000123, first_name: "Bob" }) };
  const date = b.originDate ?? nowSeconds() - 3600;
  return {
    update_id: id(b),
    message: {
      ...message(b),
      forward_origin: { type: "user", sender_user: sender, date },
      forward_from: sender,
      forward_date: date,
      text,
    },
  };
}

/**
 * The user shared a contact. Through a `request_contact` button it is their own: `user_id` is the
 * sender's id and the names are theirs; pass `contactUserId` (or null: a contact not on Telegram)
 * for someone else's card.
 */
export function contactMessage(
  phoneNumber: string,
  b: UpdateBase & { contactUserId?: number | null; contactFirstName?: string; contactLastName?: string } = {},
): Update {
  const contactUser = b.contactUserId === undefined ? (b.userId ?? DEFAULT_USER_ID) : b.contactUserId;
  const contact = {
    phone_number: phoneNumber,
    first_name: b.contactFirstName ?? b.firstName ?? "Alice",
    ...(b.contactLastName ? { last_name: b.contactLastName } : {}),
    ...(contactUser === null ? {} : { user_id: contactUser }),
  };
  return { update_id: id(b), message: { ...message(b), contact } };
}

export function voiceMessage(b: UpdateBase & { duration?: number } = {}): Update {
  const voice = {
    duration: b.duration ?? 3,
    mime_type: "audio/ogg",
    file_id: `AwACAgIAAxkBAAI${randomId()}`,
    file_unique_id: `AgAD${randomId()}`,
    file_size: 9000,
  };
  return { update_id: id(b), message: { ...message(b), voice } };
}

export function locationMessage(latitude: number, longitude: number, b: UpdateBase = {}): Update {
  return { update_id: id(b), message: { ...message(b), location: { latitude, longitude } } };
}

export function photoMessage(b: UpdateBase & { caption?: string } = {}): Update {
  const fileId = `AgACAgIAAxkBAAI${randomId()}`;
  const photo = [90, 320, 800].map((width, i) => ({
    file_id: `${fileId}_${i}`,
    file_unique_id: `AQAD${randomId()}`,
    width,
    height: Math.round(width * 0.75),
    file_size: width * 60,
  }));
  return { update_id: id(b), message: { ...message(b), photo, ...(b.caption ? { caption: b.caption } : {}) } };
}

export function sticker(b: UpdateBase & { emoji?: string } = {}): Update {
  const stickerObj = {
    file_id: `CAACAgIAAxkBAAI${randomId()}`,
    file_unique_id: `AgAD${randomId()}`,
    type: "regular",
    width: 512,
    height: 512,
    is_animated: false,
    is_video: false,
    emoji: b.emoji ?? "👍",
    set_name: "HotCherry",
    file_size: 27000,
  };
  return { update_id: id(b), message: { ...message(b), sticker: stickerObj } };
}

/**
 * The user pressed an inline button under a message the bot sent earlier: the bot's message as it
 * stands (`messageId`, its `date`, text and keyboard), the button's callback_data, and a query id
 * the bot answers with answerCallbackQuery.
 */
export function callbackQuery(
  data: string,
  b: UpdateBase & { bot?: BotRef; messageText?: string; replyMarkup?: unknown; queryId?: string } = {},
): Update {
  const bot = b.bot ?? DEFAULT_BOT;
  const botMessage = {
    ...message(b),
    from: botUser(bot),
    text: b.messageText ?? "Pick one:",
    ...(b.replyMarkup === undefined ? {} : { reply_markup: b.replyMarkup }),
  };
  // Telegram's chat_instance is a stable id of the chat the button's message is in.
  const chatInstance = String(-(BigInt(b.chatId ?? b.userId ?? DEFAULT_USER_ID) * 7919n + BigInt(bot.id)));
  return {
    update_id: id(b),
    callback_query: {
      id: b.queryId ?? randomId(),
      from: user(b),
      message: botMessage,
      chat_instance: chatInstance,
      data,
    },
  };
}

/** The user blocked ("kicked") or unblocked/started ("member") the bot. */
export function myChatMember(status: "kicked" | "member", b: UpdateBase & { bot?: BotRef } = {}): Update {
  const botAsUser = botUser(b.bot ?? DEFAULT_BOT);
  const kicked = { user: botAsUser, status: "kicked", until_date: 0 };
  const member = { user: botAsUser, status: "member" };
  return {
    update_id: id(b),
    my_chat_member: {
      chat: privateChat(b),
      from: user(b),
      date: b.date ?? nowSeconds(),
      old_chat_member: status === "kicked" ? member : kicked,
      new_chat_member: status === "kicked" ? kicked : member,
    },
  };
}

export function channelPost(text: string, b: UpdateBase & { title?: string } = {}): Update {
  const chat = { id: b.chatId ?? -1001987654321, type: "channel", title: b.title ?? "Some channel" };
  const post = { message_id: b.messageId ?? ++lastMessageId, sender_chat: chat, chat, date: b.date ?? nowSeconds() };
  return { update_id: id(b), channel_post: { ...post, text } };
}

/** An update kind this Bot API version doesn't know — clients must ignore it, not crash. */
export function unknownFutureType(b: UpdateBase = {}): Update {
  return { update_id: id(b), some_future_field: { id: randomId(), date: b.date ?? nowSeconds(), from: user(b) } };
}

export function inlineQuery(query: string, b: UpdateBase = {}): Update {
  return { update_id: id(b), inline_query: { id: randomId(), from: user(b), query, offset: "", chat_type: "sender" } };
}

export function pollAnswer(b: UpdateBase & { pollId?: string; optionIds?: number[] } = {}): Update {
  return {
    update_id: id(b),
    poll_answer: { poll_id: b.pollId ?? randomId(), user: user(b), option_ids: b.optionIds ?? [0] },
  };
}
