import { columnsOf, prepared, runPrepared } from "../db/prepared.ts";
import { journeyScheduledMessages } from "../db/schema.ts";
import { isUuid, type Scope } from "./scope.ts";

export type ScheduledMessage = typeof journeyScheduledMessages.$inferSelect;

const getScheduledSql = `SELECT ${columnsOf(journeyScheduledMessages)} FROM journey_scheduled_messages
  WHERE tenant_id = $1 AND id = $2::uuid`;
const GET_SCHEDULED = {
  none: prepared("scheduled_get", getScheduledSql),
  wait: prepared("scheduled_get_locked", `${getScheduledSql} FOR UPDATE`),
  skipLocked: prepared("scheduled_get_skip_locked", `${getScheduledSql} FOR UPDATE SKIP LOCKED`),
};

/**
 * Delay rows of one tenant. They are written by the applier (a transition schedules, fires and
 * cancels them); this reads one, optionally claiming it: a fired delay holds its row
 * `FOR UPDATE SKIP LOCKED` — a row another worker holds is that worker's to fire.
 */
export class ScheduledRepo {
  constructor(private readonly s: Scope) {}

  async get(id: string, opts: { forUpdate?: "wait" | "skipLocked" } = {}): Promise<ScheduledMessage | null> {
    if (!isUuid(id)) return null;
    const [row] = await runPrepared<ScheduledMessage>(this.s.db, GET_SCHEDULED[opts.forUpdate ?? "none"], [
      this.s.tenantId,
      id,
    ]);
    return row ?? null;
  }
}
