/**
 * callback_data for choice buttons: `<option index>.<MAC>`, the MAC (HMAC-SHA256, 16 bytes, base64url)
 * over the chat, the question step and the time the session arrived at it, keyed per bot from
 * BOT_TOKEN_ENCRYPTION_KEY. It fits Telegram's 64 bytes, needs no stored state, and a press counts
 * only for the step visit it was made for: a button from an older session, an earlier visit of the
 * step, another chat or another bot matches nothing, and cannot be forged without the key.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import type { OutItem } from "./engine/types.ts";

const MAC_BYTES = 16;

/** The per-bot sealing key (derived; nothing new to store or rotate). */
export function sealKey(encryptionKey: Buffer, tenantId: string, botId: string): Buffer {
  return createHmac("sha256", encryptionKey).update(`callback-data\u0000${tenantId}\u0000${botId}`).digest();
}

function mac(key: Buffer, chatId: number, stepId: string, enteredAtMs: number, index: number): Buffer {
  return createHmac("sha256", key)
    .update(`${chatId}\u0000${stepId}\u0000${enteredAtMs}\u0000${index}`)
    .digest()
    .subarray(0, MAC_BYTES);
}

export function sealData(key: Buffer, chatId: number, stepId: string, enteredAtMs: number, index: number): string {
  return `${index}.${mac(key, chatId, stepId, enteredAtMs, index).toString("base64url")}`;
}

/** The option index `data` was sealed with for this chat and step visit, or null. */
export function openData(
  key: Buffer,
  data: string,
  chatId: number,
  stepId: string,
  enteredAtMs: number,
): number | null {
  const m = /^(\d{1,3})\.([A-Za-z0-9_-]{22})$/.exec(data);
  if (!m) return null;
  const index = Number(m[1]);
  const given = Buffer.from(m[2] as string, "base64url");
  const want = mac(key, chatId, stepId, enteredAtMs, index);
  return given.length === want.length && timingSafeEqual(given, want) ? index : null;
}

/** The outbox items as they are to be stored and sent: every `seal` applied to its buttons, and dropped. */
export function sealItems(key: Buffer, chatId: number, items: readonly OutItem[]): OutItem[] {
  return items.map((item) => {
    if (item.method !== undefined || !item.seal) return item;
    const { seal, ...rest } = item;
    const markup = rest.reply_markup;
    if (!markup || !("inline_keyboard" in markup)) return rest;
    return {
      ...rest,
      reply_markup: {
        inline_keyboard: markup.inline_keyboard.map((row) =>
          row.map((b) =>
            b.callback_data === undefined
              ? b
              : {
                  ...b,
                  callback_data: sealData(key, chatId, seal.step_id, seal.entered_at_ms, Number(b.callback_data)),
                },
          ),
        ),
      },
    };
  });
}
