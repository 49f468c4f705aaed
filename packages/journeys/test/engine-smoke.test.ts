import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../test/support/context.ts";
import { addBot, repoFor } from "../../../test/support/fixtures.ts";
import { outboxOf, scheduledOf } from "../../../test/support/rows.ts";
import { createLogger } from "../src/logger.ts";
import { producerConnection } from "../src/queue/connection.ts";
import { createQueues, queueDispatcher } from "../src/queue/dispatcher.ts";
import { seedBrokerSignUp } from "../src/seed/broker-sign-up.ts";
import { processUpdate } from "../src/telegram/process-update.ts";

const env = await createTestEnv();
const log = createLogger("silent");

describe("engine smoke", () => {
  it("walks the seeded journey to the delay", async () => {
    const bot = await addBot(env, "entrylab");
    const seeded = await seedBrokerSignUp(env.handle.db, env.config.botTokenEncryptionKey, log);
    expect(seeded.status).toBe("created");
    const redis = producerConnection(env.config);
    const queues = createQueues(redis, env.config.queuePrefix);
    const deps = {
      db: env.handle.db,
      encryptionKey: env.config.botTokenEncryptionKey,
      dispatcher: queueDispatcher(queues, log),
      log,
    };
    const wb = { botId: bot.botId, tenantId: "entrylab", username: bot.username };
    let uid = 1;
    const say = (text: string) =>
      processUpdate(deps, wb, {
        update_id: uid++,
        message: {
          message_id: uid,
          date: 0,
          text,
          chat: { id: 42, type: "private" },
          from: { id: 42, is_bot: false, first_name: "A" },
        },
      });
    expect((await say("/start broker_access")).status).toBe("processed");
    await say("abc");
    await say("33");
    await say("Germany");
    await say("$1,000");
    const repo = repoFor(env, "entrylab");
    const [row] = await repo.sessions.recent(5);
    expect(row?.session.status).toBe("waiting_delay");
    expect(row?.session.answers).toEqual({
      user_age: 33,
      country: "Germany",
      deposit_amount: { amount: 1000, currency: "USD" },
    });
    const outbox = await outboxOf(env, row!.session.id);
    expect(outbox.map((o) => o.messageContent.text)).toHaveLength(5);
    const scheduled = await scheduledOf(env, row!.session.id);
    expect(scheduled).toHaveLength(1);
    const delayed = await queues.delays.getDelayed();
    expect(delayed.map((j) => j.id)).toEqual([`delay-${scheduled[0]!.id}`]);
    await queues.close();
    redis.disconnect();
  });
});
