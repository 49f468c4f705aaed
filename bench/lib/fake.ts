/** The fake Bot API's control routes (packages/fake-telegram/src/control.ts), as the phases use them. */

import type { FakeTelegramStats as FakeStats, SentMessage } from "../../packages/fake-telegram/src/index.ts";

export type { FakeStats, SentMessage };

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`${url} → ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const COLLECT_PAUSE_MS = 250;

export class FakeClient {
  /** Highest seq seen: collect() returns only messages after it. */
  private seq = 0;

  constructor(private readonly root: string) {}

  stats(): Promise<FakeStats> {
    return json(`${this.root}/_fake/stats`);
  }

  /** Clears recorded messages and the 429/peak counters (bots, webhooks and the rate limit stay). */
  async reset(): Promise<void> {
    await json(`${this.root}/_fake/reset`, { method: "POST", body: "{}" });
    this.seq = 0;
  }

  /** Skip everything received so far. */
  async mark(): Promise<void> {
    for (;;) {
      const { messages } = await json<{ messages: SentMessage[] }>(`${this.root}/_fake/sent?since_seq=${this.seq}`);
      if (messages.length === 0) return;
      this.seq = messages.at(-1)!.seq;
    }
  }

  /** Long-poll received messages until `keep` has accepted `count` of them or `timeoutMs` passes. */
  async collect(count: number, timeoutMs: number, keep: (m: SentMessage) => boolean): Promise<SentMessage[]> {
    const got: SentMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    while (got.length < count && Date.now() < deadline) {
      const wait = Math.max(1, Math.min(5000, deadline - Date.now()));
      const { messages } = await json<{ messages: SentMessage[] }>(
        `${this.root}/_fake/sent?since_seq=${this.seq}&wait_ms=${wait}`,
      );
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
}
