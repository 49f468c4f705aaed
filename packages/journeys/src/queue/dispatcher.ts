import { Queue } from "bullmq";
import type { Logger } from "../logger.ts";
import type { Dispatcher, Effects } from "../queue/effects.ts";
import type { RedisClient } from "./connection.ts";
import { delayJobId, JOBS, outboxJobId, QUEUES } from "./names.ts";

export const DELAY_JOB_OPTS = {
  attempts: 8,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: true,
  removeOnFail: 5000,
} as const;

export const OUTBOX_JOB_OPTS = {
  attempts: 10,
  backoff: { type: "exponential", delay: 1000 },
  removeOnComplete: true,
  removeOnFail: 5000,
} as const;

export interface Queues {
  delays: Queue;
  outbox: Queue;
  /** Only the worker's repeatable sweep runs here; the API holds it for the dashboard. */
  maintenance: Queue;
  close(): Promise<void>;
}

/**
 * The product's queues on one producer connection. With a logger, each Queue's "error" is logged
 * at debug: the connection's own listener already reports an outage, and a Queue without a
 * listener would print every error to stderr once more.
 */
export function createQueues(connection: RedisClient, prefix: string, log?: Logger): Queues {
  const delays = new Queue(QUEUES.delays, { connection, prefix });
  const outbox = new Queue(QUEUES.outbox, { connection, prefix });
  const maintenance = new Queue(QUEUES.maintenance, { connection, prefix });
  if (log) {
    for (const q of [delays, outbox, maintenance]) {
      q.on("error", (err) => log.debug({ queue: q.name, err: err.message }, "queue error"));
    }
  }
  return {
    delays,
    outbox,
    maintenance,
    close: async () => {
      await Promise.allSettled([delays.close(), outbox.close(), maintenance.close()]);
    },
  };
}

export async function enqueueDelay(queues: Queues, id: string, scheduledFor: Date) {
  await queues.delays.add(
    JOBS.fireDelay,
    { scheduledMessageId: id },
    { ...DELAY_JOB_OPTS, jobId: delayJobId(id), delay: Math.max(0, scheduledFor.getTime() - Date.now()) },
  );
}

export async function enqueueOutbox(queues: Queues, row: { id: number; botId: string }) {
  await queues.outbox.add(
    JOBS.sendOutbox,
    { outboxId: row.id, botId: row.botId },
    { ...OUTBOX_JOB_OPTS, jobId: outboxJobId(row.id) },
  );
}

/**
 * Enqueue what a committed transition left to do. A failure here loses nothing — the rows are in
 * Postgres and the worker's sweeper enqueues any it finds without a job — so it is logged, not thrown.
 */
export function queueDispatcher(queues: Queues, log: Logger): Dispatcher {
  return {
    async dispatch(effects: Effects) {
      const jobs = [
        ...effects.outbox.map((row) => enqueueOutbox(queues, row)),
        ...effects.scheduled.map((s) => enqueueDelay(queues, s.id, s.scheduledFor)),
      ];
      const results = await Promise.allSettled(jobs);
      const failed = results.filter((r) => r.status === "rejected");
      if (failed.length > 0) {
        log.warn(
          { failed: failed.length, of: results.length, err: (failed[0] as PromiseRejectedResult).reason?.message },
          "could not enqueue jobs; the sweeper will pick the rows up",
        );
      }
    },
  };
}
