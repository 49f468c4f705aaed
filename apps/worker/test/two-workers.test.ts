/**
 * Two worker processes on the same queues (started as in production): each due delay fires and
 * each message is sent exactly once, one bot never sees more than 30 sends in a sliding second,
 * and deleting every Redis key of the queues loses nothing. Counts come from the fake Bot API.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeTelegram } from "../../../packages/fake-telegram/src/index.ts";
import { createTestEnv, deleteRedisPrefix } from "../../../test/support/context.ts";
import { tenantWithJourney } from "../../../test/support/fixtures.ts";
import { bursts } from "./bursts.ts";
import { inParallel, spawnWorker, testQueues, updateDeps, userSays, type WorkerProc, waitFor } from "./support.ts";

const env = await createTestEnv();
const fake = await startFakeTelegram();
const q = testQueues(env);
const deps = updateDeps(env, q.dispatcher);
const { burst, receivedCounts, allSent } = bursts(env, fake, q.queues);

afterAll(async () => {
  await q.close();
  await fake.close();
});

describe("two workers on the same queues", () => {
  let workers: WorkerProc[] = [];
  beforeAll(async () => {
    workers = await Promise.all([
      spawnWorker(env, fake.apiRoot, "worker-a"),
      spawnWorker(env, fake.apiRoot, "worker-b"),
    ]);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
  });

  it("fires 200 due delays and sends each resulting message exactly once", async () => {
    const bots = [];
    for (let i = 0; i < 4; i++) {
      const { bot } = await tenantWithJourney(env, {
        tenantId: "t-two",
        startParam: "go",
        steps: [
          { step_type: "delay", config: { min_minutes: 0.02, max_minutes: 0.02 } },
          { step_type: "message", config: { text: "w-done" } },
        ],
      });
      bots.push(bot);
    }
    const users = bots.flatMap((bot, i) => Array.from({ length: 50 }, (_, k) => ({ bot, id: 100_000 + i * 1000 + k })));
    await inParallel(users, 8, (u) => userSays(deps, u.bot, u.id, "/start go"));

    for (const bot of bots) await fake.waitForMessages({ botId: bot.telegramBotId, count: 50, timeoutMs: 30_000 });
    await waitFor("every session to complete", async () => {
      const { rows } = await env.handle.pool.query(
        "SELECT count(*)::int AS n FROM journey_user_sessions WHERE tenant_id = 't-two' AND status = 'completed' AND completed_at IS NOT NULL",
      );
      return rows[0].n === 200;
    });
    await new Promise((r) => setTimeout(r, 1000)); // a sweep or two: any double would show now
    for (const u of users) {
      expect(fake.sent({ botId: u.bot.telegramBotId, chatId: u.id }).map((m) => m.text)).toEqual(["w-done"]);
    }
    const { rows } = await env.handle.pool.query(
      "SELECT status, count(*)::int AS n FROM journey_scheduled_messages WHERE tenant_id = 't-two' GROUP BY status",
    );
    expect(rows).toEqual([{ status: "sent", n: 200 }]);
    const fired = workers.map((w) => w.count("delay fired: session resumed"));
    console.log(`delays fired per worker: ${fired.join(" + ")}`);
    expect(fired.reduce((a, b) => a + b, 0)).toBe(200);
    expect(Math.min(...fired)).toBeGreaterThan(0);
  });

  it("keeps every sliding second at ≤ 30 sends for one bot across both workers (200 messages)", async () => {
    const { bot, ids } = await burst("t-rate", 200, 200_000, "rate-");
    const sent = await fake.waitForMessages({ botId: bot.telegramBotId, count: 200, timeoutMs: 40_000 });
    await allSent(ids);
    const peak = fake.stats().peakPerSecondByBot[bot.telegramBotId];
    const seconds = (sent.at(-1)!.at - sent[0]!.at) / 1000;
    console.log(`rate limit: peak ${peak} sends in a sliding second; ${(199 / seconds).toFixed(1)} sends/s overall`);
    expect(peak).toBeLessThanOrEqual(30);
    expect([...receivedCounts(bot.telegramBotId).values()].every((n) => n === 1)).toBe(true);
  });

  it("sends every pending message after all of the queue's Redis keys are deleted", async () => {
    const { bot, ids } = await burst("t-flush", 100, 300_000, "f-");
    const { bot: delayBot } = await tenantWithJourney(env, {
      tenantId: "t-flush-delay",
      startParam: "go",
      steps: [
        { step_type: "delay", config: { min_minutes: 0.05, max_minutes: 0.05 } },
        { step_type: "message", config: { text: "f-late" } },
      ],
    });
    for (let k = 0; k < 5; k++) await userSays(deps, delayBot, 310_000 + k, "/start go");
    await fake.waitForMessages({ botId: bot.telegramBotId, count: 20, timeoutMs: 20_000 });
    const schedulesBefore = workers.reduce((n, w) => n + w.count("sweep schedule set"), 0);

    await deleteRedisPrefix(env.config.queuePrefix); // what FLUSHDB does to this test's keys

    await fake.waitForMessages({ botId: bot.telegramBotId, count: 100, timeoutMs: 40_000 });
    await fake.waitForMessages({ botId: delayBot.telegramBotId, count: 5, timeoutMs: 40_000 });
    await allSent(ids);
    expect([...receivedCounts(bot.telegramBotId).values()].every((n) => n === 1)).toBe(true);
    expect(receivedCounts(delayBot.telegramBotId).get("f-late")).toBe(5);
    expect(workers.reduce((n, w) => n + w.count("sweep schedule set"), 0)).toBeGreaterThan(schedulesBefore);
  });
});
