import type { Api } from "grammy";
import type { InlineKeyboardMarkup as TgInlineKeyboard, ReplyKeyboardMarkup as TgReplyKeyboard } from "grammy/types";
import type { OutItem, ReplyMarkup } from "../engine/types.ts";
import { GrammyError } from "../telegram/api.ts";

/** The Bot API method an outbox row is sent with (a row without `method` is a sendMessage). */
export type OutMethod = "sendMessage" | "answerCallbackQuery" | "editMessageReplyMarkup";

/** An outbox row's call as the sender makes it; `seal` never reaches a row (the applier drops it). */
export type OutCall =
  | Exclude<OutItem, { method?: undefined }>
  | { method: "sendMessage"; text: string; reply_markup?: ReplyMarkup };

/**
 * The call a row's message_content holds, or why it holds none. Rows written before markup existed
 * are `{ text }`: a sendMessage. A row that is none of the three shapes can never be sent.
 */
export function outCallOf(content: unknown): OutCall | { invalid: string } {
  const c = (typeof content === "object" && content !== null ? content : {}) as Record<string, unknown>;
  switch (c.method) {
    case undefined:
    case "sendMessage":
      if (typeof c.text !== "string") return { invalid: "outbox row has no text to send" };
      return {
        method: "sendMessage",
        text: c.text,
        ...(c.reply_markup ? { reply_markup: c.reply_markup as ReplyMarkup } : {}),
      };
    case "answerCallbackQuery":
      if (typeof c.callback_query_id !== "string") return { invalid: "outbox row has no callback_query_id" };
      return c as OutCall;
    case "editMessageReplyMarkup":
      if (typeof c.message_id !== "number") return { invalid: "outbox row has no message_id to edit" };
      return c as OutCall;
    default:
      return { invalid: `outbox row holds an unknown method: ${String(c.method).slice(0, 64)}` };
  }
}

/** Make the row's call. The markup is the engine's own JSON shape of Telegram's types, sent as is. */
export function callBotApi(api: Api, chatId: number, call: OutCall, signal: AbortSignal) {
  // grammY types its signal parameter with the abort-controller shim's class; Node's own works.
  const s = signal as unknown as Parameters<Api["sendMessage"]>[3];
  switch (call.method) {
    case "answerCallbackQuery":
      return api.answerCallbackQuery(call.callback_query_id, call.text === undefined ? {} : { text: call.text }, s);
    case "editMessageReplyMarkup": {
      // No reply_markup: Telegram removes the keyboard.
      const markup = call.reply_markup as TgInlineKeyboard | undefined;
      return api.editMessageReplyMarkup(chatId, call.message_id, markup ? { reply_markup: markup } : {}, s);
    }
    default: {
      const markup = call.reply_markup as TgInlineKeyboard | TgReplyKeyboard | { remove_keyboard: true } | undefined;
      return api.sendMessage(chatId, call.text, markup ? { reply_markup: markup } : {}, s);
    }
  }
}

/**
 * A refusal that settles the row as sent: the keyboard already is what the edit asks for (pressed
 * twice, or edited by an earlier try whose answer was lost).
 */
export function alreadyDone(call: OutCall, err: unknown): boolean {
  return (
    call.method === "editMessageReplyMarkup" &&
    err instanceof GrammyError &&
    err.error_code === 400 &&
    /message is not modified/i.test(err.description)
  );
}
