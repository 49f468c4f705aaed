/**
 * The fake Bot API's control routes (packages/fake-telegram/src/control.ts), for a fake running in
 * another process: what the bot sent, counters, and a user's message delivered to the webhook.
 */
import type { FakeTelegramStats, SentFilter, SentMessage } from "@journeys/fake-telegram";
import { jsonBody, requestJson } from "./http.ts";

export type { FakeTelegramStats, SentMessage };

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
