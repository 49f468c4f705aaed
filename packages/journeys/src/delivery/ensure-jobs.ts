import type { Queue } from "bullmq";
import type { RedisClient } from "../queue/connection.ts";
import { enqueueDelay, enqueueOutbox, type Queues } from "../queue/dispatcher.ts";
import { dueAtFromScore } from "../queue/due-waker.ts";
import { delayJobId, outboxJobId } from "../queue/names.ts";

/**
 * Make sure a pending row has a job that will run it: what the sweeper does for each row. Adding a
 * job whose id exists is a no-op, so only a missing or finished job is (re)added — a finished job
 * with a still-pending row means the job gave up (e.g. Postgres was down for all its attempts) and
 * still blocks its id. Rows, not job ids, guard against double work: every job claims its row.
 */
export type EnsureResult = "present" | "added" | "readded" | "promoted" | "rescheduled";

/** Due later than this after scheduled_for is late enough to move the job. */
const LATE_TOLERANCE_MS = 1000;

export async function ensureDelayJob(
  queues: Queues,
  redis: RedisClient,
  row: { id: string; scheduledFor: Date },
  now: Date,
): Promise<EnsureResult> {
  const jobId = delayJobId(row.id);
  const job = await queues.delays.getJob(jobId);
  if (!job) {
    await enqueueDelay(queues, row.id, row.scheduledFor);
    return "added";
  }
  const state = await job.getState();
  if (state === "completed" || state === "failed" || state === "unknown") {
    await job.remove().catch(() => undefined); // "unknown": it finished and went between our two reads
    await enqueueDelay(queues, row.id, row.scheduledFor);
    return "readded";
  }
  if (state !== "delayed") return "present"; // waiting or active: it runs soon or now
  // Moving a job that left the delayed set meanwhile throws; it is then running, which is the point.
  if (row.scheduledFor.getTime() <= now.getTime()) {
    // Due (e.g. an operator set scheduled_for = now()) but still waiting in Redis.
    return (await succeeds(job.promote())) ? "promoted" : "present";
  }
  const dueAt = await delayedDueAt(queues.delays, redis, jobId);
  if (dueAt !== null && dueAt > row.scheduledFor.getTime() + LATE_TOLERANCE_MS) {
    return (await succeeds(job.changeDelay(row.scheduledFor.getTime() - now.getTime()))) ? "rescheduled" : "present";
  }
  return "present";
}

/** Delayed-set scores read per ZMSCORE: one round trip for a sweep's rows, in bounded replies. */
const SCORES_PER_CALL = 500;

/**
 * The rows, not yet due, whose delay job waits in the delayed set to run on time (no later than
 * LATE_TOLERANCE_MS after scheduled_for): for them ensureDelayJob would only say "present". One
 * ZMSCORE per 500 rows instead of three reads per row, so a sweep over many upcoming delays does
 * not hold up the worker's own fires.
 */
export async function delayJobsOnTime(
  queues: Queues,
  redis: RedisClient,
  rows: { id: string; scheduledFor: Date }[],
  now: Date,
): Promise<Set<string>> {
  const onTime = new Set<string>();
  const upcoming = rows.filter((r) => r.scheduledFor.getTime() > now.getTime());
  const key = queues.delays.toKey("delayed");
  for (let i = 0; i < upcoming.length; i += SCORES_PER_CALL) {
    const chunk = upcoming.slice(i, i + SCORES_PER_CALL);
    const scores = await redis.zmscore(key, ...chunk.map((r) => delayJobId(r.id)));
    chunk.forEach((row, j) => {
      const score = scores[j];
      if (score != null && dueAtFromScore(score) <= row.scheduledFor.getTime() + LATE_TOLERANCE_MS) onTime.add(row.id);
    });
  }
  return onTime;
}

export async function ensureOutboxJob(queues: Queues, row: { id: number; botId: string }): Promise<EnsureResult> {
  const job = await queues.outbox.getJob(outboxJobId(row.id));
  if (!job) {
    await enqueueOutbox(queues, row);
    return "added";
  }
  const state = await job.getState();
  if (state === "completed" || state === "failed" || state === "unknown") {
    await job.remove().catch(() => undefined);
    await enqueueOutbox(queues, row);
    return "readded";
  }
  return "present"; // waiting, active, or delayed for a retry
}

const succeeds = (p: Promise<unknown>) =>
  p.then(
    () => true,
    () => false,
  );

/** When a delayed job will run: BullMQ scores the delayed set with timestamp × 4096 (+ a sequence). */
async function delayedDueAt(queue: Queue, redis: RedisClient, jobId: string): Promise<number | null> {
  const score = await redis.zscore(queue.toKey("delayed"), jobId);
  return score === null ? null : dueAtFromScore(score);
}
