/**
 * Redis goes away and comes back (empty, as a restart without persistence leaves it): the running
 * worker reconnects and carries on without a restart, and a message written during the outage is
 * still sent. Runs against a private redis-server so the shared one is never disturbed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { Redis } from "ioredis";
import { expect, it } from "vitest";
import { freePort } from "../../../scripts/lib/procs.ts";
import { tenantWithJourney } from "../../../test/support/fixtures.ts";
import { userSays, waitFor, workerTestFile } from "./support.ts";

const port = await freePort();
let redisServer: ChildProcess | undefined;

async function startRedis() {
  redisServer = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const probe = new Redis(port, "127.0.0.1", { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on("error", () => undefined);
  try {
    await waitFor("redis-server to answer", async () => {
      try {
        if (probe.status !== "ready") await probe.connect();
        return (await probe.ping()) === "PONG";
      } catch {
        probe.disconnect();
        return false;
      }
    });
  } finally {
    probe.disconnect();
  }
}

async function stopRedis() {
  const server = redisServer;
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGKILL");
  await exited;
}

await startRedis();
const { env, fake, deps, worker } = await workerTestFile({
  envOverrides: { REDIS_URL: `redis://127.0.0.1:${port}` },
  afterClose: stopRedis,
});

it("reconnects to a Redis that went away and came back empty, and loses no message", async () => {
  const { bot } = await tenantWithJourney(env, {
    tenantId: "t-outage",
    startParam: "go",
    steps: [{ step_type: "message", config: { text: "o-hello" } }],
  });
  await userSays(deps, bot, 1, "/start go");
  await fake.waitForMessages({ botId: bot.telegramBotId, chatId: 1, count: 1, timeoutMs: 20_000 });

  await stopRedis();
  await waitFor("the worker to notice", () => worker().count("redis connection lost; reconnecting") > 0);
  // Written while Redis is down: the row is committed, its enqueue fails (and is only logged).
  await userSays(deps, bot, 2, "/start go");

  await startRedis();
  await waitFor("the worker to replace its queue workers", () => worker().count("replacing the queue worker") >= 3);
  await userSays(deps, bot, 3, "/start go");
  await fake.waitForMessages({ botId: bot.telegramBotId, chatId: 3, count: 1, timeoutMs: 20_000 });
  await fake.waitForMessages({ botId: bot.telegramBotId, chatId: 2, count: 1, timeoutMs: 20_000 });
  expect(fake.sent({ botId: bot.telegramBotId }).map((m) => m.chatId)).toHaveLength(3);
  expect(worker().lines.some((l) => l.includes('"reason":"missing"') && l.includes("sweep schedule set"))).toBe(true);
});
