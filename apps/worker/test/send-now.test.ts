/**
 * A fired delay's messages leave from the job that fired it (sendNowDispatcher, as the worker wires
 * fire-delay), and fall back to the outbox job when they cannot go now. In process, on real
 * Postgres and Redis, with the fake Bot API.
 */
import { afterAll, describe, expect, it } from "vitest";
import { startFakeTelegram } from "../../../packages/fake-telegram/src/index.ts";
import {
  botApis,
  createLogger,
  type Dispatcher,
  fireScheduledMessage,
  outboxJobId,
  queueDispatcher,
  redisSendRateLimiter,
  sendNowDispatcher,
} from "../../../packages/journeys/src/index.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { repoFor, tenantWithJourney } from "../../../test/support/fixtures.ts";
import { outboxOf, scheduledOf } from "../../../test/support/rows.ts";
import { testQueues, updateDeps, userSays } from "./support.ts";

const env = await createTestEnv();
const fake = await startFakeTelegram();
const q = testQueues(env);
const log = createLogger("silent");
const limiter = redisSendRateLimiter(q.redis, env.config.queuePrefix);
const send = {
  db: env.handle.db,
  encryptionKey: env.config.botTokenEncryptionKey,
  bots: botApis(fake.apiRoot, limiter),
  log,
};
const fireDeps = { ...send, dispatcher: sendNowDispatcher(send, queueDispatcher(q.queues, log)) };
// Starting the journey enqueues nothing: the test fires the delay itself.
const nothing: Dispatcher = { dispatch: async () => undefined };

afterAll(async () => {
  await q.close();
  await fake.close();
});

const TENANT = "send_now";
const steps = [
  { step_type: "delay", config: { min_minutes: 0, max_minutes: 0 } },
  { step_type: "message", config: { text: "after the delay" } },
  { step_type: "question", config: { text: "And now?", answer_key: "now", validation: "text" } },
] as const;

/** A user whose session waits on the delay; returns the bot, the delay row and the user id. */
async function waitingOnDelay(userId: number) {
  const { bot } = await tenantWithJourney(env, { tenantId: TENANT, startParam: `go${userId}`, steps: [...steps] });
  await userSays(updateDeps(env, nothing), bot, userId, `/start go${userId}`);
  const repo = repoFor(env, TENANT);
  const session = (await repo.sessions.recent(1))[0]!.session;
  expect(session.status).toBe("waiting_delay");
  const [row] = await scheduledOf(env, session.id);
  return { bot, row: row!, sessionId: session.id };
}

describe("a fired delay sends its own messages", () => {
  it("sends them from the fire, in journey order, without an outbox job", async () => {
    const user = 61_001;
    const { bot, row, sessionId } = await waitingOnDelay(user);
    const result = await fireScheduledMessage(fireDeps, row.id);
    expect(result.outcome).toBe("fired");
    expect(fake.sent({ botId: bot.telegramBotId, chatId: user }).map((m) => m.text)).toEqual([
      "after the delay",
      "And now?",
    ]);
    const outbox = await outboxOf(env, sessionId);
    expect(outbox.map((m) => m.status)).toEqual(["sent", "sent"]);
    const counts = await q.queues.outbox.getJobCounts();
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(0);
  });

  it("hands them to the outbox job when the bot has no send place now", async () => {
    const user = 61_002;
    const { bot, row, sessionId } = await waitingOnDelay(user);
    // Every place of this bot's 30/s taken (and held): the fire cannot send within its short wait.
    // Places are spaced ~25 ms apart: each of the 30 may wait for its turn (generously, for a loaded
    // machine); the 31st is refused, the 30 being in flight.
    const held: (() => Promise<void>)[] = [];
    for (let i = 0; i < 30; i++) {
      const place = await limiter.reserve(bot.botId, 5_000);
      if (!place.ok) throw new Error(`place ${i + 1} of 30 not given within 5 s`);
      held.push(place.done);
    }
    expect((await limiter.reserve(bot.botId, 100)).ok).toBe(false);
    try {
      const result = await fireScheduledMessage(fireDeps, row.id);
      expect(result.outcome).toBe("fired");
      expect(fake.sent({ botId: bot.telegramBotId, chatId: user })).toEqual([]);
      const outbox = await outboxOf(env, sessionId);
      expect(outbox.map((m) => m.status)).toEqual(["pending", "pending"]);
      for (const m of outbox) expect(await q.queues.outbox.getJob(outboxJobId(m.id))).toBeDefined();
    } finally {
      for (const done of held) await done();
    }
  });
});
