/** Bursts of outbox rows and what the fake Bot API made of them: shared by the multi-worker tests. */
import { expect } from "vitest";
import type { FakeTelegram } from "../../../packages/fake-telegram/src/index.ts";
import { enqueueOutbox, type Queues } from "../../../packages/journeys/src/index.ts";
import type { TestEnv } from "../../../test/support/context.ts";
import { addBot } from "../../../test/support/fixtures.ts";
import { waitFor } from "./support.ts";

export function bursts(env: TestEnv, fake: FakeTelegram, queues: Queues) {
  async function pendingTexts(ids: number[]): Promise<Set<string>> {
    const { rows } = await env.handle.pool.query<{ text: string }>(
      "SELECT message_content->>'text' AS text FROM journey_outbox WHERE id = ANY($1) AND status = 'pending'",
      [ids],
    );
    return new Set(rows.map((r) => r.text));
  }

  return {
    /** `count` sessionless rows for a new bot, one chat each (ids from `firstChat`), texts `<prefix><n>`, with jobs. */
    async burst(tenant: string, count: number, firstChat: number, prefix: string) {
      const bot = await addBot(env, tenant);
      const { rows } = await env.handle.pool.query<{ id: number }>(
        `INSERT INTO journey_outbox (tenant_id, bot_id, telegram_chat_id, message_content)
         SELECT $1, $2, $3::bigint + g, jsonb_build_object('text', $4::text || g)
         FROM generate_series(0, $5::int - 1) g RETURNING id`,
        [tenant, bot.botId, firstChat, prefix, count],
      );
      await Promise.all(rows.map((r) => enqueueOutbox(queues, { id: r.id, botId: bot.botId })));
      return { bot, ids: rows.map((r) => r.id) };
    },

    /** How many times the fake received each text for a bot. */
    receivedCounts(telegramBotId: number): Map<string, number> {
      const counts = new Map<string, number>();
      for (const m of fake.sent({ botId: telegramBotId })) counts.set(m.text, (counts.get(m.text) ?? 0) + 1);
      return counts;
    },

    pendingTexts,

    async allSent(ids: number[]) {
      await waitFor("every row to be marked sent", async () => (await pendingTexts(ids)).size === 0, 45_000);
      const { rows } = await env.handle.pool.query("SELECT DISTINCT status FROM journey_outbox WHERE id = ANY($1)", [
        ids,
      ]);
      expect(rows.map((r) => r.status)).toEqual(["sent"]);
    },
  };
}
