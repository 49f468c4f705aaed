/**
 * A worker killed mid-burst (SIGKILL) is replaced and the rest is sent, with duplicates only from
 * sends Telegram answered before the kill could commit them; a SIGTERM mid-burst loses nothing.
 */
import { afterAll, describe, expect, it } from "vitest";
import { startFakeTelegram } from "../../../packages/fake-telegram/src/index.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { bursts } from "./bursts.ts";
import { spawnWorker, testQueues, waitFor } from "./support.ts";

const env = await createTestEnv();
const fake = await startFakeTelegram();
const q = testQueues(env);
const { burst, receivedCounts, pendingTexts, allSent } = bursts(env, fake, q.queues);

afterAll(async () => {
  await q.close();
  await fake.close();
});

describe("crashes and shutdowns", () => {
  it("replaces a SIGKILLed worker; the rest is sent, duplicates only from sends in flight at the kill", async () => {
    const first = await spawnWorker(env, fake.apiRoot, "worker-killed");
    // Three bots, so several sends are in flight at once (one bot's are spaced by its rate limit).
    const sets = await Promise.all(["a", "b", "c"].map((b, i) => burst("t-kill", 40, 400_000 + i * 1000, `k-${b}`)));
    const ids = sets.flatMap((s) => s.ids);
    const received = () => sets.map((s) => receivedCounts(s.bot.telegramBotId));
    await waitFor("a third of the messages to arrive", () => received().reduce((n, c) => n + c.size, 0) >= 40);
    await first.kill();
    await new Promise((r) => setTimeout(r, 300)); // let the fake finish requests already on the wire
    const pending = await pendingTexts(ids);
    const inFlight = received()
      .flatMap((c) => [...c.keys()])
      .filter((t) => pending.has(t)).length;

    const second = await spawnWorker(env, fake.apiRoot, "worker-replacement");
    try {
      await waitFor("all 120 messages to arrive", () => received().every((c) => c.size === 40), 45_000);
      await allSent(ids);
    } finally {
      await second.stop();
    }
    const duplicates = received()
      .flatMap((c) => [...c.values()])
      .reduce((n, count) => n + count - 1, 0);
    console.log(
      `SIGKILL: ${inFlight} send(s) answered by Telegram but not committed at the kill; ${duplicates} duplicate(s)`,
    );
    expect(duplicates).toBeLessThanOrEqual(inFlight);
  });

  it("loses nothing when SIGTERM arrives mid-burst, and a restarted worker sends the rest", async () => {
    const first = await spawnWorker(env, fake.apiRoot, "worker-terminated");
    const { bot, ids } = await burst("t-term", 90, 500_000, "t-");
    await fake.waitForMessages({ botId: bot.telegramBotId, count: 20, timeoutMs: 20_000 });
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    expect(first.count("worker stopped")).toBe(1);
    // A graceful stop commits every send it made: nothing Telegram got is still pending.
    const pending = await pendingTexts(ids);
    expect([...receivedCounts(bot.telegramBotId).keys()].filter((t) => pending.has(t))).toEqual([]);

    const second = await spawnWorker(env, fake.apiRoot, "worker-restarted");
    try {
      await waitFor("all 90 messages to arrive", () => receivedCounts(bot.telegramBotId).size === 90, 45_000);
      await allSent(ids);
    } finally {
      await second.stop();
    }
    expect([...receivedCounts(bot.telegramBotId).values()].every((n) => n === 1)).toBe(true);
  });
});
