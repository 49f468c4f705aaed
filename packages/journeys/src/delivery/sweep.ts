import type { Database } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import type { RedisClient } from "../queue/connection.ts";
import type { Queues } from "../queue/dispatcher.ts";
import { pruneProcessedUpdates, SystemRepo } from "../repo/index.ts";
import { delayJobsOnTime, type EnsureResult, ensureDelayJob, ensureOutboxJob } from "./ensure-jobs.ts";

export interface SweepDeps {
  db: Database;
  queues: Queues;
  /** The connection the queues use (for reading a delayed job's due time). */
  redis: RedisClient;
  log: Logger;
  /** The sweep period: rows due before the next sweep get their job now. */
  intervalMs: number;
  now?: () => Date;
}

/** An outbox row still pending this long after it was written has lost its job, or is retrying. */
export const STALE_OUTBOX_MS = 5000;
/** Rows per sweep and kind; the rest wait for the next sweep. */
const BATCH = 1000;
/** Redis round trips in flight at once. */
const PARALLEL = 20;
/** Telegram re-delivers an update for 24 h; forget processed ids well after that. */
const PROCESSED_UPDATES_HOURS = 72;

export interface SweepReport {
  delays: Partial<Record<EnsureResult, number>>;
  outbox: Partial<Record<EnsureResult, number>>;
  errors: number;
  prunedUpdates: number;
}

/**
 * One sweep: Postgres is the truth, Redis may have lost anything. Every pending delay row due
 * before the next sweep gets its delayed job (added, re-added, or promoted when due and still
 * waiting in Redis); every stale pending outbox row gets its send job; old processed update ids
 * are pruned. Safe to race with the jobs themselves: they claim rows, so nothing runs twice.
 */
export async function sweep(deps: SweepDeps): Promise<SweepReport> {
  const now = deps.now?.() ?? new Date();
  const system = new SystemRepo(deps.db);
  const report: SweepReport = { delays: {}, outbox: {}, errors: 0, prunedUpdates: 0 };

  const due = await system.pendingScheduledBefore(new Date(now.getTime() + deps.intervalMs), BATCH);
  // Most upcoming rows have their job waiting on time: checked in bulk, the rest one by one.
  const onTime = await delayJobsOnTime(deps.queues, deps.redis, due, now);
  if (onTime.size > 0) report.delays.present = onTime.size;
  await inBatches(
    due.filter((row) => !onTime.has(row.id)),
    async (row) => {
      const log = deps.log.child({ tenant_id: row.tenantId, scheduled_message_id: row.id });
      try {
        const r = await ensureDelayJob(deps.queues, deps.redis, row, now);
        report.delays[r] = (report.delays[r] ?? 0) + 1;
        if (r !== "present")
          log.info({ action: r, scheduled_for: row.scheduledFor.toISOString() }, "sweeper: delay job");
      } catch (err) {
        report.errors++;
        log.warn({ err: (err as Error).message }, "sweeper: could not ensure the delay job");
      }
    },
  );

  const stale = await system.stalePendingOutbox(new Date(now.getTime() - STALE_OUTBOX_MS), BATCH);
  await inBatches(stale, async (row) => {
    const log = deps.log.child({ tenant_id: row.tenantId, outbox_id: row.id });
    try {
      const r = await ensureOutboxJob(deps.queues, row);
      report.outbox[r] = (report.outbox[r] ?? 0) + 1;
      if (r !== "present") log.info({ action: r }, "sweeper: send job");
    } catch (err) {
      report.errors++;
      log.warn({ err: (err as Error).message }, "sweeper: could not ensure the send job");
    }
  });

  report.prunedUpdates = await pruneProcessedUpdates(deps.db, PROCESSED_UPDATES_HOURS);
  const acted = (r: Partial<Record<EnsureResult, number>>) =>
    Object.entries(r).some(([k, n]) => k !== "present" && (n ?? 0) > 0);
  const line = { delays: report.delays, outbox: report.outbox, errors: report.errors, pruned: report.prunedUpdates };
  if (acted(report.delays) || acted(report.outbox) || report.errors || report.prunedUpdates) {
    deps.log.info(line, "sweep done");
  } else deps.log.debug(line, "sweep done");
  return report;
}

async function inBatches<T>(rows: T[], fn: (row: T) => Promise<void>) {
  for (let i = 0; i < rows.length; i += PARALLEL) await Promise.all(rows.slice(i, i + PARALLEL).map(fn));
}
