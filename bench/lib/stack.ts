/**
 * The scratch stack a bench run owns: its own database (created by the API's migration at start),
 * its own queue prefix, a rate-limited fake Bot API, the API and the worker as child processes,
 * and any private redis-server instances. `tearDown` removes all of it, also after a failure.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { loadConfig } from "../../packages/journeys/src/config.ts";
import { QUEUES } from "../../packages/journeys/src/queue/names.ts";
import { ENTRY, freePort, type Proc, startProc, waitForHttp } from "../../scripts/lib/procs.ts";

export interface PrivateRedis {
  url: string;
  stop(): Promise<void>;
}

export class Stack {
  readonly id = randomBytes(4).toString("hex");
  readonly dbName = `journeys_bench_${this.id}`;
  readonly prefix = `bench-${this.id}`;
  readonly base = loadConfig({ ...process.env, NODE_ENV: "development" });
  readonly dbUrl: string;
  apiUrl = "";
  fakeRoot = "";
  fake: Proc | undefined;
  api: Proc | undefined;
  worker: Proc | undefined;
  private env: Record<string, string> = {};
  private readonly redises: PrivateRedis[] = [];
  private readonly others: Proc[] = [];
  private createdDb = false;

  constructor(
    private readonly verbose: boolean,
    /** Extra environment for the API process (e.g. NODE_OPTIONS=--cpu-prof when profiling). */
    private readonly apiEnv: Record<string, string> = {},
  ) {
    const url = new URL(this.base.databaseUrl);
    url.pathname = `/${this.dbName}`;
    this.dbUrl = url.toString();
  }

  get jwtSecret(): string {
    return this.base.jwtSecret;
  }

  async start(): Promise<void> {
    const [apiPort, fakePort] = [await freePort(), await freePort()];
    this.apiUrl = `http://127.0.0.1:${apiPort}`;
    this.fakeRoot = `http://127.0.0.1:${fakePort}`;
    this.env = {
      NODE_ENV: "development",
      DATABASE_URL: this.dbUrl,
      REDIS_URL: this.base.redisUrl,
      QUEUE_PREFIX: this.prefix,
      HOST: "127.0.0.1",
      PORT: String(apiPort),
      PUBLIC_BASE_URL: this.apiUrl,
      TELEGRAM_API_ROOT: this.fakeRoot,
      LOG_LEVEL: "warn",
    };
    const quiet = !this.verbose;
    this.fake = startProc("telegram", ENTRY.fakeTelegram, {
      args: ["--port", String(fakePort), "--rate-limit", "30"],
      quiet,
    });
    await waitForHttp(`${this.fakeRoot}/_fake/stats`);
    this.createdDb = true; // the API creates it; tearDown drops it if it exists
    this.api = startProc("api", ENTRY.api, { env: { ...this.env, ...this.apiEnv }, quiet });
    await waitForHttp(`${this.apiUrl}/health/ready`, 60_000);
  }

  /** Start the worker on `redisUrl` (default: the shared Redis) and wait until it consumes every queue. */
  async startWorker(redisUrl = this.base.redisUrl): Promise<Proc> {
    if (this.worker) throw new Error("a worker is already running");
    this.worker = startProc("worker", ENTRY.worker, {
      env: { ...this.env, REDIS_URL: redisUrl },
      quiet: !this.verbose,
    });
    const connection = new Redis(redisUrl);
    const queues = Object.values(QUEUES).map((name) => new Queue(name, { connection, prefix: this.prefix }));
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const counts = await Promise.all(queues.map((q) => q.getWorkersCount()));
        if (counts.every((n) => n > 0)) break;
        if (this.worker.child.exitCode !== null) throw new Error("the worker exited during start-up");
        if (Date.now() > deadline) throw new Error("the worker did not start within 60 s");
        await new Promise((r) => setTimeout(r, 200));
      }
    } finally {
      await Promise.all(queues.map((q) => q.close()));
      connection.disconnect();
    }
    return this.worker;
  }

  async stopWorker(): Promise<void> {
    await this.worker?.stop(25_000);
    this.worker = undefined;
  }

  /** Another child process (load driver, ceiling server) that tearDown stops if still running. */
  track(proc: Proc): Proc {
    this.others.push(proc);
    return proc;
  }

  /** A private redis-server on a free loopback port, nothing persisted. */
  async startRedis(extra: string[] = []): Promise<PrivateRedis> {
    const port = await freePort();
    const child = spawn(
      "redis-server",
      ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", ...extra],
      { stdio: "ignore" },
    );
    const url = `redis://127.0.0.1:${port}`;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    const redis: PrivateRedis = {
      url,
      stop: async () => {
        if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
        await exited;
      },
    };
    this.redises.push(redis);
    const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    probe.on("error", () => undefined); // refused until the server listens: retried below
    for (let i = 0; ; i++) {
      try {
        await probe.connect();
        await probe.ping();
        break;
      } catch (err) {
        if (i > 50) throw new Error(`redis-server on :${port} did not start: ${(err as Error).message}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    probe.disconnect();
    return redis;
  }

  async tearDown(): Promise<void> {
    await Promise.allSettled([
      ...this.others.map((p) => p.stop(5000)),
      this.worker?.stop(10_000),
      this.api?.stop(10_000),
      this.fake?.stop(5000),
    ]);
    await Promise.allSettled(this.redises.map((r) => r.stop()));
    if (this.createdDb) {
      const admin = new URL(this.base.databaseUrl);
      admin.pathname = "/postgres";
      const client = new pg.Client({ connectionString: admin.toString() });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS "${this.dbName}" WITH (FORCE)`);
      await client.end();
    }
    const redis = new Redis(this.base.redisUrl);
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${this.prefix}:*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
    redis.disconnect();
  }
}
