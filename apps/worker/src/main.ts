/**
 * The worker process (`npm run start:worker`): fires delays, sends outbox messages, sweeps. Stateless;
 * run as many as needed — they share the queues, and Postgres rows decide who does what.
 */
import { createLogger, loadConfigOrExit, QUEUES, scrubToken, sendNowDispatcher, startDueWaker } from "@journeys/core";
import closeWithGrace from "close-with-grace";
import { createWorkerDeps } from "./deps.ts";
import { fireDelayProcessor } from "./processors/fire-delay.ts";
import { createRegistry } from "./processors/registry.ts";
import { sendOutboxProcessor } from "./processors/send-outbox.ts";
import { sweepProcessor } from "./processors/sweep.ts";
import { healthIntervalMs, QUEUE_SETTINGS, SHUTDOWN_GRACE_MS, WORKER_CLOSE_TIMEOUT_MS } from "./settings.ts";
import { SupervisedWorker } from "./supervised-worker.ts";
import { ensureSweepSchedule } from "./sweep-schedule.ts";

const config = loadConfigOrExit(process.env, { requireJwtSecret: false });
const log = createLogger(config.logLevel, "worker");
const deps = createWorkerDeps(config, log);
const { db, queues, dispatcher, bots, redis } = deps;
const encryptionKey = config.botTokenEncryptionKey;

let registry: ReturnType<typeof createRegistry>;
try {
  const send = { db: db.db, encryptionKey, bots, log };
  registry = createRegistry([
    // A fired delay sends what it wrote itself; the outbox job is its fallback.
    fireDelayProcessor({ db: db.db, encryptionKey, dispatcher: sendNowDispatcher(send, dispatcher), log }),
    sendOutboxProcessor(send),
    sweepProcessor({ db: db.db, queues, redis, log, intervalMs: config.sweepIntervalMs }),
  ]);
} catch (err) {
  log.fatal({ err: (err as Error).message }, "cannot start");
  await deps.close();
  process.exit(1);
}

const workers = Object.values(QUEUES).map(
  (queue) =>
    new SupervisedWorker(queue, {
      redis: config,
      prefix: config.queuePrefix,
      settings: QUEUE_SETTINGS[queue],
      handler: registry.handlerFor(queue, log.child({ queue })),
      log: log.child({ queue }),
      closeTimeoutMs: WORKER_CLOSE_TIMEOUT_MS,
    }),
);

async function ensureSchedule() {
  try {
    await ensureSweepSchedule(queues.maintenance, config.sweepIntervalMs, log);
  } catch (err) {
    log.warn({ err: (err as Error).message }, "cannot set the sweep schedule yet; retrying at the next health check");
  }
}

let checking = false;
const health = setInterval(async () => {
  if (checking) return;
  checking = true;
  try {
    for (const w of workers) await w.check();
    await ensureSchedule();
  } catch (err) {
    log.warn({ err: (err as Error).message }, "health check failed");
  } finally {
    checking = false;
  }
}, healthIntervalMs(config.sweepIntervalMs));

// Ends the workers' blocking waits when a delayed job falls due, whatever the Redis `hz` setting.
const waker = startDueWaker([queues.delays, queues.outbox], redis, log.child({ component: "due-waker" }));

closeWithGrace(
  { delay: SHUTDOWN_GRACE_MS, logger: { error: (msg: unknown) => log.error({ detail: String(msg) }, "shutdown") } },
  async ({ signal, err }) => {
    if (err) log.error({ err: scrubToken(err.message) }, "shutting down after an error");
    else log.info({ signal }, "shutting down: no new jobs, finishing active ones");
    clearInterval(health);
    waker.stop();
    await Promise.all(workers.map((w) => w.close()));
    await deps.close();
    log.info("worker stopped");
  },
);

await Promise.all(workers.map((w) => w.waitUntilReady()));
await ensureSchedule();
log.info(
  {
    queues: Object.values(QUEUES),
    concurrency: Object.fromEntries(Object.entries(QUEUE_SETTINGS).map(([q, s]) => [q, s.concurrency])),
    sweep_interval_ms: config.sweepIntervalMs,
  },
  "worker ready",
);
