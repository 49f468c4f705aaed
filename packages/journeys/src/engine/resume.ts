import type { ScheduledMessage, Session, Step } from "../repo/index.ts";
import type { EngineContext } from "./context.ts";
import { runFrom } from "./run.ts";

export type ResumeOutcome =
  | { outcome: "resumed"; session: Session }
  | { outcome: "skipped"; reason: "not_pending" | "not_due" | "session_not_waiting" };

/**
 * Fire a delay row: the caller has claimed it (`SELECT … FOR UPDATE SKIP LOCKED` in this
 * transaction). The session becomes active and runs on from the step after the delay; the row is
 * marked sent in the same transaction, so a resume happens exactly once. `session` is the row's
 * session, which the caller has read `FOR UPDATE` in this transaction; `steps`, when the caller
 * read them with that lock, are the session's current step and the one after it.
 */
export async function resumeAfterDelay(
  ctx: EngineContext,
  row: ScheduledMessage,
  session: Session,
  steps?: { step: Step | null; next: Step | null },
): Promise<ResumeOutcome> {
  if (row.status !== "pending") return { outcome: "skipped", reason: "not_pending" };
  const log = ctx.log.child({ session_id: row.sessionId, scheduled_message_id: row.id });
  if (session.status !== "waiting_delay" || session.currentStepId !== row.stepId) {
    await ctx.repo.sessions.markScheduledFailed(row.id, `session is ${session.status}, not waiting on this delay`);
    log.warn({ session_status: session.status }, "delay fired for a session no longer waiting on it");
    return { outcome: "skipped", reason: "session_not_waiting" };
  }
  // The step after the delay (the session stands on the delay step: checked above).
  const { next } = steps?.step?.id === row.stepId ? steps : await ctx.repo.stepAndNext(row.stepId);
  const lateMs = Date.now() - row.scheduledFor.getTime();
  const active = await ctx.repo.sessions.resumeFromDelay(session.id, row.id);
  log.info({ journey_id: session.journeyId, late_ms: lateMs }, "delay fired: session resumed");
  return { outcome: "resumed", session: await runFrom(ctx, active, next) };
}
