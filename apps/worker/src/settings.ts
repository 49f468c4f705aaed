import { QUEUES, type QueueName } from "@journeys/core";

export interface QueueSettings {
  /** Jobs one process runs at once on this queue. */
  concurrency: number;
  /**
   * A job whose worker stops renewing its lock (the process died) goes back to the queue after
   * about lockDuration + stalledInterval. Short, because a send holds it for milliseconds; the
   * lock is renewed every lockDuration / 2 while a job runs, and rows guard against doubles.
   */
  lockDuration: number;
  stalledInterval: number;
}

/**
 * One file of settings per queue would be three lines each: they live together here. Outbox jobs
 * mostly wait on Telegram's answer (a job whose bot has no free send place is rescheduled rather
 * than waiting), so many run at once: ten busy bots need about 300 sends a second. A fired delay
 * sends its own messages (sendNowDispatcher), so delay jobs wait on Telegram too.
 */
export const QUEUE_SETTINGS: Record<QueueName, QueueSettings> = {
  [QUEUES.delays]: { concurrency: 16, lockDuration: 8000, stalledInterval: 4000 },
  [QUEUES.outbox]: { concurrency: 32, lockDuration: 8000, stalledInterval: 4000 },
  [QUEUES.maintenance]: { concurrency: 1, lockDuration: 30_000, stalledInterval: 15_000 },
};

/**
 * Every in-flight job holds at most one Postgres connection at a time and never asks for a second
 * while holding it: a send holds one only for each of its statements (its row is leased, not
 * locked, through the Telegram call), a fired delay for its one transaction. Capped at 16 so that
 * several workers (and the API) stay well inside Postgres's default max_connections of 100.
 */
export const POOL_SIZE = Math.min(16, Object.values(QUEUE_SETTINGS).reduce((n, s) => n + s.concurrency, 0) + 3);

/** How long a shutdown waits for active jobs before it stops waiting. */
export const WORKER_CLOSE_TIMEOUT_MS = 10_000;
/** The whole graceful shutdown; past it the process exits anyway (close-with-grace). */
export const SHUTDOWN_GRACE_MS = 20_000;

/** Health checks (Redis reachable, workers running, sweep schedule present): every sweep, within 1–10 s. */
export const healthIntervalMs = (sweepIntervalMs: number) => Math.min(10_000, Math.max(1000, sweepIntervalMs));
