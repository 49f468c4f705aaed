/**
 * 2. Delay lateness: `count` sessions stand on a delay step whose rows fall due evenly over one
 * window (the rows and sessions written as the engine writes them, each job enqueued with the
 * product's own `enqueueDelay`). When a delay fires, the worker resumes the session and sends the
 * journey's next message; lateness = when the fake Bot API received that message − scheduled_for.
 * Consecutive rows go to different bots, so the per-bot send limit never queues them.
 * Baseline: the seed's poller every 30 s, computed from the same schedule (every poll phase).
 */
import { Redis } from "ioredis";
import { createQueues, enqueueDelay } from "../../packages/journeys/src/queue/dispatcher.ts";
import type { FakeClient } from "../../scripts/lib/harness/fake-client.ts";
import type { Stack } from "../../scripts/lib/harness/stack.ts";
import { inParallel } from "../../scripts/lib/parallel.ts";
import { cpuMs } from "../lib/rss.ts";
import type { BenchBot } from "../lib/setup.ts";
import { type Summary, summarize } from "../lib/stats.ts";

export interface DelayOptions {
  count: number;
  windowMs: number;
  /** From the end of set-up to the first due row. */
  leadMs: number;
  redisUrl: string;
  /** Distinguishes the users of two runs. */
  run: number;
}

export interface DelayResult extends Summary {
  redisHz: number | null;
  received: number;
  baselinePoller: Summary;
  /** Worker CPU per delay fired (the fire, the resumed session's message sent). */
  workerCpuMsPerMessage: number | null;
}

const AFTER = "bench: after the delay";
const POLL_MS = 30_000;

/** One delay journey per bot ([delay, message]); returns journey id and delay step id per bot. */
export async function createDelayJourneys(stack: Stack, bots: BenchBot[]) {
  const steps = [
    { step_type: "delay", config: { min_minutes: 1, max_minutes: 1 } },
    { step_type: "message", config: { text: AFTER } },
  ];
  const out: { journeyId: string; stepId: string }[] = new Array(bots.length);
  await inParallel(bots, 5, async (bot, i) => {
    const journeyId = await bot.admin.createJourney(bot, { startParam: "bench_delay", steps, name: "Bench delay" });
    const r = await stack.db.query<{ id: string }>(
      "SELECT id FROM journey_steps WHERE journey_id = $1 AND step_type = 'delay'",
      [journeyId],
    );
    out[i] = { journeyId, stepId: r.rows[0]!.id };
  });
  return out;
}

export async function delayPhase(
  stack: Stack,
  bots: BenchBot[],
  journeys: { journeyId: string; stepId: string }[],
  fake: FakeClient,
  opts: DelayOptions,
): Promise<DelayResult> {
  const users = Array.from({ length: opts.count }, (_, i) => 5_000_000 + opts.run * 100_000 + i);
  const byBot = users.map((_, i) => i % bots.length);

  // Sessions waiting on the delay step, and their pending rows (scheduled_for set just below).
  const sessions = await stack.db.query<{ id: string; telegram_user_id: number }>(
    `INSERT INTO journey_user_sessions (tenant_id, journey_id, telegram_chat_id, telegram_user_id, current_step_id, status)
     SELECT t, j, u, u, s, 'waiting_delay' FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::uuid[]) AS x(t, j, u, s)
     RETURNING id, telegram_user_id`,
    [
      byBot.map((b) => bots[b]!.tenantId),
      byBot.map((b) => journeys[b]!.journeyId),
      users,
      byBot.map((b) => journeys[b]!.stepId),
    ],
  );
  const sessionOf = new Map(sessions.rows.map((r) => [Number(r.telegram_user_id), r.id]));
  const start = Date.now() + opts.leadMs;
  const due = users.map((_, i) => new Date(start + Math.floor((i * opts.windowMs) / opts.count)));
  const inserted = await stack.db.query<{ id: string; telegram_chat_id: number; scheduled_for: Date }>(
    `INSERT INTO journey_scheduled_messages (tenant_id, session_id, step_id, telegram_chat_id, message_content, scheduled_for)
     SELECT t, s, st, u, '{"kind":"resume_after_delay","delay_minutes":1}'::jsonb, d
       FROM unnest($1::text[], $2::uuid[], $3::uuid[], $4::bigint[], $5::timestamptz[]) AS x(t, s, st, u, d)
     RETURNING id, telegram_chat_id, scheduled_for`,
    [
      byBot.map((b) => bots[b]!.tenantId),
      users.map((u) => sessionOf.get(u)),
      byBot.map((b) => journeys[b]!.stepId),
      users,
      due,
    ],
  );
  const rows = inserted.rows;

  const connection = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1 });
  const queues = createQueues(connection, stack.prefix);
  const hz = Number((await connection.config("GET", "hz"))[1]);
  await inParallel(rows, 50, (r) => enqueueDelay(queues, r.id, r.scheduled_for));
  await queues.close();
  connection.disconnect();
  const firstDue = Math.min(...rows.map((r) => r.scheduled_for.getTime()));
  if (firstDue < Date.now()) console.warn("delay: set-up ran past the first due time; raise leadMs");

  const dueAt = new Map(rows.map((r) => [Number(r.telegram_chat_id), r.scheduled_for.getTime()]));
  const cpu0 = cpuMs(stack.worker?.child.pid);
  const waitMs = firstDue - Date.now() + opts.windowMs + 60_000;
  const got = await fake.collect(rows.length, waitMs, (m) => m.text === AFTER && dueAt.has(m.chatId));
  const cpu1 = cpuMs(stack.worker?.child.pid);
  const lateness = got.map((m) => m.at - dueAt.get(m.chatId)!);

  // The seed's design: a poller every 30 s. Whatever its phase, a row waits for the next tick.
  const poller: number[] = [];
  for (let phase = 0; phase < POLL_MS; phase += 250) {
    for (const r of rows) poller.push((((phase - r.scheduled_for.getTime()) % POLL_MS) + POLL_MS) % POLL_MS);
  }
  return {
    ...summarize(lateness),
    count: rows.length,
    received: got.length,
    redisHz: Number.isFinite(hz) ? hz : null,
    baselinePoller: summarize(poller),
    workerCpuMsPerMessage: cpu0 !== null && cpu1 !== null && got.length ? (cpu1 - cpu0) / got.length : null,
  };
}
