/**
 * One bot's backlog must not hold up another bot's messages: a send job whose bot has no free
 * place in the send limit is rescheduled instead of holding a worker slot (and a transaction)
 * through the wait. Order is read from the fake Bot API's receive sequence, not from timings.
 */
import { describe, expect, it } from "vitest";
import { bursts } from "./bursts.ts";
import { workerTestFile } from "./support.ts";

const { env, fake, q } = await workerTestFile();
const { burst, receivedCounts, allSent } = bursts(env, fake, q.queues);

describe("sending for several bots", () => {
  it("sends another bot's message before a 300-message backlog of one bot is through", async () => {
    const backlog = await burst("t-backlog", 300, 400_000, "b-");
    const other = await burst("t-other", 1, 500_000, "o-");

    const [otherMsg] = await fake.waitForMessages({ botId: other.bot.telegramBotId, count: 1, timeoutMs: 30_000 });
    const all = await fake.waitForMessages({ botId: backlog.bot.telegramBotId, count: 300, timeoutMs: 45_000 });
    const seconds = (all.at(-1)!.at - all[0]!.at) / 1000;
    const before = all.filter((m) => m.seq < otherMsg!.seq).length;
    console.log(`backlog: ${(299 / seconds).toFixed(1)} sends/s; the other bot's message came after ${before} of 300`);
    expect(otherMsg!.seq).toBeLessThan(all.at(-1)!.seq);
    // It did not wait for most of the backlog either: at most half of it went first.
    expect(before).toBeLessThan(150);

    await allSent([...backlog.ids, ...other.ids]);
    expect(fake.stats().peakPerSecondByBot[backlog.bot.telegramBotId]).toBeLessThanOrEqual(30);
    expect([...receivedCounts(backlog.bot.telegramBotId).values()].every((n) => n === 1)).toBe(true);
    expect(receivedCounts(backlog.bot.telegramBotId).size).toBe(300);
  });
});
