/**
 * A user's action in their private chat with a bot, as the update Telegram sends for it: the
 * chat's next message id for a new message, the pressed message as the bot left it, an edited
 * message's first date. The server supplies what it remembers of the chat.
 */
import type { FakeBotInfo, StoredMessage } from "./bot-api.ts";
import type { UserActOptions } from "./types.ts";
import * as updates from "./updates.ts";

export interface ChatMemory {
  chatId: number;
  bot: FakeBotInfo;
  nextMessageId(): number;
  botMessage(messageId: number): StoredMessage | undefined;
  /** When the user sent their message `messageId` (unix seconds), if the fake delivered it. */
  userMessageDate(messageId: number): number | undefined;
}

export interface BuiltUpdate {
  update: updates.Update;
  /** The id of the new user message the update carries (not for a press or an edit). */
  sentMessageId?: number;
  date: number;
  /** The callback query id, for a press. */
  queryId?: string;
}

export function userUpdate(opts: UserActOptions, chat: ChatMemory): BuiltUpdate {
  const base = {
    updateId: updates.nextUpdateId(),
    userId: opts.userId,
    chatId: chat.chatId,
    ...(opts.firstName === undefined ? {} : { firstName: opts.firstName }),
    ...(opts.languageCode === undefined ? {} : { languageCode: opts.languageCode }),
  };
  const date = updates.nowSeconds();
  if (opts.type === "press") {
    const pressed = chat.botMessage(opts.messageId);
    if (!pressed) throw new Error(`fake-telegram: the bot sent no message ${opts.messageId} to chat ${chat.chatId}`);
    const queryId = `${BigInt(chat.bot.id) * 1_000_003n + BigInt(Date.now())}${Math.floor(Math.random() * 1e4)}`;
    const update = updates.callbackQuery(opts.data, {
      ...base,
      bot: chat.bot,
      messageId: opts.messageId,
      date: pressed.date,
      messageText: pressed.text,
      queryId,
      ...(pressed.replyMarkup === undefined ? {} : { replyMarkup: pressed.replyMarkup }),
    });
    return { update, date, queryId };
  }
  if (opts.type === "edit") {
    const sentAt = chat.userMessageDate(opts.messageId) ?? date;
    const update = updates.editedMessage(opts.text, {
      ...base,
      messageId: opts.messageId,
      date: sentAt,
      editDate: date,
    });
    return { update, date: sentAt };
  }
  const message = { ...base, messageId: chat.nextMessageId(), date };
  const built = (update: updates.Update): BuiltUpdate => ({ update, sentMessageId: message.messageId, date });
  switch (opts.type) {
    case "text":
      return built(updates.commandMessage(opts.text, message));
    case "contact":
      return built(
        updates.contactMessage(opts.phoneNumber, {
          ...message,
          ...(opts.contactUserId === undefined ? {} : { contactUserId: opts.contactUserId }),
          ...(opts.contactFirstName === undefined ? {} : { contactFirstName: opts.contactFirstName }),
        }),
      );
    case "forward": {
      const origin = { id: opts.originUserId ?? 777000123, first_name: opts.originFirstName ?? "Bob" };
      return built(updates.forwardedMessage(opts.text, { ...message, origin }));
    }
    case "photo":
      return built(
        updates.photoMessage({ ...message, ...(opts.caption === undefined ? {} : { caption: opts.caption }) }),
      );
    case "sticker":
      return built(updates.sticker({ ...message, ...(opts.emoji === undefined ? {} : { emoji: opts.emoji }) }));
    case "voice":
      return built(
        updates.voiceMessage({ ...message, ...(opts.duration === undefined ? {} : { duration: opts.duration }) }),
      );
    case "location":
      return built(updates.locationMessage(opts.latitude, opts.longitude, message));
  }
}
