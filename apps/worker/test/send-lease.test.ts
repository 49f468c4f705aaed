/**
 * The send lease (journey_outbox.claimed_until): a chat is sent by one sender at a time, in id
 * order; a second job of the chat leaves it to the sender holding it; a sender that died holds the
 * row only until its lease ends; a send Telegram does not answer within the lease is aborted and
 * retried. In process (sendOutboxChat), on real Postgres and Redis, with the fake Bot API.
 */
import { afterAll, describe, expect, it } from "vitest";
import { startFakeTelegram } from "../../../packages/fake-telegram/src/index.ts";
import {
  botApis,
  createLogger,
  RetryLaterError,
  redisSendRateLimiter,
  type SendDeps,
  sendOutboxChat,
} from "../../../packages/journeys/src/index.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { addBot } from "../../../test/support/fixtures.ts";
import { insertOutbox } from "../../../test/support/rows.ts";
import { testQueues } from "./support.ts";

const env = await createTestEnv();
const fake = await startFakeTelegram();
const q = testQueues(env);
const send: SendDeps = {
  db: env.handle.db,
  encryptionKey: env.config.botTokenEncryptionKey,
  bots: botApis(fake.apiRoot, redisSendRateLimiter(q.redis, env.config.queuePrefix)),
  log: createLogger("silent"),
};

afterAll(async () => {
  await q.close();
  await fake.close();
});

const TENANT = "lease";

/** A message to `chatId` from `botId`, queued as the applier writes one. */
const queue = (botId: string, chatId: number, text: string) =>
  insertOutbox(env, { tenantId: TENANT, botId, sessionId: null, chatId, text });

/** A bot with `texts` queued, in order, to one chat; returns the rows. */
async function chatWith(chatId: number, texts: string[]) {
  const bot = await addBot(env, TENANT);
  const rows = [];
  for (const text of texts) rows.push(await queue(bot.botId, chatId, text));
  return { bot, rows };
}

const received = (telegramBotId: number, chatId: number) =>
  fake.sent({ botId: telegramBotId, chatId }).map((m) => m.text);

async function rowsOf(ids: number[]) {
  const { rows } = await env.handle.pool.query<{ id: number; status: string; attempts: number; leased: boolean }>(
    `SELECT id, status, attempts, claimed_until IS NOT NULL AS leased FROM journey_outbox
      WHERE id = ANY($1::bigint[]) ORDER BY id`,
    [ids],
  );
  return rows.map(({ status, attempts, leased }) => ({ status, attempts, leased }));
}

describe("the send lease", () => {
  it("lets one sender flush a chat in order; another job of the chat leaves it to that sender", async () => {
    const chat = 71_001;
    const { bot, rows } = await chatWith(chat, ["one", "two", "three"]);
    fake.delayNext("sendMessage", 500); // "one" is in flight for half a second
    const first = sendOutboxChat(send, rows[0]!.id, bot.botId);
    await new Promise((r) => setTimeout(r, 150));
    expect(await rowsOf([rows[0]!.id])).toEqual([{ status: "pending", attempts: 0, leased: true }]);

    // The job of "three" finds the chat's first row leased: it sends nothing and overtakes nothing.
    expect(await sendOutboxChat(send, rows[2]!.id, bot.botId)).toEqual({ sent: 0, failed: 0 });
    expect(received(bot.telegramBotId, chat)).toEqual([]);

    expect(await first).toEqual({ sent: 3, failed: 0 });
    expect(received(bot.telegramBotId, chat)).toEqual(["one", "two", "three"]);
    expect(await rowsOf(rows.map((r) => r.id))).toEqual(
      rows.map(() => ({ status: "sent", attempts: 1, leased: false })),
    );
  });

  it("holds a dead sender's row until its lease ends, then sends it", async () => {
    const chat = 71_002;
    const { bot, rows } = await chatWith(chat, ["after the crash"]);
    // As a sender that claimed the row and died would leave it.
    await env.handle.pool.query(
      "UPDATE journey_outbox SET claimed_until = now() + interval '800 milliseconds' WHERE id = $1",
      [rows[0]!.id],
    );
    expect(await sendOutboxChat(send, rows[0]!.id, bot.botId)).toEqual({ sent: 0, failed: 0 });
    expect(received(bot.telegramBotId, chat)).toEqual([]);
    await new Promise((r) => setTimeout(r, 900));
    expect(await sendOutboxChat(send, rows[0]!.id, bot.botId)).toEqual({ sent: 1, failed: 0 });
    expect(received(bot.telegramBotId, chat)).toEqual(["after the crash"]);
  });

  it("sends with the row's bot when the job names none (queued before jobs did) or another one", async () => {
    const chat = 71_004;
    const { bot, rows } = await chatWith(chat, ["unnamed", "misnamed"]);
    const other = await addBot(env, TENANT);
    expect(await sendOutboxChat(send, rows[0]!.id)).toEqual({ sent: 2, failed: 0 });
    const more = await queue(bot.botId, chat, "third");
    expect(await sendOutboxChat(send, more.id, other.botId)).toEqual({ sent: 1, failed: 0 });
    expect(received(bot.telegramBotId, chat)).toEqual(["unnamed", "misnamed", "third"]);
    expect(received(other.telegramBotId, chat)).toEqual([]);
  });

  it("aborts a send Telegram has not answered near the lease's end, and counts a failed try", async () => {
    const chat = 71_003;
    const { bot, rows } = await chatWith(chat, ["slow", "behind it"]);
    fake.delayNext("sendMessage", 3_000);
    const t0 = Date.now();
    const err = await sendOutboxChat({ ...send, leaseMs: 1_000 }, rows[0]!.id, bot.botId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryLaterError);
    expect(Date.now() - t0).toBeLessThan(2_500); // aborted at the lease's end less the margin, not after 3 s
    expect(await rowsOf(rows.map((r) => r.id))).toEqual([
      { status: "pending", attempts: 1, leased: false },
      { status: "pending", attempts: 0, leased: false },
    ]);
    // The retry (the row's own job) sends both, in order. Telegram may have taken the aborted try
    // too (at-least-once): the fake answers it late, so it may count "slow" twice.
    expect(await sendOutboxChat(send, rows[0]!.id, bot.botId)).toEqual({ sent: 2, failed: 0 });
    expect(received(bot.telegramBotId, chat).filter((t) => t === "behind it")).toEqual(["behind it"]);
    const texts = received(bot.telegramBotId, chat);
    expect(texts.indexOf("slow")).toBeLessThan(texts.indexOf("behind it"));
  });
});
