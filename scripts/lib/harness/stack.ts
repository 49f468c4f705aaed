/**
 * The scratch stack `npm run verify`, `npm run bench` and `npm run test:faults` bring up: its own
 * database and queue prefix, fresh secrets, the fake Bot API, and the API and the worker as child
 * processes started as production starts them (services.ts). On request: the fake inside this
 * process (the fault suite reads its records directly), a private redis-server and a TCP proxy in
 * front of Postgres (for fault injection). `tearDown` removes all of it, also after a failure.
 */
import { randomBytes } from "node:crypto";
import { type FakeTelegram, type RecordedCall, startFakeTelegram } from "@journeys/fake-telegram";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { loadConfig } from "../../../packages/journeys/src/config.ts";
import { QUEUES } from "../../../packages/journeys/src/queue/names.ts";
import { ENTRY, freePort, type Proc, startProc, waitForHttp } from "../procs.ts";
import type { AdminTarget } from "./admin-client.ts";
import { requestJson } from "./http.ts";
import { PgProxy } from "./pg-proxy.ts";
import { PrivateRedis } from "./redis-server.ts";
import { Services } from "./services.ts";

export interface StackOptions {
  /** Names the database (journeys_<tool>_<id>) and the queue prefix (<tool>-<id>). */
  tool: string;
  /** Echo the child processes' output, each line labelled. */
  verbose?: boolean;
  /** "production" runs the services as deployed (no development defaults). */
  nodeEnv?: "development" | "production";
  /** The fake Bot API in this process (`stack.fake`) instead of a child process. */
  fakeInProcess?: boolean;
  /** sendMessage calls per second and bot the fake answers before a 429. */
  fakeRateLimit?: number;
  /** The services use a private redis-server (`stack.redis`) instead of the machine's Redis. */
  privateRedis?: boolean;
  /** The services reach Postgres through a TCP proxy (`stack.proxy`) that can cut it. */
  pgProxy?: boolean;
  /** Both services' environment on top of the stack's (e.g. SCHEDULER_SWEEP_INTERVAL_MS). */
  env?: Record<string, string>;
  apiEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
}

export class Stack extends Services implements AdminTarget {
  readonly id: string;
  readonly dbName: string;
  /** The machine's Postgres and Redis, as DATABASE_URL and REDIS_URL (or their defaults) name them. */
  private readonly base = loadConfig({ ...process.env, NODE_ENV: "development" });
  /** Direct to Postgres, never through the proxy: the tools' own reads and writes. */
  readonly dbUrl: string;
  fakeRoot = "";
  private pool: pg.Pool | undefined;
  private dbCreated = false;
  private inProcessFake: FakeTelegram | undefined;
  private fakeProc: Proc | undefined;
  private ownRedis: PrivateRedis | undefined;
  private pgProxy: PgProxy | undefined;
  private readonly redises: PrivateRedis[] = [];
  /** Extra processes stopped on purpose (their exit is no failure). */
  private readonly extrasStopped = new WeakSet<Proc>();

  constructor(private readonly options: StackOptions) {
    const id = randomBytes(4).toString("hex");
    super(`${options.tool}-${id}`, randomBytes(32).toString("hex"), options);
    this.id = id;
    this.dbName = `journeys_${options.tool}_${id}`;
    this.dbUrl = this.postgresUrl(this.dbName);
    this.redisUrl = this.base.redisUrl;
  }

  /** Direct to the stack's database (not through the proxy). */
  get db(): pg.Pool {
    if (!this.pool) throw new Error("the stack is not started");
    return this.pool;
  }

  /** The fake Bot API object, when it runs in this process. */
  get fake(): FakeTelegram {
    if (!this.inProcessFake) throw new Error("the fake Bot API runs in another process: use fakeRoot");
    return this.inProcessFake;
  }

  get redis(): PrivateRedis {
    if (!this.ownRedis) throw new Error("this stack uses the shared Redis");
    return this.ownRedis;
  }

  get proxy(): PgProxy {
    if (!this.pgProxy) throw new Error("this stack reaches Postgres without a proxy");
    return this.pgProxy;
  }

  /** Everything up; the worker too unless `worker` is false (then `startWorker` when wanted). */
  async start({ worker = true }: { worker?: boolean } = {}): Promise<void> {
    const admin = new pg.Client({ connectionString: this.postgresUrl("postgres") });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${this.dbName}"`);
      this.dbCreated = true;
    } finally {
      await admin.end();
    }
    this.pool = new pg.Pool({ connectionString: this.dbUrl, max: 4 });
    this.pool.on("error", () => undefined); // an idle client cut off: the next query reconnects
    const target = new URL(this.base.databaseUrl);
    if (this.options.pgProxy) {
      this.pgProxy = new PgProxy(target.hostname, Number(target.port || 5432));
      await this.pgProxy.start();
    }
    if (this.options.privateRedis) {
      this.ownRedis = await this.startRedis();
      this.redisUrl = this.ownRedis.url;
    }
    await this.startFake();
    const apiPort = await freePort();
    this.apiUrl = `http://127.0.0.1:${apiPort}`;
    this.env = {
      NODE_ENV: this.options.nodeEnv ?? "development",
      DATABASE_URL: this.pgProxy ? this.postgresUrl(this.dbName, this.pgProxy.port) : this.dbUrl,
      REDIS_URL: this.redisUrl,
      QUEUE_PREFIX: this.prefix,
      HOST: "127.0.0.1",
      PORT: String(apiPort),
      PUBLIC_BASE_URL: this.apiUrl,
      TELEGRAM_API_ROOT: this.fakeRoot,
      JWT_SECRET: this.jwtSecret,
      BOT_TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
      LOG_LEVEL: "warn",
      ...this.options.env,
    };
    // The API migrates the new database; the worker touches no table until a job runs.
    await Promise.all([this.startApi(), worker ? this.startWorker() : undefined]);
  }

  private async startFake(): Promise<void> {
    const rate = this.options.fakeRateLimit;
    if (this.options.fakeInProcess) {
      this.inProcessFake = await startFakeTelegram({ rateLimitPerSecond: rate ?? null });
      this.fakeRoot = this.inProcessFake.apiRoot;
      return;
    }
    const port = await freePort();
    this.fakeRoot = `http://127.0.0.1:${port}`;
    const args = ["--port", String(port), ...(rate === undefined ? [] : ["--rate-limit", String(rate)])];
    this.fakeProc = startProc("telegram", ENTRY.fakeTelegram, { args, quiet: !this.options.verbose });
    await waitForHttp(`${this.fakeRoot}/_fake/stats`);
  }

  /** A private redis-server on a free loopback port, nothing persisted; tearDown stops it. */
  async startRedis(extra: string[] = []): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), extra);
    this.redises.push(redis);
    await redis.start();
    return redis;
  }

  /**
   * Another API process beside `stack.api` (same database, Redis and fake), on `port` — a free one
   * unless given (pass the old one to restart it in its place) — and with `wait`, until it is
   * ready. It is in `history`: tearDown stops it and an exit nobody caused is reported.
   */
  async startExtraApi(opts: { port?: number; wait?: boolean } = {}): Promise<{ url: string; proc: Proc }> {
    const port = opts.port ?? (await freePort());
    const url = `http://127.0.0.1:${port}`;
    const proc = this.spawnExtra("api", ENTRY.api, { ...this.env, ...this.options.apiEnv, PORT: String(port) });
    if (opts.wait !== false) await this.waitExtraApiReady(proc, url, 60_000);
    return { url, proc };
  }

  /** Until the API process `proc` listening at `url` answers /health/ready 200. */
  async waitExtraApiReady(proc: Proc, url: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!proc.alive())
        throw new Error(`the API at ${url} exited during start-up:\n${proc.lines.slice(-30).join("\n")}`);
      try {
        const res = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the API at ${url} was not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Another worker process beside `stack.worker`, with the stack's environment; see waitWorkers. */
  startExtraWorker(): Proc {
    return this.spawnExtra("worker", ENTRY.worker, { ...this.env, ...this.options.workerEnv });
  }

  /** Until every queue has at least `count` consumers (on the stack's Redis). */
  async waitWorkers(count: number, timeoutMs: number): Promise<void> {
    const connection = new Redis(this.redisUrl, { maxRetriesPerRequest: 1 });
    connection.on("error", () => undefined); // a Redis down answers "not yet"
    const queues = Object.values(QUEUES).map((name) => new Queue(name, { connection, prefix: this.prefix }));
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const counts = await Promise.all(queues.map((q) => q.getWorkersCount())).catch(() => [0]);
        if (counts.every((n) => n >= count)) return;
        if (Date.now() > deadline) throw new Error(`fewer than ${count} workers on every queue after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      await Promise.allSettled(queues.map((q) => q.close()));
      connection.disconnect();
    }
  }

  /** Stop an extra process gracefully (SIGTERM, SIGKILL after `timeoutMs`); its exit is no failure. */
  async stopExtra(proc: Proc, timeoutMs = 25_000): Promise<void> {
    this.extrasStopped.add(proc);
    await proc.stop(timeoutMs);
  }

  override unexpectedExits(): Proc[] {
    return super.unexpectedExits().filter((p) => !this.extrasStopped.has(p));
  }

  private spawnExtra(name: "api" | "worker", entry: string, env: Record<string, string>): Proc {
    const n = this.history.filter((p) => p.name.startsWith(`${name}-`)).length + 2;
    const proc = startProc(`${name}-${n}`, entry, { env, quiet: !this.options.verbose });
    this.history.push(proc);
    return proc;
  }

  /**
   * The webhook secret the API registered a bot with (what Telegram sends back with each update):
   * the secret_token of the fake Bot API's last successful setWebhook for it. The database holds
   * only its hash.
   */
  async webhookSecret(bot: { botId: string; telegramBotId: number }): Promise<string> {
    const calls = this.inProcessFake
      ? this.inProcessFake.calls
      : (await requestJson<{ calls: RecordedCall[] }>(`${this.fakeRoot}/_fake/calls`)).calls;
    const secret = calls
      .filter((c) => c.method === "setWebhook" && c.botId === bot.telegramBotId && c.status === 200)
      .at(-1)?.params.secret_token;
    if (typeof secret !== "string") throw new Error(`bot ${bot.botId}: no webhook secret registered`);
    return secret;
  }

  /** Synchronous last resort (the parent exiting abnormally): SIGKILL every process it started. */
  override killNow(): void {
    super.killNow();
    for (const r of this.redises) r.killNow();
  }

  async tearDown(): Promise<void> {
    await Promise.allSettled([this.stopAll(), this.fakeProc?.stop(5000), this.inProcessFake?.close()]);
    await Promise.allSettled([...this.redises.map((r) => r.stop()), this.pgProxy?.close(), this.pool?.end()]);
    if (this.dbCreated) {
      const admin = new pg.Client({ connectionString: this.postgresUrl("postgres") });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${this.dbName}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    }
    // Whatever the services left under the prefix in the shared Redis.
    const redis = new Redis(this.base.redisUrl);
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${this.prefix}:*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
    redis.disconnect();
  }

  /** The machine's Postgres with another database (and port: the proxy's). */
  private postgresUrl(database: string, port?: number): string {
    const url = new URL(this.base.databaseUrl);
    url.pathname = `/${database}`;
    if (port !== undefined) {
      url.hostname = "127.0.0.1";
      url.port = String(port);
    }
    return url.toString();
  }
}
