/**
 * The fake Bot API's control routes (packages/fake-telegram/src/control.ts), for a fake running in
 * another process: what the bot sent, counters, and a user's message delivered to the webhook.
 */
import type { BotEvent, FakeTelegramStats, SentFilter, SentMessage } from "@journeys/fake-telegram";
import { jsonBody, requestJson } from "./http.ts";

export type { BotEvent, FakeTelegramStats, SentMessage };

/** The longest long-poll asked of the fake; collect() polls again until its own deadline. */
const MAX_WAIT_MS = 5000;
const COLLECT_PAUSE_MS = 250;

export class FakeClient {
  /** Highest seq seen: collect() returns only messages after it. */
  private seq = 0;

  constructor(readonly root: string) {}

  stats(): Promise<FakeTelegramStats> {
    return requestJson(`${this.root}/_fake/stats`);
  }

  /** Clears recorded messages and the 429/peak counters (bots, webhooks and the rate limit stay). */
  async reset(): Promise<void> {
    await requestJson(`${this.root}/_fake/reset`, { method: "POST", body: "{}" });
    this.seq = 0;
  }

  /** Skip everything received so far. */
  async mark(): Promise<void> {
    for (;;) {
      const messages = await this.sent(0);
      if (messages.length === 0) return;
      this.seq = messages.at(-1)!.seq;
    }
  }

  /** The user writes `text` to the bot: the fake delivers it to the bot's webhook; the webhook's HTTP status. */
  async userSays(telegramBotId: number, userId: number, text: string): Promise<number> {
    const res = await requestJson<{ status: number }>(`${this.root}/_fake/user-says`, {
      method: "POST",
      ...jsonBody({ bot_id: telegramBotId, user_id: userId, text }),
    });
    return res.status;
  }

  /** One user's private chat with a bot: their presses, contacts, edits, forwards, photos, and its keyboards. */
  chat(telegramBotId: number, userId: number): FakeChat {
    return new FakeChat(this.root, telegramBotId, userId);
  }

  /**
   * Long-poll messages the bot sent (to `filter`'s bot and chat, if given) until `keep` has accepted
   * `count` of them or `timeoutMs` passes.
   */
  async collect(
    count: number,
    timeoutMs: number,
    keep: (m: SentMessage) => boolean = () => true,
    filter: SentFilter = {},
  ): Promise<SentMessage[]> {
    const got: SentMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    while (got.length < count && Date.now() < deadline) {
      const messages = await this.sent(Math.max(1, Math.min(MAX_WAIT_MS, deadline - Date.now())), filter);
      for (const m of messages) {
        this.seq = Math.max(this.seq, m.seq);
        if (keep(m)) got.push(m);
      }
      // The fake stamps each message when it arrives; polling less often changes no figure and
      // leaves the CPU to the processes being measured.
      if (messages.length > 0 && got.length < count) await new Promise((r) => setTimeout(r, COLLECT_PAUSE_MS));
    }
    return got;
  }

  private async sent(waitMs: number, filter: SentFilter = {}): Promise<SentMessage[]> {
    const query = new URLSearchParams({ since_seq: String(this.seq), wait_ms: String(waitMs) });
    if (filter.botId !== undefined) query.set("bot_id", String(filter.botId));
    if (filter.chatId !== undefined) query.set("chat_id", String(filter.chatId));
    const { messages } = await requestJson<{ messages: SentMessage[] }>(`${this.root}/_fake/sent?${query}`, {
      timeoutMs: waitMs + 15_000,
    });
    return messages;
  }
}

/** A button of a keyboard as the user sees it: numbered from 1, in rows' order. */
export interface KeyboardButton {
  index: number;
  label: string;
  /** Inline button: what a press sends back. */
  data?: string;
  /** Inline button: the link it opens (a press sends nothing to the bot). */
  url?: string;
  /** Reply-keyboard button that shares the user's phone number. */
  requestContact?: boolean;
}

export interface Keyboard {
  /** The bot's message it is attached to. */
  messageId: number;
  text: string;
  kind: "inline" | "reply";
  buttons: KeyboardButton[];
}

/** What the user's action made the fake deliver: the webhook's status and the update. */
export interface Acted {
  status: number;
  /** The webhook's answer body. */
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: a Telegram update, read freely by scripts
  update: any;
  /** The id of the user's new message (not for a press or an edit). */
  messageId?: number;
  /** A press of an inline callback button: the query the bot should answer. */
  queryId?: string;
  /** A press of a url button: the link (nothing reaches the bot). */
  url?: string;
}

/**
 * The keyboard the user has in front of them after `events` (one chat's, in order): the latest
 * message still carrying an inline keyboard (edits applied), or a reply keyboard not yet removed —
 * whichever came last. A reply keyboard sent with `one_time_keyboard` hides after one use in real
 * clients; here it stays until removed.
 */
export function lastKeyboard(events: readonly BotEvent[]): Keyboard | undefined {
  const inline = new Map<number, { text: string; markup: unknown; seq: number }>();
  let reply: { messageId: number; text: string; markup: unknown; seq: number } | undefined;
  for (const e of events) {
    if (e.kind === "message") {
      const m = e.replyMarkup as Record<string, unknown> | undefined;
      if (m?.inline_keyboard) inline.set(e.messageId, { text: e.text, markup: m, seq: e.seq });
      else if (m?.keyboard) reply = { messageId: e.messageId, text: e.text, markup: m, seq: e.seq };
      else if (m?.remove_keyboard) reply = undefined;
    } else if (e.kind === "markup_edit") {
      const shown = inline.get(e.messageId);
      if (shown && e.replyMarkup) shown.markup = e.replyMarkup;
      else if (shown) inline.delete(e.messageId);
    }
  }
  const latestInline = [...inline.entries()].sort(([, a], [, b]) => b.seq - a.seq)[0];
  if (reply && (!latestInline || reply.seq > latestInline[1].seq)) {
    return { messageId: reply.messageId, text: reply.text, kind: "reply", buttons: keyboardButtons(reply.markup) };
  }
  if (!latestInline) return undefined;
  const [messageId, shown] = latestInline;
  return { messageId, text: shown.text, kind: "inline", buttons: keyboardButtons(shown.markup) };
}

/** The buttons of a reply_markup (inline or reply keyboard), numbered from 1 in rows' order. */
export function keyboardButtons(markup: unknown): KeyboardButton[] {
  const m = markup as { inline_keyboard?: unknown[][]; keyboard?: unknown[][] };
  return (m.inline_keyboard ?? m.keyboard ?? []).flat().map((raw, i) => {
    const b = (typeof raw === "string" ? { text: raw } : raw) as Record<string, unknown>;
    return {
      index: i + 1,
      label: String(b.text),
      ...(typeof b.callback_data === "string" ? { data: b.callback_data } : {}),
      ...(typeof b.url === "string" ? { url: b.url } : {}),
      ...(b.request_contact === true ? { requestContact: true } : {}),
    };
  });
}

/** A Telegram user in their private chat with a bot, played through the fake's control routes. */
export class FakeChat {
  constructor(
    readonly root: string,
    readonly telegramBotId: number,
    readonly userId: number,
  ) {}

  /** What the bot did in this chat (messages, callback answers, keyboard edits) after `sinceSeq`. */
  async events(sinceSeq = 0, waitMs = 0): Promise<BotEvent[]> {
    const query = new URLSearchParams({
      bot_id: String(this.telegramBotId),
      chat_id: String(this.userId),
      since_seq: String(sinceSeq),
      wait_ms: String(waitMs),
    });
    const { events } = await requestJson<{ events: BotEvent[] }>(`${this.root}/_fake/events?${query}`, {
      timeoutMs: waitMs + 15_000,
    });
    return events;
  }

  /** The keyboard the user has in front of them now, if any (see lastKeyboard). */
  async lastKeyboard(): Promise<Keyboard | undefined> {
    return lastKeyboard(await this.events());
  }

  /** The user types `text` (a leading /command gets its bot_command entity, as clients send it). */
  says(text: string): Promise<Acted> {
    return this.act({ type: "text", text });
  }

  /**
   * Press a button of the last keyboard, by its number (from 1) or its label (case- and
   * space-insensitive). Inline callback button: a callback_query for that message; url button:
   * nothing is sent, the url is returned; reply-keyboard button: its label as a text, or the
   * user's contact for a request_contact button (`phone`).
   */
  async press(labelOrIndex: string | number, phone = DEFAULT_PHONE): Promise<Acted> {
    const keyboard = await this.lastKeyboard();
    if (!keyboard) throw new Error(`chat ${this.userId}: the bot shows no keyboard`);
    const wanted = typeof labelOrIndex === "string" ? squash(labelOrIndex) : undefined;
    const button = keyboard.buttons.find((b) =>
      wanted === undefined ? b.index === labelOrIndex : squash(b.label) === wanted,
    );
    if (!button) {
      const labels = keyboard.buttons.map((b) => `[${b.index}] ${b.label}`).join("  ");
      throw new Error(`chat ${this.userId}: no button ${JSON.stringify(labelOrIndex)} in ${labels}`);
    }
    if (button.url !== undefined) return { status: 0, body: "", update: null, url: button.url };
    if (button.requestContact) return this.shareContact(phone);
    if (button.data === undefined) return this.says(button.label);
    return this.act({ type: "press", message_id: keyboard.messageId, data: button.data });
  }

  /** The user shares their own contact (as the request_contact button does); `contactUserId` for someone else's. */
  shareContact(phone = DEFAULT_PHONE, contactUserId?: number | null): Promise<Acted> {
    return this.act({
      type: "contact",
      phone_number: phone,
      ...(contactUserId === undefined ? {} : { contact_user_id: contactUserId }),
    });
  }

  /** The user edits their earlier message `messageId` to `text`. */
  edit(messageId: number, text: string): Promise<Acted> {
    return this.act({ type: "edit", message_id: messageId, text });
  }

  /** The user forwards someone else's message saying `text`. */
  forward(text: string): Promise<Acted> {
    return this.act({ type: "forward", text });
  }

  photo(caption?: string): Promise<Acted> {
    return this.act({ type: "photo", ...(caption === undefined ? {} : { caption }) });
  }

  sticker(): Promise<Acted> {
    return this.act({ type: "sticker" });
  }

  /**
   * Wait until the bot answered the callback query `queryId` (its notice, or null for a silent
   * answer); undefined when no answer came within `timeoutMs`.
   */
  async answerTo(queryId: string, timeoutMs = 10_000): Promise<{ text: string | null } | undefined> {
    const deadline = Date.now() + timeoutMs;
    let since = 0;
    while (Date.now() < deadline) {
      const events = await this.events(since, Math.max(1, Math.min(5000, deadline - Date.now())));
      for (const e of events) {
        since = Math.max(since, e.seq);
        if (e.kind === "callback_answer" && e.callbackQueryId === queryId) return { text: e.text ?? null };
      }
    }
    return undefined;
  }

  private async act(action: Record<string, unknown>): Promise<Acted> {
    const res = await requestJson<{ status: number; body: string; update: Acted["update"] }>(
      `${this.root}/_fake/user-acts`,
      {
        method: "POST",
        ...jsonBody({ bot_id: this.telegramBotId, user_id: this.userId, ...action }),
      },
    );
    const acted: Acted = { status: res.status, body: res.body, update: res.update };
    const messageId = res.update?.message?.message_id;
    if (typeof messageId === "number") acted.messageId = messageId;
    const queryId = res.update?.callback_query?.id;
    if (typeof queryId === "string") acted.queryId = queryId;
    return acted;
  }
}

/** A phone number for a shared contact when none is given (Telegram sends it without spaces). */
const DEFAULT_PHONE = "+491701234567";
const squash = (s: string) => s.replace(/\s+/g, " ").trim().toLowerCase();
