/**
 * 3. Send rate against Telegram's limit: a backlog of `perBot` due messages for each of `bots`
 * (outbox rows as the engine writes them, one chat each, every job enqueued with the product's own
 * `enqueueOutbox`, the bots' rows interleaved), drained by the worker into the fake Bot API, which
 * answers 429 beyond 30 sendMessage calls in any sliding second per bot. Rates run from the first
 * to the last send. With `probe`, one more message for another bot is enqueued right behind the
 * backlog: how long it waits shows whether one bot's backlog holds up the others.
 */
import { Redis } from "ioredis";
import { createQueues, enqueueOutbox } from "../../packages/journeys/src/queue/dispatcher.ts";
import type { FakeClient, SentMessage } from "../../scripts/lib/harness/fake-client.ts";
import type { Stack } from "../../scripts/lib/harness/stack.ts";
import { inParallel } from "../../scripts/lib/parallel.ts";
import { cpuMs } from "../lib/rss.ts";
import type { BenchBot } from "../lib/setup.ts";

export interface SendRateResult {
  bots: number;
  messages: number;
  received: number;
  /** All bots together, first send to last. */
  perS: number | null;
  /** The slowest bot's own rate. */
  minBotPerS: number | null;
  /** Highest count any one bot reached in a sliding second (the fake's own count). */
  peakPerSPerBot: number | null;
  responses429: number;
  /** ms from enqueueing the probe bot's one message to the fake receiving it. */
  probeWaitMs: number | null;
  /** Worker CPU per message sent. */
  workerCpuMsPerMessage: number | null;
}

const rate = (msgs: SentMessage[]): number | null => {
  if (msgs.length < 2) return null;
  const ats = msgs.map((m) => m.at);
  const span = (Math.max(...ats) - Math.min(...ats)) / 1000;
  return span > 0 ? (msgs.length - 1) / span : null;
};

export async function sendRatePhase(
  stack: Stack,
  bots: BenchBot[],
  fake: FakeClient,
  opts: { perBot: number; run: number; probe?: BenchBot },
): Promise<SendRateResult> {
  if (!stack.worker) await stack.startWorker();
  await fake.reset();
  // Interleaved: bot 0's first message, bot 1's first, …, bot 0's second, …
  const chats = Array.from({ length: opts.perBot }, (_, i) =>
    bots.map((bot, b) => ({ bot, chat: 7_000_000 + opts.run * 100_000 + b * 1000 + i })),
  ).flat();
  const probeChat = 7_000_000 + opts.run * 100_000 + 99_999;
  if (opts.probe) chats.push({ bot: opts.probe, chat: probeChat });
  const inserted = await stack.db.query<{ id: number; botId: string }>(
    `INSERT INTO journey_outbox (tenant_id, bot_id, telegram_chat_id, message_content)
     SELECT t, b, c, jsonb_build_object('text', 'bench backlog ' || c) FROM unnest($1::text[], $2::text[], $3::bigint[]) AS x(t, b, c)
     RETURNING id, bot_id AS "botId"`,
    [chats.map((c) => c.bot.tenantId), chats.map((c) => c.bot.botId), chats.map((c) => c.chat)],
  );
  const ids = inserted.rows.map((row) => ({ id: Number(row.id), botId: row.botId }));
  const connection = new Redis(stack.redisUrl, { maxRetriesPerRequest: 1 });
  const queues = createQueues(connection, stack.prefix);
  const probeRow = opts.probe ? ids.pop() : undefined;
  const cpu0 = cpuMs(stack.worker?.child.pid);
  await inParallel(ids, 50, (row) => enqueueOutbox(queues, row));
  const probeAt = Date.now();
  if (probeRow !== undefined) await enqueueOutbox(queues, probeRow);
  await queues.close();
  connection.disconnect();

  const wanted = new Set(chats.map((c) => c.chat));
  const timeoutMs = 60_000 + chats.length * 50; // gives up below 20 sends/s
  const all = await fake.collect(chats.length, timeoutMs, (m) => wanted.has(m.chatId));
  const probe = all.find((m) => m.chatId === probeChat);
  const got = all.filter((m) => m.chatId !== probeChat);
  const cpu1 = cpuMs(stack.worker?.child.pid);
  const stats = await fake.stats();
  const perBot = bots.map((bot) => rate(got.filter((m) => m.botId === bot.telegramBotId)));
  const peaks = bots.map((bot) => stats.peakPerSecondByBot[bot.telegramBotId] ?? 0);
  return {
    bots: bots.length,
    messages: ids.length,
    received: got.length,
    perS: rate(got),
    minBotPerS: perBot.some((r) => r === null) ? null : Math.min(...(perBot as number[])),
    peakPerSPerBot: peaks.length ? Math.max(...peaks) : null,
    responses429: stats.rejected429,
    probeWaitMs: probe ? probe.at - probeAt : null,
    workerCpuMsPerMessage: cpu0 !== null && cpu1 !== null && all.length ? (cpu1 - cpu0) / all.length : null,
  };
}
