import type { Database } from "../db/client.ts";
import type { SessionStatus } from "../db/schema.ts";
import { transition } from "../engine/transition.ts";
import type { Logger } from "../logger.ts";
import { type Dispatcher, emptyEffects } from "../queue/effects.ts";
import { SystemRepo, stateOf, TenantRepository } from "../repo/index.ts";
import { withRetry } from "../retry.ts";
import { logTransition } from "../transition-log.ts";

export interface FireDeps {
  db: Database;
  encryptionKey: Buffer;
  /** Enqueues the outbox rows (and any next delay) the resumed session wrote, after commit. */
  dispatcher: Dispatcher;
  log: Logger;
  now?: () => Date;
}

export type FireOutcome =
  | { outcome: "fired"; sessionId: string; sessionStatus: SessionStatus }
  | { outcome: "early"; scheduledFor: Date }
  | { outcome: "skipped"; reason: "not_found" | "locked" | "not_pending" | "session_not_waiting" };

/**
 * Fire one delay row: the row becomes the engine's `delay_fired` event. In one transaction: claim
 * the row (FOR UPDATE SKIP LOCKED — a row another worker holds is that worker's to fire), lock its
 * session, and apply what transition() decides (too early: nothing, the job waits again; no longer
 * pending: nothing; the session no longer waiting on it: the row fails; else the row is sent and the
 * session runs on, writing outbox rows). After commit the new rows are handed to the dispatcher.
 * The claim is the guard: a sweeper re-adding the job or a duplicate job can never fire it twice.
 */
export async function fireScheduledMessage(deps: FireDeps, id: string): Promise<FireOutcome> {
  const found = await new SystemRepo(deps.db).scheduledMessageTenant(id);
  if (!found) return { outcome: "skipped", reason: "not_found" };
  const log = deps.log.child({ tenant_id: found.tenantId });
  const base = new TenantRepository(deps.db, found.tenantId, deps.encryptionKey);

  let effects = emptyEffects();
  let logLines = () => {};
  const result = await withRetry(
    () =>
      base.transaction(async (repo): Promise<FireOutcome> => {
        effects = emptyEffects();
        logLines = () => {};
        const row = await repo.scheduled.get(id, { forUpdate: "skipLocked" });
        if (!row) return { outcome: "skipped", reason: "locked" };
        const read = await repo.sessions.lock(row.sessionId);
        if (!read) return { outcome: "skipped", reason: "not_found" };
        const journey = await repo.sessions.journeyOf(read);
        const now = deps.now?.() ?? new Date();
        const event = { type: "delay_fired", delay: row } as const;
        const decided = transition(journey, stateOf(read), event, { now, random: Math.random });
        switch (decided.outcome) {
          case "early":
            return { outcome: "early", scheduledFor: row.scheduledFor };
          case "not_pending":
            return { outcome: "skipped", reason: "not_pending" };
        }
        const applied = await repo.sessions.apply(decided, { botId: read.botId });
        if (!applied.applied) throw new Error(`delay ${id}: its session's write did not apply`);
        effects = applied.effects;
        const sessionLog = log.child({ session_id: read.id, scheduled_message_id: row.id });
        logLines = () => logTransition(sessionLog, decided, { journeyId: read.journeyId, ...applied });
        if (decided.outcome !== "resumed") return { outcome: "skipped", reason: "session_not_waiting" };
        const after = decided.changes.at(-1)?.session.status ?? read.status;
        return { outcome: "fired", sessionId: read.id, sessionStatus: after };
      }),
    { log },
  );

  logLines();
  if (result.outcome === "early") {
    log.info(
      { scheduled_message_id: id, scheduled_for: result.scheduledFor.toISOString() },
      "delay job ran early: put back to wait",
    );
  } else if (result.outcome === "skipped") {
    log.debug({ scheduled_message_id: id, reason: result.reason }, "delay job skipped");
  }
  await deps.dispatcher.dispatch(effects);
  return result;
}
