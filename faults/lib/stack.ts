/**
 * The scratch stack the fault suite owns: its own database, a private redis-server, a TCP proxy in
 * front of Postgres (scenario 4 cuts it), the fake Bot API (in this process), and the API and the
 * worker as child processes started the way production starts them. `tearDown` removes all of it,
 * also after a failure. The suite's own checks read Postgres directly, never through the proxy.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { type FakeTelegram, startFakeTelegram } from "../../packages/fake-telegram/src/index.ts";
import { ENTRY, freePort } from "../../scripts/lib/procs.ts";
import { type Service, spawnService } from "./child.ts";
import { Fatal } from "./client.ts";
import { PgProxy } from "../../scripts/lib/harness/pg-proxy.ts";
import { PrivateRedis } from "../../scripts/lib/harness/redis-server.ts";

export const PG_ADMIN_URL = process.env.FAULTS_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
/** Short, so recovery paths that wait for a sweep run many times within the suite's budget. */
export const SWEEP_INTERVAL_MS = 2000;

export interface StackOptions {
  verbose: boolean;
}

export class Stack {
  readonly id = randomBytes(4).toString("hex");
  readonly dbName = `journeys_faults_${this.id}`;
  readonly prefix = `faults-${this.id}`;
  readonly jwtSecret = randomBytes(32).toString("hex");
  readonly encryptionKey = randomBytes(32).toString("hex");
  apiUrl = "";
  fake!: FakeTelegram;
  redis!: PrivateRedis;
  proxy!: PgProxy;
  /** Direct to Postgres (not through the proxy): the suite's own reads. */
  db!: pg.Pool;
  api: Service | undefined;
  worker: Service | undefined;
  /** Every API / worker process started, in order (for the "never crashed" checks and for logs). */
  readonly history: Service[] = [];
  private env: Record<string, string> = {};
  /** Overrides for the worker's environment; kept for its restarts. */
  private workerEnv: Record<string, string> = {};
  private dbCreated = false;

  constructor(private readonly opts: StackOptions) {}

  private adminClient(): pg.Client {
    return new pg.Client({ connectionString: PG_ADMIN_URL });
  }

  private dbUrl(host: string, port: number): string {
    const u = new URL(PG_ADMIN_URL);
    u.hostname = host;
    u.port = String(port);
    u.pathname = `/${this.dbName}`;
    return u.toString();
  }

  async start(): Promise<void> {
    const admin = this.adminClient();
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE "${this.dbName}"`);
      this.dbCreated = true;
    } finally {
      await admin.end();
    }
    const target = new URL(PG_ADMIN_URL);
    this.proxy = new PgProxy(target.hostname, Number(target.port || 5432));
    await this.proxy.start();
    this.redis = new PrivateRedis(await freePort());
    await this.redis.start();
    this.fake = await startFakeTelegram({ rateLimitPerSecond: 30 });
    const apiPort = await freePort();
    this.apiUrl = `http://127.0.0.1:${apiPort}`;
    this.env = {
      NODE_ENV: "production",
      DATABASE_URL: process.env.FAULTS_NO_PROXY
        ? this.dbUrl(target.hostname, Number(target.port || 5432))
        : this.dbUrl("127.0.0.1", this.proxy.port),
      REDIS_URL: this.redis.url,
      QUEUE_PREFIX: this.prefix,
      HOST: "127.0.0.1",
      PORT: String(apiPort),
      PUBLIC_BASE_URL: this.apiUrl,
      TELEGRAM_API_ROOT: this.fake.apiRoot,
      JWT_SECRET: this.jwtSecret,
      BOT_TOKEN_ENCRYPTION_KEY: this.encryptionKey,
      SCHEDULER_SWEEP_INTERVAL_MS: String(SWEEP_INTERVAL_MS),
      LOG_LEVEL: "warn",
    };
    this.db = new pg.Pool({ connectionString: this.dbUrl(target.hostname, Number(target.port || 5432)), max: 4 });
    this.db.on("error", () => undefined);
    // The API migrates the new database; the worker touches no table until a job runs.
    await Promise.all([this.startApi(), this.startWorker()]);
  }

  /** Start the API; with `wait`, until /health/ready answers 200 (it migrates first). */
  async startApi(wait = true): Promise<Service> {
    if (this.api?.alive()) throw new Error("an API process is already running");
    this.api = spawnService("api", ENTRY.api, this.env, { verbose: this.opts.verbose });
    this.history.push(this.api);
    if (wait) await this.waitApiReady(60_000);
    return this.api;
  }

  async waitApiReady(timeoutMs: number): Promise<void> {
    const api = this.api!;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!api.alive()) throw new Error(`the API exited during start-up:\n${api.lines.slice(-30).join("\n")}`);
      try {
        const res = await fetch(`${this.apiUrl}/health/ready`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the API was not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Start a worker; with `wait`, until it logs "worker ready" (it then consumes every queue). */
  async startWorker(wait = true, env: Record<string, string> = {}): Promise<Service> {
    if (this.worker?.alive()) throw new Error("a worker process is already running");
    this.workerEnv = { ...this.workerEnv, ...env };
    this.worker = spawnService(
      "worker",
      ENTRY.worker,
      { ...this.env, LOG_LEVEL: "info", ...this.workerEnv },
      {
        verbose: this.opts.verbose,
      },
    );
    this.history.push(this.worker);
    if (wait) await this.waitWorkerReady(60_000);
    return this.worker;
  }

  async waitWorkerReady(timeoutMs: number): Promise<void> {
    const worker = this.worker!;
    const deadline = Date.now() + timeoutMs;
    while (worker.count("worker ready") === 0) {
      if (!worker.alive()) throw new Error(`the worker exited during start-up:\n${worker.lines.slice(-30).join("\n")}`);
      if (Date.now() > deadline) throw new Error(`the worker was not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stop the worker (SIGTERM, bounded wait). */
  async stopWorker(): Promise<void> {
    if (!this.worker) return;
    crashed.add(this.worker);
    await this.worker.stop(15_000);
  }

  /** Replace the running worker (SIGTERM, wait) with one started with `env` on top of the stack's. */
  async restartWorker(env: Record<string, string>): Promise<Service> {
    await this.stopWorker();
    return this.startWorker(true, env);
  }

  /** Throw a Fatal when a named process has died (the scenario did not kill it): no wait can help. */
  requireAlive(...names: ("api" | "worker")[]): void {
    for (const name of names) {
      const s = this[name];
      if (s && !s.alive() && !crashed.has(s)) {
        throw new Fatal(`the ${name} process (pid ${s.pid}) died:\n${s.lines.slice(-8).join("\n").slice(0, 2000)}`);
      }
    }
  }

  /** Processes that died without being told to (a crash the suite did not cause). */
  unexpectedExits(): Service[] {
    return this.history.filter((s) => !s.alive() && !crashed.has(s));
  }

  /** SIGKILL on purpose (recorded, so it does not count as an unexpected exit). */
  async crash(service: Service): Promise<void> {
    crashed.add(service);
    await service.crash();
  }

  async tearDown(): Promise<void> {
    for (const s of this.history) crashed.add(s);
    await Promise.allSettled(this.history.map((s) => s.stop(3000)));
    await Promise.allSettled([this.fake?.close(), this.redis?.stop(), this.proxy?.close(), this.db?.end()]);
    if (this.dbCreated) {
      const admin = this.adminClient();
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${this.dbName}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    }
  }

  /** The last log lines of every process, for a failure report. */
  logTail(lines = 12): string {
    return this.history
      .filter((s) => s.lines.length > 0)
      .slice(-4)
      .map(
        (s) =>
          `---- ${s.name} pid ${s.pid} ----\n${s.lines
            .slice(-lines)
            .map((l) => l.slice(0, 400))
            .join("\n")}`,
      )
      .join("\n");
  }
}

const crashed = new WeakSet<Service>();
