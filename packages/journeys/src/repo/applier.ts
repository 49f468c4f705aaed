/**
 * The one applier: persists what transition() decided, and decides nothing itself. Called two ways —
 * inside the locking transaction (the session rows locked FOR UPDATE; `version` null), and on the
 * lock-free fast path (`version` as read, the update recorded with it). See repo/hot-sql.ts.
 */

import { sealItems } from "../callback-seal.ts";
import type { Executor } from "../db/client.ts";
import { runNamed } from "../db/named.ts";
import type { journeyUserSessions, ReEntryPolicy } from "../db/schema.ts";
import type { JourneyDef, OutItem, SessionContext, SessionState, TransitionResult } from "../engine/types.ts";
import { notFound } from "../errors.ts";
import type { Effects } from "../queue/effects.ts";
import { APPLY_INSERT, APPLY_UPDATE, INSERT_CHAT_REPLIES, MARK_FIRED, type WriteParts } from "./hot-sql.ts";
import { stepsCache } from "./journey-defs.ts";

type Session = typeof journeyUserSessions.$inferSelect;

/** A session row as the hot reads return it: with its version and what the engine needs of its journey. */
export type SessionRead = Session & {
  version: string;
  stepsVersion: number;
  reEntryPolicy: ReEntryPolicy;
  botId: string;
};

export function stateOf(row: Session): SessionState {
  return {
    id: row.id,
    journeyId: row.journeyId,
    telegramUserId: row.telegramUserId,
    telegramChatId: row.telegramChatId,
    status: row.status,
    currentStepId: row.currentStepId,
    answers: row.answers ?? {},
    startedAt: row.startedAt,
    completedAt: row.completedAt,
    lastActivityAt: row.lastActivityAt,
    stepEnteredAt: row.stepEnteredAt,
    context: (row.context ?? {}) as SessionContext,
  };
}

/** A journey as the engine sees it, its steps from the per-process cache (current at `stepsVersion`). */
export async function journeyOf(
  db: Executor,
  tenantId: string,
  journey: { id: string; reEntryPolicy: ReEntryPolicy; stepsVersion: number },
): Promise<JourneyDef> {
  const steps = await stepsCache.get(db, tenantId, journey.id, journey.stepsVersion);
  return { id: journey.id, reEntryPolicy: journey.reEntryPolicy, steps };
}

export interface ApplyOptions {
  tenantId: string;
  botId: string;
  /** The bot's key for sealing choice buttons' callback_data (callback-seal.ts). */
  sealKey: Buffer;
  /** Lock-free path: the session's row version as read; the write applies only while it is unchanged. */
  version?: string | null;
  /** Lock-free path: the Telegram update to record with the write. */
  updateId?: number | null;
}

export type ApplyOutcome =
  | { applied: true; effects: Effects; sessionIds: string[] }
  /** A session changed since it was read (lock-free path only): nothing was written. */
  | { applied: false; reason: "stale" }
  /** A concurrent /start inserted the live session first: nothing of this change was written. */
  | { applied: false; reason: "live_session_exists" };

/**
 * Write `result` in order, one statement per session change (a fired delay's row goes with the
 * first; a result with none marks it alone). On the lock-free path a result has one change.
 */
export async function applyTransition(
  db: Executor,
  result: TransitionResult,
  opts: ApplyOptions,
): Promise<ApplyOutcome> {
  const effects: Effects = { outbox: [], scheduled: [] };
  const sessionIds: string[] = [];
  const [first] = result.changes;
  if (!first && result.firedDelay) {
    const { id, status, error } = result.firedDelay;
    await runNamed(db, MARK_FIRED, {
      tenant_id: opts.tenantId,
      fired_id: id,
      fired_status: status,
      fired_error: error,
    });
  }
  for (const change of result.changes) {
    const fired = change === first ? result.firedDelay : null;
    const parts: WriteParts = {
      claim: opts.updateId != null,
      cancel: change.cancelPending !== null,
      schedule: change.schedule.length > 0,
      fired: fired !== null,
    };
    const common = {
      tenant_id: opts.tenantId,
      bot_id: opts.botId,
      update_id: opts.updateId ?? null,
      cancel_reason: change.cancelPending,
      outbox: JSON.stringify(sealItems(opts.sealKey, change.session.telegramChatId, change.outbox)),
      schedule: JSON.stringify(change.schedule),
      fired_status: fired?.status ?? null,
      fired_error: fired?.error ?? null,
      fired_id: fired?.id ?? null,
      status: change.session.status,
      current_step_id: change.session.currentStepId,
      completed_at: change.session.completedAt,
      last_activity_at: change.session.lastActivityAt,
      step_entered_at: change.session.stepEnteredAt,
      context: JSON.stringify(change.session.context),
      answers_set: JSON.stringify(change.answersSet),
    };
    const [row] =
      change.kind === "insert"
        ? await runNamed<Written>(db, APPLY_INSERT(parts), {
            ...common,
            journey_id: change.session.journeyId,
            user_id: change.session.telegramUserId,
            chat_id: change.session.telegramChatId,
            started_at: change.session.startedAt,
          })
        : await runNamed<Written>(db, APPLY_UPDATE(parts), {
            ...common,
            session_id: change.session.id,
            version: opts.version ?? null,
          });
    if (!row?.sessionId) {
      if (change.kind === "insert") return { applied: false, reason: "live_session_exists" };
      if (opts.version) return { applied: false, reason: "stale" };
      throw notFound("session");
    }
    sessionIds.push(row.sessionId);
    for (const id of row.outboxIds) effects.outbox.push({ id: Number(id), botId: opts.botId });
    for (const s of row.scheduled) effects.scheduled.push({ id: s.id, scheduledFor: new Date(s.scheduledFor) });
  }
  return { applied: true, effects, sessionIds };
}

/** What the bot says outside any session, queued to the chat after whatever was applied before. */
export async function applyReplies(
  db: Executor,
  opts: { tenantId: string; botId: string; chatId: number },
  replies: readonly OutItem[],
): Promise<Effects> {
  if (replies.length === 0) return { outbox: [], scheduled: [] };
  const rows = await runNamed<{ id: number | string }>(db, INSERT_CHAT_REPLIES, {
    tenant_id: opts.tenantId,
    bot_id: opts.botId,
    chat_id: opts.chatId,
    outbox: JSON.stringify(replies),
  });
  return { outbox: rows.map((r) => ({ id: Number(r.id), botId: opts.botId })), scheduled: [] };
}

interface Written {
  sessionId: string | null;
  outboxIds: (number | string)[];
  scheduled: { id: string; scheduledFor: string }[];
}
