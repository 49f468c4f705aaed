/**
 * Delays and sends through a real worker process: firing, the sweeper, cancelled rows, 429s and
 * blocked users. Real Postgres and Redis; Telegram is the fake Bot API.
 */
import { updates } from "@journeys/fake-telegram";
import { describe, expect, it } from "vitest";
import {
  createLogger,
  DELAY_JOB_OPTS,
  delayJobId,
  EARLY_TOLERANCE_MS,
  enqueueOutbox,
  JOBS,
  processUpdate,
  SEED_START_PARAM,
  SEED_TENANT,
  seedBrokerSignUp,
} from "../../../packages/journeys/src/index.ts";
import { addBot, repoFor, tenantWithJourney } from "../../../test/support/fixtures.ts";
import { insertOutbox, outboxOf, scheduledOf } from "../../../test/support/rows.ts";
import { userSays, waitFor, workerTestFile } from "./support.ts";

const { env, fake, q, deps, worker } = await workerTestFile();

const texts = (botId: number, chatId: number) => fake.sent({ botId, chatId }).map((m) => m.text);
const latestSession = async (tenant: string) => (await repoFor(env, tenant).sessions.recent(1))[0]!.session;

describe("firing delays", () => {
  it("fires a ~2 s delay and completes the session; Telegram gets the messages in journey order", async () => {
    const { bot } = await tenantWithJourney(env, {
      tenantId: "t-delay",
      startParam: "go",
      steps: [
        { step_type: "message", config: { text: "d-1" } },
        { step_type: "delay", config: { min_minutes: 0.03, max_minutes: 0.03 } },
        { step_type: "message", config: { text: "d-2" } },
        { step_type: "message", config: { text: "d-3" } },
      ],
    });
    await userSays(deps, bot, 5001, "/start go");
    const sent = await fake.waitForMessages({ botId: bot.telegramBotId, chatId: 5001, count: 3, timeoutMs: 20_000 });
    expect(sent.map((m) => m.text)).toEqual(["d-1", "d-2", "d-3"]);

    const session = await waitFor("the session to complete", async () => {
      const s = await latestSession("t-delay");
      return s.status === "completed" && s;
    });
    expect(session.completedAt).toBeInstanceOf(Date);
    const [row] = await scheduledOf(env, session.id);
    expect(row).toMatchObject({ status: "sent" });
    expect(row!.sentAt).toBeInstanceOf(Date);
    const outbox = await waitFor("every outbox row to be marked sent", async () => {
      const rows = await outboxOf(env, session.id);
      return rows.every((r) => r.status === "sent") && rows;
    });
    expect(outbox.map((r) => r.messageContent.text)).toEqual(["d-1", "d-2", "d-3"]);
    expect(worker().count("delay fired: session resumed")).toBeGreaterThanOrEqual(1);
  });

  it("sends a seeded delay row within a sweep once scheduled_for is set to now(), with or without its job", async () => {
    const saved = await addBot(env, SEED_TENANT);
    await seedBrokerSignUp(env.handle.db, env.config.botTokenEncryptionKey, createLogger("silent"));
    const bot = { botId: saved.botId, tenantId: SEED_TENANT, username: saved.username };
    const users = [6001, 6002];
    for (const user of users) {
      for (const text of [`/start ${SEED_START_PARAM}`, "33", "Germany", "$1,000"])
        await userSays(deps, bot, user, text);
    }
    const repo = repoFor(env, SEED_TENANT);
    const rows = [];
    for (const user of users) {
      const [row] = await repo.sessions.recent(10).then((all) => all.filter((r) => r.session.telegramUserId === user));
      expect(row?.session.status).toBe("waiting_delay");
      const [scheduled] = await scheduledOf(env, row!.session.id);
      expect(scheduled).toMatchObject({ status: "pending" });
      expect(scheduled!.scheduledFor.getTime()).toBeGreaterThan(Date.now() + 59 * 60_000);
      rows.push(scheduled!);
    }
    // 6001 keeps its delayed job (the sweeper must promote it); 6002's job is gone (re-added).
    const job = await q.queues.delays.getJob(delayJobId(rows[1]!.id));
    await job!.remove();
    await env.handle.pool.query("UPDATE journey_scheduled_messages SET scheduled_for = now() WHERE id = ANY($1)", [
      rows.map((r) => r.id),
    ]);

    for (const user of users) {
      const sent = await fake.waitForMessages({
        botId: saved.telegramBotId,
        chatId: user,
        count: 5,
        timeoutMs: 20_000,
      });
      expect(sent.map((m) => m.text.slice(0, 20))).toEqual([
        "How old are you?",
        "Which country are yo",
        "How much do you inte",
        "Thanks for reaching ",
        "You’re eligible. Dep",
      ]);
    }
    for (const row of rows) {
      const session = await waitFor("the session to complete", async () => {
        const s = await repo.sessions.get(row.sessionId);
        return s.status === "completed" && s;
      });
      expect(session.completedAt).toBeInstanceOf(Date);
    }
    expect(worker().lines.some((l) => l.includes('"action":"promoted"'))).toBe(true);
    expect(worker().lines.some((l) => l.includes('"action":"added"'))).toBe(true);
  });
});

describe("early jobs and the sweeper's chores", () => {
  it("puts a delay job that runs early back to wait, and fires it at scheduled_for", async () => {
    const { bot } = await tenantWithJourney(env, {
      tenantId: "t-early",
      startParam: "go",
      steps: [
        { step_type: "delay", config: { min_minutes: 0.05, max_minutes: 0.05 } },
        { step_type: "message", config: { text: "e-1" } },
      ],
    });
    await userSays(deps, bot, 5101, "/start go");
    const session = await latestSession("t-early");
    const [row] = await scheduledOf(env, session.id);
    // As if the enqueuing host's clock ran 3 s fast: the job is due now, the row in 3 s.
    await (await q.queues.delays.getJob(delayJobId(row!.id)))!.remove();
    await q.queues.delays.add(
      JOBS.fireDelay,
      { scheduledMessageId: row!.id },
      { ...DELAY_JOB_OPTS, jobId: delayJobId(row!.id) },
    );
    const [sent] = await fake.waitForMessages({ botId: bot.telegramBotId, chatId: 5101, count: 1, timeoutMs: 20_000 });
    expect(sent!.at).toBeGreaterThanOrEqual(row!.scheduledFor.getTime() - EARLY_TOLERANCE_MS);
    expect(worker().count("delay job ran early: put back to wait")).toBeGreaterThanOrEqual(1);
    expect(worker().count("delay fired: session resumed")).toBeGreaterThanOrEqual(1);
  });

  it("prunes processed update ids older than 72 hours", async () => {
    await env.handle.pool.query(
      `INSERT INTO processed_updates (bot_id, update_id, processed_at)
       VALUES ('prune-bot', 1, now() - interval '73 hours'), ('prune-bot', 2, now() - interval '71 hours')`,
    );
    const left = await waitFor("the sweeper to prune the old id", async () => {
      const { rows } = await env.handle.pool.query(
        "SELECT update_id FROM processed_updates WHERE bot_id = 'prune-bot' ORDER BY update_id",
      );
      return rows.length === 1 && rows;
    });
    expect(left).toEqual([{ update_id: 2 }]);
  });
});

describe("cancelled rows", () => {
  it("never fires a delay whose session was cancelled", async () => {
    const { bot } = await tenantWithJourney(env, {
      tenantId: "t-cancel",
      startParam: "go",
      steps: [
        { step_type: "message", config: { text: "c-1" } },
        { step_type: "delay", config: { min_minutes: 0.05, max_minutes: 0.05 } },
        { step_type: "message", config: { text: "c-2" } },
      ],
    });
    await userSays(deps, bot, 7001, "/start go");
    await fake.waitForMessages({ botId: bot.telegramBotId, chatId: 7001, count: 1 });
    const session = await latestSession("t-cancel");
    const [row] = await scheduledOf(env, session.id);
    // The user blocks the bot: the session and its pending rows are cancelled.
    expect(await processUpdate(deps, bot, updates.myChatMember("kicked", { userId: 7001 }))).toMatchObject({
      status: "processed",
    });
    expect((await repoFor(env, "t-cancel").sessions.get(session.id)).status).toBe("cancelled");

    // The job still runs at scheduled_for (then is removed) and must skip the row; then a few sweeps pass.
    await waitFor("the delay job to have run", async () => !(await q.queues.delays.getJob(delayJobId(row!.id))));
    await new Promise((r) => setTimeout(r, 1200));
    expect(texts(bot.telegramBotId, 7001)).toEqual(["c-1"]);
    expect((await scheduledOf(env, session.id))[0]).toMatchObject({ status: "cancelled" });
  });

  it("never sends a cancelled outbox row, even when its job runs", async () => {
    const { bot } = await tenantWithJourney(env, {
      tenantId: "t-cancel-out",
      startParam: "go",
      steps: [{ step_type: "message", config: { text: "x" } }],
    });
    const message = (text: string) =>
      insertOutbox(env, { tenantId: "t-cancel-out", botId: bot.botId, sessionId: null, chatId: 7002, text });
    const cancelled = await message("c-cancelled");
    await env.handle.pool.query("UPDATE journey_outbox SET status = 'cancelled' WHERE id = $1", [cancelled.id]);
    const sentinel = await message("c-sentinel");
    await enqueueOutbox(q.queues, cancelled);
    await enqueueOutbox(q.queues, sentinel);
    // A chat is flushed in id order: once the later row arrived, the earlier one was passed over.
    await fake.waitForMessages({ botId: bot.telegramBotId, chatId: 7002, count: 1 });
    await waitFor(
      "the cancelled row's job to have run",
      async () => !(await q.queues.outbox.getJob(`out-${cancelled.id}`)),
    );
    expect(texts(bot.telegramBotId, 7002)).toEqual(["c-sentinel"]);
    const { rows } = await env.handle.pool.query("SELECT status FROM journey_outbox WHERE id = $1", [cancelled.id]);
    expect(rows[0].status).toBe("cancelled");
  });
});

describe("Telegram errors", () => {
  it("waits out a 429 and sends the message once, in order", async () => {
    const { bot } = await tenantWithJourney(env, {
      tenantId: "t-429",
      startParam: "go",
      steps: [
        { step_type: "message", config: { text: "r-1" } },
        { step_type: "message", config: { text: "r-2" } },
      ],
    });
    fake.failNext("sendMessage", { status: 429, description: "Too Many Requests: retry after 1", retryAfter: 1 });
    await userSays(deps, bot, 8001, "/start go");
    await fake.waitForMessages({ botId: bot.telegramBotId, chatId: 8001, count: 2, timeoutMs: 20_000 });
    const session = await latestSession("t-429");
    const outbox = await waitFor("both rows marked sent", async () => {
      const rows = await outboxOf(env, session.id);
      return rows.every((r) => r.status === "sent") && rows;
    });
    expect(texts(bot.telegramBotId, 8001)).toEqual(["r-1", "r-2"]);
    const statuses = fake.calls
      .filter((c) => c.botId === bot.telegramBotId && c.method === "sendMessage")
      .map((c) => c.status);
    expect(statuses).toEqual([429, 200, 200]);
    expect(outbox.map((r) => r.status)).toEqual(["sent", "sent"]);
  });

  it("retries a 5xx with backoff and sends the message once, still in order", async () => {
    const { bot } = await tenantWithJourney(env, {
      tenantId: "t-5xx",
      startParam: "go",
      steps: [
        { step_type: "message", config: { text: "s-1" } },
        { step_type: "message", config: { text: "s-2" } },
      ],
    });
    fake.failNext("sendMessage", { status: 502, description: "Bad Gateway" });
    await userSays(deps, bot, 8101, "/start go");
    await fake.waitForMessages({ botId: bot.telegramBotId, chatId: 8101, count: 2, timeoutMs: 20_000 });
    const session = await latestSession("t-5xx");
    const outbox = await waitFor("both rows marked sent", async () => {
      const rows = await outboxOf(env, session.id);
      return rows.every((r) => r.status === "sent") && rows;
    });
    expect(texts(bot.telegramBotId, 8101)).toEqual(["s-1", "s-2"]);
    expect(outbox.map((r) => r.attempts)).toEqual([2, 1]);
    expect(worker().count("send failed: will retry")).toBeGreaterThanOrEqual(1);
  });

  it("marks a message Telegram rejects for good as failed and sends the next one", async () => {
    const { bot } = await tenantWithJourney(env, {
      tenantId: "t-400",
      startParam: "go",
      steps: [
        { step_type: "message", config: { text: "p-1" } },
        { step_type: "message", config: { text: "p-2" } },
      ],
    });
    fake.failNext("sendMessage", { status: 400, description: "Bad Request: chat not found" });
    await userSays(deps, bot, 8201, "/start go");
    await fake.waitForMessages({ botId: bot.telegramBotId, chatId: 8201, count: 1, timeoutMs: 20_000 });
    const session = await latestSession("t-400");
    const outbox = await waitFor("both rows settled", async () => {
      const rows = await outboxOf(env, session.id);
      return rows.every((r) => r.status !== "pending") && rows;
    });
    expect(outbox.map((r) => [r.messageContent.text, r.status])).toEqual([
      ["p-1", "failed"],
      ["p-2", "sent"],
    ]);
    expect(outbox[0]!.error).toContain("chat not found");
    expect(texts(bot.telegramBotId, 8201)).toEqual(["p-2"]);
  });

  it("cancels the session and its pending rows when the user blocked the bot", async () => {
    const { bot } = await tenantWithJourney(env, {
      tenantId: "t-block",
      startParam: "go",
      steps: [
        { step_type: "message", config: { text: "b-1" } },
        { step_type: "message", config: { text: "b-2" } },
        { step_type: "delay", config: { min_minutes: 1, max_minutes: 1 } },
        { step_type: "message", config: { text: "b-3" } },
      ],
    });
    fake.blockChat(9001, bot.telegramBotId);
    await userSays(deps, bot, 9001, "/start go");
    const session = await waitFor("the session to be cancelled", async () => {
      const s = await latestSession("t-block");
      return s.status === "cancelled" && s;
    });
    const outbox = await outboxOf(env, session.id);
    expect(outbox.map((r) => [r.messageContent.text, r.status])).toEqual([
      ["b-1", "failed"],
      ["b-2", "cancelled"],
    ]);
    expect(outbox[0]!.error).toContain("blocked");
    expect((await scheduledOf(env, session.id)).map((r) => r.status)).toEqual(["cancelled"]);
    expect(texts(bot.telegramBotId, 9001)).toEqual([]);
  });
});
