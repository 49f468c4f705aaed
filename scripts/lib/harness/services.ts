/**
 * A scratch stack's API and worker processes (`tsx apps/api/src/main.ts`, `tsx apps/worker/src/main.ts`,
 * with the heap budget production runs them with): started and awaited, stopped gracefully, crashed on
 * purpose, and each one remembered so a death nobody caused is noticed.
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { QUEUES } from "../../../packages/journeys/src/queue/names.ts";
import { ENTRY, killAllNow, type Proc, startProc } from "../procs.ts";

/** An error no waiting can cure (a process under test died): ends waits and redeliveries at once. */
export class Fatal extends Error {}

export interface ServiceOptions {
  verbose?: boolean;
  apiEnv?: Record<string, string>;
  workerEnv?: Record<string, string>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const tail = (proc: Proc, lines: number) => proc.lines.slice(-lines).join("\n");

export class Services {
  apiUrl = "";
  /** The Redis the services use (the worker may be pointed at another one for a run). */
  redisUrl = "";
  api: Proc | undefined;
  /** The running worker; undefined once stopped. */
  worker: Proc | undefined;
  /** Every API and worker process started, in order. */
  readonly history: Proc[] = [];
  /** Both services' environment, set by the stack before the first start. */
  protected env: Record<string, string> = {};
  /** Processes told to stop or crashed on purpose: their exit is no failure. */
  private readonly stopped = new WeakSet<Proc>();
  private readonly others: Proc[] = [];
  /** Overrides for the worker's environment, kept for its restarts. */
  private workerOverrides: Record<string, string> = {};
  private workerRedisUrl = "";

  constructor(
    readonly prefix: string,
    readonly jwtSecret: string,
    private readonly serviceOptions: ServiceOptions,
  ) {}

  /** The services' environment (for the product's CLIs run against the stack). */
  get serviceEnv(): Readonly<Record<string, string>> {
    return this.env;
  }

  /** Start the API; with `wait`, until /health/ready answers 200 (it migrates first). */
  async startApi(wait = true): Promise<Proc> {
    if (this.api?.alive()) throw new Error("an API process is already running");
    this.api = this.spawn("api", ENTRY.api, { ...this.env, ...this.serviceOptions.apiEnv });
    if (wait) await this.waitApiReady(60_000);
    return this.api;
  }

  async waitApiReady(timeoutMs: number): Promise<void> {
    const api = this.api!;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (!api.alive()) throw new Error(`the API exited during start-up:\n${tail(api, 30)}`);
      try {
        const res = await fetch(`${this.apiUrl}/health/ready`, { signal: AbortSignal.timeout(2000) });
        await res.arrayBuffer();
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`the API was not ready within ${timeoutMs} ms`);
      await sleep(100);
    }
  }

  /**
   * Start a worker — `env` on top of the stack's, kept for later restarts; `redisUrl` for this
   * start only — and with `wait`, until it consumes every queue.
   */
  async startWorker(opts: { wait?: boolean; env?: Record<string, string>; redisUrl?: string } = {}): Promise<Proc> {
    if (this.worker?.alive()) throw new Error("a worker process is already running");
    this.workerOverrides = { ...this.workerOverrides, ...opts.env };
    this.workerRedisUrl = opts.redisUrl ?? this.redisUrl;
    const env = { ...this.env, ...this.serviceOptions.workerEnv, ...this.workerOverrides };
    this.worker = this.spawn("worker", ENTRY.worker, { ...env, REDIS_URL: this.workerRedisUrl });
    if (opts.wait !== false) await this.waitWorkerReady(60_000);
    return this.worker;
  }

  /** Until the running worker has a consumer on every queue (its log level may hide "worker ready"). */
  async waitWorkerReady(timeoutMs: number): Promise<void> {
    const worker = this.worker!;
    const connection = new Redis(this.workerRedisUrl, { maxRetriesPerRequest: 1 });
    connection.on("error", () => undefined); // a Redis down answers "not yet"
    const queues = Object.values(QUEUES).map((name) => new Queue(name, { connection, prefix: this.prefix }));
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        if (!worker.alive()) throw new Error(`the worker exited during start-up:\n${tail(worker, 30)}`);
        const counts = await Promise.all(queues.map((q) => q.getWorkersCount())).catch(() => [0]);
        if (counts.every((n) => n > 0)) return;
        if (Date.now() > deadline) throw new Error(`the worker was not ready within ${timeoutMs} ms`);
        await sleep(100);
      }
    } finally {
      await Promise.allSettled(queues.map((q) => q.close()));
      connection.disconnect();
    }
  }

  /** Stop the worker: SIGTERM, SIGKILL after `timeoutMs`. */
  async stopWorker(timeoutMs = 25_000): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.stopped.add(worker);
    this.worker = undefined;
    await worker.stop(timeoutMs);
  }

  /** Replace the running worker with one started with `env` on top of the stack's. */
  async restartWorker(env: Record<string, string>): Promise<Proc> {
    await this.stopWorker();
    return this.startWorker({ env });
  }

  /** SIGKILL on purpose (recorded, so it is no unexpected exit). */
  async crash(proc: Proc): Promise<void> {
    this.stopped.add(proc);
    await proc.crash();
  }

  /** Throw a Fatal when a named service has died without being told to: no wait can help. */
  requireAlive(...names: ("api" | "worker")[]): void {
    for (const name of names) {
      const p = this[name];
      if (p && !p.alive() && !this.stopped.has(p)) {
        throw new Fatal(`the ${name} process (pid ${p.pid}) died:\n${tail(p, 8).slice(0, 2000)}`);
      }
    }
  }

  /** Processes that died without being told to (a crash the tool did not cause). */
  unexpectedExits(): Proc[] {
    return this.history.filter((p) => !p.alive() && !this.stopped.has(p));
  }

  /** Another child process (a load driver, a ceiling server) that tearDown stops if still running. */
  track(proc: Proc): Proc {
    this.others.push(proc);
    return proc;
  }

  /** The last log lines of the latest processes, for a failure report. */
  logTail(lines = 12): string {
    return this.history
      .filter((p) => p.lines.length > 0)
      .slice(-4)
      .map(
        (p) =>
          `---- ${p.name} pid ${p.pid} ----\n${p.lines
            .slice(-lines)
            .map((l) => l.slice(0, 400))
            .join("\n")}`,
      )
      .join("\n");
  }

  protected async stopAll(): Promise<void> {
    for (const p of this.history) this.stopped.add(p);
    await Promise.allSettled([...this.others.map((p) => p.stop(5000)), ...this.history.map((p) => p.stop(10_000))]);
  }

  protected killNow(): void {
    killAllNow();
  }

  private spawn(name: "api" | "worker", entry: string, env: Record<string, string>): Proc {
    const proc = startProc(name, entry, { env, quiet: !this.serviceOptions.verbose });
    this.history.push(proc);
    return proc;
  }
}
