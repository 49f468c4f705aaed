import { runNamed } from "../db/named.ts";
import type { journeyScheduledMessages } from "../db/schema.ts";
import { GET_SCHEDULED } from "./hot-sql.ts";
import { isUuid, type Scope } from "./scope.ts";

export type ScheduledMessage = typeof journeyScheduledMessages.$inferSelect;

/**
 * Delay rows of one tenant. They are written by the applier (a transition schedules, fires and
 * cancels them); this reads one, optionally claiming it: a fired delay holds its row
 * `FOR UPDATE SKIP LOCKED` — a row another worker holds is that worker's to fire.
 */
export class ScheduledRepo {
  constructor(private readonly s: Scope) {}

  async get(id: string, opts: { forUpdate?: "wait" | "skipLocked" } = {}): Promise<ScheduledMessage | null> {
    if (!isUuid(id)) return null;
    const [row] = await runNamed<ScheduledMessage>(this.s.db, GET_SCHEDULED[opts.forUpdate ?? "none"], {
      tenant_id: this.s.tenantId,
      scheduled_id: id,
    });
    return row ?? null;
  }
}
