/**
 * 3. Redis FLUSHALL, then a Redis crash and restart (empty), while sessions wait in delays and
 * messages are being sent. Postgres holds every row, so every message must still arrive; the
 * worker must reconnect by itself (same process, never restarted); and sending must resume
 * within one sweep interval of Redis answering again (measured: Redis back → first message).
 * Updates that arrive while Redis is down are still acknowledged (their rows are committed; the
 * sweeper enqueues them later).
 */
import { updates } from "@journeys/fake-telegram";
import type { Bot } from "../../scripts/lib/harness/admin-client.ts";
import { botsWithJourney, deliverUntilAcked, inParallel, sleep, waitFor } from "../lib/client.ts";
import {
  messageFigures,
  receiptKey,
  type Scenario,
  sessionsWithDoubleRows,
  tallyReceipts,
  waitForReceipts,
} from "../lib/scenario.ts";

const TENANT = "faults-s3";
const BOTS = 6;
const TEXTS = ["s3: hello", "s3: after the delay"];
/** 6–9 s: rows come due while Redis is flushed, down, and just back. */
const DELAY = { min_minutes: 0.1, max_minutes: 0.15 };
const REDIS_DOWN_MS = 4000;
/**
 * The worker runs this scenario with a sweep interval above 10 s, like production's 30 s default:
 * its health check (which notices that Redis is back and restores the sweep schedule) runs every
 * min(interval, 10 s), so with the suite's 2 s interval "resume within one interval" cannot hold.
 */
const SWEEP_INTERVAL_MS = 15_000;

export const redisLoss: Scenario = {
  id: 3,
  name: "3 Redis FLUSHALL + restart",
  async run({ stack, log }, checks) {
    const { bots, telegramIds } = await botsWithJourney(stack, TENANT, BOTS, "s3", [
      { step_type: "message", config: { text: TEXTS[0]! } },
      { step_type: "delay", config: DELAY },
      { step_type: "message", config: { text: TEXTS[1]! } },
    ]);
    await stack.restartWorker({ SCHEDULER_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS) });
    const workerPid = stack.worker!.pid;
    const users: { bot: Bot; id: number }[] = [];
    let serverErrors = 0;
    const deadline = Date.now() + 120_000;
    const start = async (count: number) => {
      const wave = Array.from({ length: count }, (_, i) => ({
        bot: bots[i % BOTS]!,
        id: 3_100_000 + users.length + i,
      }));
      users.push(...wave);
      await inParallel(wave, 24, async (u) => {
        await deliverUntilAcked(
          stack,
          u.bot,
          updates.startCommand("s3", { userId: u.id }),
          deadline,
          (status) => {
            if (status >= 500) serverErrors++;
          },
          () => stack.requireAlive("api"),
        );
      });
    };
    const sentCount = () => stack.fake.sent().filter((m) => telegramIds.includes(m.botId)).length;

    // Wave 1, then FLUSHALL while its messages are being sent and its delays wait in Redis.
    await start(120);
    await waitFor("wave 1 sending to be under way", () => sentCount() >= 30, 60_000, 20);
    await stack.redis.command("FLUSHALL");
    const flushedAt = Date.now();
    const sentAtFlush = sentCount();
    log(`FLUSHALL with ${sentAtFlush} of 120 hellos sent`);
    await start(40); // wave 2: enqueued into the emptied Redis

    // Redis crashes; wave 3 arrives while it is down; Redis comes back empty.
    await sleep(1500);
    await stack.redis.kill();
    const downAt = Date.now();
    let wave3Acked = 0;
    try {
      await start(40); // wave 3: rows committed, enqueues fail
      wave3Acked = Date.now() - downAt;
      await sleep(Math.max(0, REDIS_DOWN_MS - wave3Acked));
    } finally {
      await stack.redis.start();
    }
    const backAt = Date.now();
    const sentWhileDown = stack.fake
      .sent()
      .filter((m) => telegramIds.includes(m.botId) && m.at > downAt + 500 && m.at < backAt).length;
    log(
      `Redis down for ${backAt - downAt} ms (wave 3 acknowledged in ${wave3Acked} ms); waiting for sending to resume`,
    );

    const firstAfter = await waitFor(
      "the first message after Redis returned",
      () => {
        stack.requireAlive("api", "worker");
        return stack.fake.sent().find((m) => telegramIds.includes(m.botId) && m.at >= backAt);
      },
      60_000,
      20,
    ).catch(() => undefined);
    const resumeMs = firstAfter ? Math.round(firstAfter.at - backAt) : -1;
    log(`sending resumed ${resumeMs} ms after Redis answered again (sweep interval ${SWEEP_INTERVAL_MS} ms)`);

    const expected = users.flatMap((u) => TEXTS.map((t) => receiptKey(u.bot.telegramBotId, u.id, t)));
    await waitForReceipts(stack, telegramIds, expected, log, 90_000);
    const allAt = Date.now();
    await sleep(1000);
    const tally = tallyReceipts(stack, telegramIds, expected);
    const { lost } = tally;
    const { rows } = await stack.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM journey_user_sessions WHERE tenant_id = $1 AND status = 'completed'",
      [TENANT],
    );

    const doubleAdvanced = await sessionsWithDoubleRows(stack, TENANT);
    checks.eq(lost, 0, "messages never received");
    checks.eq(doubleAdvanced, 0, "sessions with a message row written twice (a delay fired twice)");
    checks.ok(
      stack.worker!.pid === workerPid && stack.worker!.alive(),
      "the same worker process ran throughout (it reconnected by itself)",
    );
    checks.ok(resumeMs >= 0, "sending resumed after Redis came back");
    checks.atMost(resumeMs, SWEEP_INTERVAL_MS, "ms from Redis back to the first message (one sweep interval)");
    checks.eq(rows[0]!.n, users.length, "completed sessions");
    checks.eq(serverErrors, 0, "webhook 5xx answers (also while Redis was down)");
    return messageFigures(tally, doubleAdvanced, serverErrors, {
      sessions: users.length,
      sweep_interval_ms: SWEEP_INTERVAL_MS,
      redis_down_ms: backAt - downAt,
      sent_while_redis_down: sentWhileDown,
      resume_after_redis_back_ms: resumeMs,
      all_sent_after_redis_back_s: Number(((allAt - backAt) / 1000).toFixed(1)),
      flush_to_all_sent_s: Number(((allAt - flushedAt) / 1000).toFixed(1)),
      worker_reconnects_logged: stack.worker!.count("replacing the queue worker"),
    });
  },
};
