/**
 * The API and a worker on a Redis Cluster: three masters on loopback (no replicas), REDIS_CLUSTER=true
 * and QUEUE_PREFIX={journeys} (BullMQ's hash tag: every key of the product in one slot). Updates go
 * through the real API's webhook (its dispatcher on an ioredis Cluster), the worker runs as in
 * production: delays fire, one bot's sends stay within the per-bot limit, and after FLUSHALL on the
 * node that holds {journeys} the sweeper puts the lost jobs back, so pending rows are still sent.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeTelegram } from "../../../packages/fake-telegram/src/index.ts";
import {
  ConfigError,
  connectBot,
  createLogger,
  delayJobId,
  loadConfig,
  type StepInput,
} from "../../../packages/journeys/src/index.ts";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { repoFor, tenantWithJourney } from "../../../test/support/fixtures.ts";
import { scheduledOf } from "../../../test/support/rows.ts";
import { DashboardSessions } from "../../api/src/routes/dashboard/sessions.ts";
import { hs256 } from "../../api/test/admin-support.ts";
import { bursts } from "./bursts.ts";
import { spawnWorker, type WorkerProc, waitFor } from "./support.ts";

const run = promisify(execFile);
const PREFIX = "{journeys}";
const NODES = 3;

interface RedisCluster {
  ports: number[];
  /** A plain (non-cluster) connection to each node, for CLUSTER SLOTS, DBSIZE and FLUSHALL. */
  node(port: number): Redis;
  /** The port of the master that holds `key`'s slot. */
  ownerOf(key: string): Promise<number>;
  stop(): Promise<void>;
}

/** redis-cli against one node; its output trimmed. */
async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { timeout: 10_000 });
  return stdout.trim();
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once("error", () => resolve(false));
    srv.listen(port, "127.0.0.1", () => srv.close(() => resolve(true)));
  });
}

/** A port whose cluster bus port (+10000) is free too. */
async function clusterPort(taken: number[]): Promise<number> {
  for (;;) {
    const port = 20_000 + Math.floor(Math.random() * 30_000);
    if (taken.includes(port) || taken.includes(port - 10_000) || taken.includes(port + 10_000)) continue;
    if ((await portFree(port)) && (await portFree(port + 10_000))) return port;
  }
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Three `redis-server --cluster-enabled yes` on free loopback ports in a temporary directory,
 * joined by `redis-cli --cluster create`; ready once every node reports cluster_state:ok. Whatever
 * fails on the way, what was started is stopped and the directory removed before the error is thrown.
 */
async function startRedisCluster(): Promise<RedisCluster> {
  const missing = [];
  for (const bin of ["redis-server", "redis-cli"]) {
    try {
      await run(bin, ["--version"]);
    } catch {
      missing.push(bin);
    }
  }
  if (missing.length > 0) {
    throw new Error(
      `the Redis Cluster test needs ${missing.join(" and ")} on PATH (Debian: apt-get install redis-server; CI installs it)`,
    );
  }
  const dir = await mkdtemp(join(tmpdir(), "journeys-cluster-"));
  const servers: ChildProcess[] = [];
  const clients = new Map<number, Redis>();
  const output: string[] = [];
  // Should the test process die without its afterAll, no redis-server may outlive it.
  const killAll = () => {
    for (const s of servers) if (s.exitCode === null && s.signalCode === null) s.kill("SIGKILL");
  };
  process.once("exit", killAll);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    for (const c of clients.values()) c.disconnect();
    await Promise.all(
      servers.map((s) => {
        if (s.exitCode !== null || s.signalCode !== null) return undefined;
        const exited = new Promise((resolve) => s.once("exit", resolve));
        s.kill("SIGKILL");
        return exited;
      }),
    );
    process.removeListener("exit", killAll);
    await rm(dir, { recursive: true, force: true });
  };

  try {
    const ports: number[] = [];
    for (let i = 0; i < NODES; i++) ports.push(await clusterPort(ports));
    for (const port of ports) {
      const server = spawn(
        "redis-server",
        [
          "--port",
          String(port),
          "--bind",
          "127.0.0.1",
          "--cluster-enabled",
          "yes",
          "--cluster-config-file",
          `nodes-${port}.conf`,
          "--cluster-node-timeout",
          "5000",
          "--dir",
          dir,
          "--save",
          "",
          "--appendonly",
          "no",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      for (const stream of [server.stdout, server.stderr])
        stream?.on("data", (chunk: Buffer) => output.push(`[${port}] ${chunk.toString().trimEnd()}`));
      servers.push(server);
    }
    for (const port of ports) await until(`redis-server on ${port}`, async () => (await cli(port, "ping")) === "PONG");
    await run(
      "redis-cli",
      ["--cluster", "create", ...ports.map((p) => `127.0.0.1:${p}`), "--cluster-replicas", "0", "--cluster-yes"],
      { timeout: 30_000 },
    );
    for (const port of ports) {
      await until(`cluster_state:ok on ${port}`, async () =>
        (await cli(port, "cluster", "info")).includes("cluster_state:ok"),
      );
    }
    const node = (port: number) => {
      let c = clients.get(port);
      if (!c) {
        c = new Redis(port, "127.0.0.1", { maxRetriesPerRequest: 1 });
        c.on("error", () => undefined);
        clients.set(port, c);
      }
      return c;
    };
    return {
      ports,
      node,
      async ownerOf(key) {
        const slot = Number(await node(ports[0]!).call("CLUSTER", "KEYSLOT", key));
        const ranges = (await node(ports[0]!).call("CLUSTER", "SLOTS")) as [number, number, [string, number]][];
        const owner = ranges.find(([lo, hi]) => slot >= lo && slot <= hi);
        if (!owner) throw new Error(`no node holds slot ${slot}`);
        return Number(owner[2][1]);
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw new Error(`could not start the Redis Cluster: ${(err as Error).message}\n${output.slice(-20).join("\n")}`);
  }
}

const cluster = await startRedisCluster();
// Registered first, so it runs last: after the worker, the API and the file's database are gone.
afterAll(() => cluster.stop());

const { env, fake, api, clusterEnv } = await (async () => {
  try {
    const clusterEnv = {
      REDIS_CLUSTER: "true",
      // Two of the three as seeds: the client learns the rest from the cluster.
      REDIS_URL: cluster.ports
        .slice(0, 2)
        .map((p) => `redis://127.0.0.1:${p}`)
        .join(","),
      QUEUE_PREFIX: PREFIX,
    };
    const env = await createTestEnv(clusterEnv);
    const fake = await startFakeTelegram();
    afterAll(() => fake.close());
    const api = await startTestApi(env, { TELEGRAM_API_ROOT: fake.apiRoot });
    return { env, fake, api, clusterEnv };
  } catch (err) {
    await cluster.stop();
    throw err;
  }
})();

const { burst, receivedCounts, allSent } = bursts(env, fake, api.deps.queues);
let worker: WorkerProc;
/** A worker started on the cluster without a hash tag: it must refuse (started beside the real one, to save time). */
let refused: unknown;
beforeAll(async () => {
  [worker, refused] = await Promise.all([
    spawnWorker(env, fake.apiRoot, "worker"),
    spawnWorker(env, fake.apiRoot, "no-hash-tag", { QUEUE_PREFIX: "journeys" }).then(
      () => new Error("the worker started without a hash tag"),
      (err: Error) => err,
    ),
  ]);
});
afterAll(async () => {
  await worker?.stop();
});

let nextBot = 7_000_000_000 + Math.floor(Math.random() * 100_000) * 1000;

/** A bot connected through the fake Bot API (setWebhook to the API), and a journey on it. */
async function journeyOnConnectedBot(tenantId: string, steps: StepInput[]) {
  const telegramId = nextBot++;
  const { bot } = await connectBot(
    {
      db: env.handle.db,
      encryptionKey: env.config.botTokenEncryptionKey,
      telegramApiRoot: fake.apiRoot,
      publicBaseUrl: api.url,
      log: createLogger("silent"),
    },
    tenantId,
    { token: `${telegramId}:${randomBytes(18).toString("base64url")}` },
  );
  await tenantWithJourney(env, { tenantId, bot: { botId: bot.botId, tenantId }, startParam: "go", steps });
  return {
    telegramId,
    /** The user types `text`; the API's webhook must answer 200. */
    async say(userId: number, text: string) {
      const res = await fake.userSays(telegramId, { userId, text });
      expect(res.status, res.body).toBe(200);
    },
  };
}

const latestSession = async (tenant: string) => (await repoFor(env, tenant).sessions.recent(1))[0]!.session;

describe("configuration", () => {
  it("refuses a cluster without a hash tag in QUEUE_PREFIX, in the config and at the worker's start", () => {
    const noTag = { ...env.env, ...clusterEnv, QUEUE_PREFIX: "journeys" };
    expect(() => loadConfig(noTag)).toThrow(ConfigError);
    expect(() => loadConfig(noTag)).toThrow(/QUEUE_PREFIX must hold a hash tag/);
    expect(() => loadConfig({ ...noTag, QUEUE_PREFIX: "{}journeys" })).toThrow(/hash tag/);
    expect(loadConfig({ ...noTag, QUEUE_PREFIX: "app-{journeys}" }).redisCluster).toBe(true);
    expect(() => loadConfig({ ...noTag, REDIS_CLUSTER: "yes" })).toThrow(/REDIS_CLUSTER must be true or false/);
    // Several seeds without REDIS_CLUSTER=true is a mistake, said as such.
    expect(() => loadConfig({ ...noTag, REDIS_CLUSTER: "false" })).toThrow(/set REDIS_CLUSTER=true/);

    expect(String(refused)).toMatch(/no-hash-tag exited \(code 1\)[\s\S]*QUEUE_PREFIX must hold a hash tag/);
  });
});

describe("API and worker on a 3-master Redis Cluster", () => {
  it("fires a delay: the webhook's dispatch enqueues on the cluster, the worker sends in journey order", async () => {
    const bot = await journeyOnConnectedBot("t-cluster-delay", [
      { step_type: "message", config: { text: "d-1" } },
      { step_type: "delay", config: { min_minutes: 0.03, max_minutes: 0.03 } },
      { step_type: "message", config: { text: "d-2" } },
    ]);
    await bot.say(5001, "/start go");
    const sent = await fake.waitForMessages({ botId: bot.telegramId, chatId: 5001, count: 2, timeoutMs: 20_000 });
    expect(sent.map((m) => m.text)).toEqual(["d-1", "d-2"]);
    const session = await waitFor("the session to complete", async () => {
      const s = await latestSession("t-cluster-delay");
      return s.status === "completed" && s;
    });
    expect((await scheduledOf(env, session.id)).map((r) => r.status)).toEqual(["sent"]);
    expect(worker.count("delay fired: session resumed")).toBeGreaterThanOrEqual(1);
  });

  it("keeps one bot at ≤ 30 sends in any second (90 messages), its limiter's keys in {journeys}'s slot", async () => {
    const { bot, ids } = await burst("t-cluster-rate", 90, 300_000, "rate-");
    await fake.waitForMessages({ botId: bot.telegramBotId, count: 90, timeoutMs: 30_000 });
    await allSent(ids);
    expect(fake.stats().peakPerSecondByBot[bot.telegramBotId]).toBeLessThanOrEqual(30);
    expect([...receivedCounts(bot.telegramBotId).values()].every((n) => n === 1)).toBe(true);

    // Every key the API and the worker wrote (queues, send limiter, scheduler) is on one node.
    const owner = await cluster.ownerOf(PREFIX);
    const limiterKey = `${PREFIX}:send-rate:${bot.botId}`;
    expect(await cluster.ownerOf(limiterKey)).toBe(owner);
    expect(await cluster.node(owner).exists(limiterKey)).toBe(1);
    for (const port of cluster.ports.filter((p) => p !== owner)) expect(await cluster.node(port).dbsize()).toBe(0);
  });

  it("keeps the admin API's rate limits and the dashboard's sessions on the cluster", async () => {
    const token = hs256({
      sub: "u",
      tenant_id: "t-cluster-admin",
      role: "admin",
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    const list = () =>
      api.app.inject({ method: "GET", url: "/api/journeys", headers: { authorization: `Bearer ${token}` } });
    const first = await list();
    const second = await list();
    expect(first.statusCode, first.body).toBe(200);
    // A counter that Redis refused would let the request through without counting (skipOnError).
    expect(Number(second.headers["x-ratelimit-remaining"])).toBe(Number(first.headers["x-ratelimit-remaining"]) - 1);

    const sessions = new DashboardSessions(api.deps.redis, PREFIX);
    const { id } = await sessions.create({
      sub: "u",
      tenant_id: "t-cluster-admin",
      role: "admin",
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    expect(await sessions.get(id)).toMatchObject({ tenant_id: "t-cluster-admin", role: "admin" });
    const board = await api.app.inject({
      method: "GET",
      url: "/admin/queues/api/queues",
      cookies: { journeys_admin: id },
    });
    expect(board.statusCode, board.body).toBe(200);
    await sessions.delete(id);
    expect(await sessions.get(id)).toBeNull();

    const owner = await cluster.ownerOf(PREFIX);
    expect(await cluster.node(owner).keys(`${PREFIX}:rate-limit:*`)).not.toEqual([]);
  });

  it("recovers from FLUSHALL on the node holding {journeys}: pending delays and sends still go out, once each", async () => {
    const delayed = await journeyOnConnectedBot("t-cluster-flush", [
      { step_type: "delay", config: { min_minutes: 0.12, max_minutes: 0.12 } },
      { step_type: "message", config: { text: "after-flush" } },
    ]);
    await delayed.say(6001, "/start go");
    const session = await latestSession("t-cluster-flush");
    const [row] = await scheduledOf(env, session.id);
    await waitFor("the delay job in Redis", async () =>
      Boolean(await api.deps.queues.delays.getJob(delayJobId(row!.id))),
    );
    // 100 sends for one bot take over 3 s at 30/s: most are still pending when the node is flushed.
    const { bot, ids } = await burst("t-cluster-flush-out", 100, 400_000, "flush-");
    await fake.waitForMessages({ botId: bot.telegramBotId, count: 20, timeoutMs: 20_000 });

    const owner = await cluster.ownerOf(PREFIX);
    expect(await (await api.deps.queues.delays.getJob(delayJobId(row!.id)))?.getState()).toBe("delayed");
    await cluster.node(owner).flushall();
    expect(await api.deps.queues.delays.getJob(delayJobId(row!.id))).toBeUndefined();
    const pendingAtFlush = (
      await env.handle.pool.query(
        "SELECT count(*)::int AS n FROM journey_outbox WHERE id = ANY($1) AND status = 'pending'",
        [ids],
      )
    ).rows[0].n as number;
    expect(pendingAtFlush).toBeGreaterThan(0);

    const [late] = await fake.waitForMessages({ botId: delayed.telegramId, chatId: 6001, count: 1, timeoutMs: 30_000 });
    expect(late!.text).toBe("after-flush");
    await fake.waitForMessages({ botId: bot.telegramBotId, count: 100, timeoutMs: 40_000 });
    await allSent(ids);
    expect([...receivedCounts(bot.telegramBotId).entries()].filter(([, n]) => n !== 1)).toEqual([]);
    await waitFor("the delayed session to complete", async () => {
      const s = await repoFor(env, "t-cluster-flush").sessions.get(session.id);
      return s.status === "completed";
    });
    expect(fake.sent({ botId: delayed.telegramId, chatId: 6001 }).map((m) => m.text)).toEqual(["after-flush"]);
    // The sweeper put the lost jobs back, and the health check the lost sweep schedule.
    expect(worker.lines.some((l) => l.includes('"action":"added"') && l.includes("sweeper: delay job"))).toBe(true);
    expect(worker.lines.some((l) => l.includes("sweeper: send job"))).toBe(true);
    expect(worker.count("sweep schedule set")).toBeGreaterThanOrEqual(2);
    console.log(`flushed node ${owner} with ${pendingAtFlush} of 100 sends pending; all sent once after the sweep`);
  });
});
