import { JOBS, type Logger } from "@journeys/core";
import type { Queue } from "bullmq";

export const SWEEP_SCHEDULER_ID = "sweeper";

/**
 * The sweep is a BullMQ job scheduler on the maintenance queue, so N workers sweep once per
 * interval between them, not N times. Redis can lose it (flush, failover without persistence):
 * every health check makes sure it exists, runs at this interval, and its next run is not overdue.
 */
export async function ensureSweepSchedule(queue: Queue, everyMs: number, log: Logger): Promise<void> {
  const existing = await queue.getJobScheduler(SWEEP_SCHEDULER_ID);
  const overdue = existing?.next !== undefined && Number(existing.next) < Date.now() - 3 * everyMs;
  if (existing && Number(existing.every) === everyMs && !overdue) return;
  await queue.upsertJobScheduler(
    SWEEP_SCHEDULER_ID,
    { every: everyMs },
    { name: JOBS.sweep, data: {}, opts: { removeOnComplete: true, removeOnFail: 100 } },
  );
  log.info(
    { every_ms: everyMs, reason: !existing ? "missing" : overdue ? "overdue" : "interval changed" },
    "sweep schedule set",
  );
}
