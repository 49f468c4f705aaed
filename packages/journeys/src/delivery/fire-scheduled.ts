import type { Database } from "../db/client.ts";
import type { SessionStatus } from "../db/schema.ts";
import { type Dispatcher, type EngineContext, emptyEffects } from "../engine/context.ts";
import { resumeAfterDelay } from "../engine/resume.ts";
import type { Logger } from "../logger.ts";
import { SystemRepo, TenantRepository } from "../repo/index.ts";
import { withRetry } from "../retry.ts";

export interface FireDeps {
  db: Database;
  encryptionKey: Buffer;
  /** Enqueues the outbox rows (and any next delay) the resumed session wrote, after commit. */
  dispatcher: Dispatcher;
  log: Logger;
  now?: () => Date;
}

/**
 * A job that runs more than this before its row's scheduled_for is early — the enqueuing host's
 * clock differs, or an operator moved the row later — and is put back to wait, not fired.
 */
export const EARLY_TOLERANCE_MS = 1000;

export type FireOutcome =
  | { outcome: "fired"; sessionId: string; sessionStatus: SessionStatus }
  | { outcome: "early"; scheduledFor: Date }
  | { outcome: "skipped"; reason: "not_found" | "locked" | "not_pending" | "session_not_waiting" };

/**
 * Fire one delay row. In one transaction: claim the row (FOR UPDATE SKIP LOCKED — a row another
 * worker holds is that worker's to fire), skip it unless pending, re-delay it when early, else
 * resume the session (row marked sent, session active, runs on to its next blocking step or
 * completion, writing outbox rows). After commit the new rows are handed to the dispatcher.
 * The claim is the guard: a sweeper re-adding the job or a duplicate job can never fire it twice.
 */
export async function fireScheduledMessage(deps: FireDeps, id: string): Promise<FireOutcome> {
  const found = await new SystemRepo(deps.db).scheduledMessageTenant(id);
  if (!found) return { outcome: "skipped", reason: "not_found" };
  const log = deps.log.child({ tenant_id: found.tenantId });
  const base = new TenantRepository(deps.db, found.tenantId, deps.encryptionKey);

  let effects = emptyEffects();
  const result = await withRetry(
    () =>
      base.transaction(async (repo): Promise<FireOutcome> => {
        effects = emptyEffects();
        const row = await repo.sessions.getScheduled(id, { forUpdate: "skipLocked" });
        if (!row) return { outcome: "skipped", reason: "locked" };
        if (row.status !== "pending") return { outcome: "skipped", reason: "not_pending" };
        const now = deps.now?.() ?? new Date();
        if (row.scheduledFor.getTime() - now.getTime() > EARLY_TOLERANCE_MS) {
          return { outcome: "early", scheduledFor: row.scheduledFor };
        }
        // Lock the session here, once (resumeAfterDelay takes it as locked), with the bot id and
        // the session's step and the step after it joined in.
        const { session, botId, step, next } = await repo.sessions.getLockedWithBot(row.sessionId);
        const ctx: EngineContext = { repo, botId, log, effects };
        const resumed = await resumeAfterDelay(ctx, row, session, { step, next });
        if (resumed.outcome === "skipped") return { outcome: "skipped", reason: "session_not_waiting" };
        return { outcome: "fired", sessionId: resumed.session.id, sessionStatus: resumed.session.status };
      }),
    { log },
  );

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
