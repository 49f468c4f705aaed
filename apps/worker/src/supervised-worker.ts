import {
  type Logger,
  type QueueName,
  type RedisClient,
  type RedisTarget,
  scrubToken,
  workerConnection,
} from "@journeys/core";
import { type Job, Worker } from "bullmq";
import { watchRedis } from "./redis-watch.ts";
import type { QueueSettings } from "./settings.ts";

type Handler = (job: Job, token?: string) => Promise<unknown>;

interface Instance {
  worker: Worker;
  connection: RedisClient;
  watch: ReturnType<typeof watchRedis>;
}

const PING_TIMEOUT_MS = 2000;

/**
 * One BullMQ Worker for one queue, kept alive. A Worker can come out of a Redis outage without
 * taking jobs again (its blocking connection stuck, or its main loop ended), so `check()` — run
 * by the health timer — pings Redis, and after an outage has ended, or when the Worker is no
 * longer running, replaces it with a fresh one on a fresh connection (the old one is closed in
 * the background). Rows in Postgres make a replaced worker's half-done jobs safe to run again.
 */
export class SupervisedWorker {
  private current: Instance;
  private closing = false;
  /** Replaced workers still finishing their active jobs. */
  private readonly retiring = new Set<Promise<void>>();

  constructor(
    private readonly queue: QueueName,
    private readonly opts: {
      redis: RedisTarget;
      prefix: string;
      settings: QueueSettings;
      handler: Handler;
      log: Logger;
      closeTimeoutMs: number;
    },
  ) {
    this.current = this.start();
  }

  private get log() {
    return this.opts.log;
  }

  private start(): Instance {
    const { settings, prefix } = this.opts;
    const connection = workerConnection(this.opts.redis);
    const watch = watchRedis(connection, this.log);
    const worker = new Worker(this.queue, this.opts.handler, {
      connection,
      prefix,
      concurrency: settings.concurrency,
      lockDuration: settings.lockDuration,
      stalledInterval: settings.stalledInterval,
      maxStalledCount: 2,
    });
    worker.on("error", (err) => {
      // During an outage BullMQ reports every failed reconnect; watchRedis has said it once.
      if (watch.isDown()) this.log.debug({ err: scrubToken(err.message) }, "worker error while redis is down");
      else this.log.warn({ err: scrubToken(err.message) }, "worker error");
    });
    worker.on("failed", (job, err) => {
      const final = !job || err.name === "UnrecoverableError" || job.attemptsMade >= (job.opts.attempts ?? 1);
      if (!final && err.name === "RetryLaterError") return; // the domain logged the retry with its row
      this.log.warn(
        { job_id: job?.id, job_name: job?.name, attempts_made: job?.attemptsMade, final, err: scrubToken(err.message) },
        final ? "job failed for good" : "job failed; BullMQ retries it with backoff",
      );
    });
    return { worker, connection, watch };
  }

  waitUntilReady(): Promise<void> {
    return this.current.worker.waitUntilReady();
  }

  /** Health check: replace the Worker after a Redis outage or when it stopped running. */
  async check(): Promise<void> {
    if (this.closing) return;
    const { worker, connection, watch } = this.current;
    if (!(await ping(connection))) return; // still down: watchRedis has logged it
    if (this.closing) return;
    const reason = watch.takeOutage() ? "redis came back after an outage" : worker.isRunning() ? null : "not running";
    if (!reason) return;
    this.log.warn({ reason }, "replacing the queue worker");
    const old = this.current;
    this.current = this.start();
    const retiring = this.stop(old).finally(() => this.retiring.delete(retiring));
    this.retiring.add(retiring);
  }

  /** Stop taking jobs and let active ones finish, within closeTimeoutMs. */
  async close(): Promise<void> {
    this.closing = true;
    await Promise.all([this.stop(this.current), ...this.retiring]);
  }

  /** worker.close() waits for active jobs with no limit of its own: bound it. Never throws. */
  private async stop({ worker, connection, watch }: Instance): Promise<void> {
    watch.closing();
    const outcome = await Promise.race([
      worker.close().then(
        () => "closed" as const,
        (err: Error) => {
          this.log.warn({ err: scrubToken(err.message) }, "closing the queue worker failed");
          return "failed" as const;
        },
      ),
      new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), this.opts.closeTimeoutMs).unref()),
    ]);
    if (outcome === "timeout") {
      this.log.warn({ timeout_ms: this.opts.closeTimeoutMs }, "active jobs did not finish in time; leaving them");
    }
    if (outcome !== "closed") await worker.disconnect().catch(() => undefined);
    connection.disconnect();
  }
}

async function ping(connection: RedisClient): Promise<boolean> {
  const timeout = new Promise<false>((resolve) => setTimeout(() => resolve(false), PING_TIMEOUT_MS).unref());
  const pong = connection.ping().then(
    () => true,
    () => false,
  );
  return Promise.race([pong, timeout]);
}
