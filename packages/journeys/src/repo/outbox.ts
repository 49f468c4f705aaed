import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { columnsOf, prepared, runPrepared } from "../db/prepared.ts";
import { journeyOutbox } from "../db/schema.ts";
import type { Scope } from "./scope.ts";

export type OutboxMessage = typeof journeyOutbox.$inferSelect;

/** For an updated outbox row: does another row of its chat wait? Saves a flush one empty transaction. */
const moreInChatSql = `exists (select 1 from journey_outbox o where o.tenant_id = journey_outbox.tenant_id
  and o.bot_id = journey_outbox.bot_id and o.telegram_chat_id = journey_outbox.telegram_chat_id
  and o.status = 'pending' and o.id <> journey_outbox.id) AS more`;
const MARK_OUTBOX_SENT = prepared(
  "outbox_mark_sent",
  `UPDATE journey_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, error = NULL,
          claimed_until = NULL
    WHERE tenant_id = $1 AND id = $2 RETURNING ${moreInChatSql}`,
);
const MARK_OUTBOX_FAILED = prepared(
  "outbox_mark_failed",
  `UPDATE journey_outbox SET status = 'failed', attempts = attempts + 1, error = $3, claimed_until = NULL
    WHERE tenant_id = $1 AND id = $2 RETURNING ${moreInChatSql}`,
);

/**
 * Outbox rows of one tenant, as the sender settles them. They are written by the applier (a
 * transition queues and cancels messages); a sender leases one (OutboxLeases), sends it, marks it.
 */
export class OutboxRepo {
  constructor(private readonly s: Scope) {}

  /** Returns whether another row of the same chat is still pending (a flush stops when none is). */
  async markSent(id: number): Promise<boolean> {
    const [row] = await runPrepared<{ more: boolean }>(this.s.db, MARK_OUTBOX_SENT, [this.s.tenantId, id]);
    return row?.more ?? false;
  }

  /** Returns whether another row of the same chat is still pending, as markSent. */
  async markFailed(id: number, error: string): Promise<boolean> {
    const [row] = await runPrepared<{ more: boolean }>(this.s.db, MARK_OUTBOX_FAILED, [
      this.s.tenantId,
      id,
      error.slice(0, 2000),
    ]);
    return row?.more ?? false;
  }

  /**
   * A failed try that will be retried: the row stays pending, with the count and the last error,
   * and its lease ends (its job's retry claims it again).
   */
  async recordAttempt(id: number, error: string): Promise<void> {
    await this.s.db
      .update(journeyOutbox)
      .set({ attempts: sql`${journeyOutbox.attempts} + 1`, error: error.slice(0, 2000), claimedUntil: null })
      .where(and(eq(journeyOutbox.tenantId, this.s.tenantId), eq(journeyOutbox.id, id)));
  }
}

/**
 * One statement, no transaction: find row $1's chat and, if it is bot $3's (the bot whose send
 * place the caller holds), row-lock that chat's earliest pending row (waiting for a concurrent
 * claim or mark of it, never for a send) and lease it for $2 ms — unless another sender's lease on
 * it still runs, or it is another row's retry (`attempts` > 0: its own job sends it, on its own
 * backoff). Returns the job's row and what was found, claimed or not. The chat goes into `next` as
 * scalars, not as a join with `own`: joined, the generic plan walked every pending row of the bot.
 */
const CLAIM_OUTBOX = prepared(
  "outbox_claim",
  `WITH own AS (
     SELECT tenant_id, bot_id, telegram_chat_id, status FROM journey_outbox WHERE id = $1
   ), next AS (
     SELECT o.id, o.attempts, o.claimed_until FROM journey_outbox o
      WHERE o.bot_id = $3 AND o.status = 'pending'
        AND o.telegram_chat_id = (SELECT telegram_chat_id FROM own WHERE bot_id = $3)
        AND o.tenant_id = (SELECT tenant_id FROM own)
      ORDER BY o.id LIMIT 1 FOR UPDATE
   ), claimed AS (
     UPDATE journey_outbox m SET claimed_until = now() + make_interval(secs => $2::int / 1000.0)
       FROM next
      WHERE m.id = next.id AND (next.claimed_until IS NULL OR next.claimed_until <= now())
        AND (next.attempts = 0 OR next.id = $1)
     RETURNING ${columnsOf(journeyOutbox, "m")}
   )
   SELECT claimed.*, claimed.id IS NOT NULL AS "isClaimed",
          own.tenant_id AS "tenantId", own.bot_id AS "botId", own.telegram_chat_id AS "telegramChatId",
          own.status AS "ownStatus", next.id AS "nextId", next.attempts AS "nextAttempts",
          ceil(extract(epoch FROM next.claimed_until - now()) * 1000)::int AS "leaseLeftMs",
          (SELECT s.journey_id FROM journey_user_sessions s WHERE s.id = claimed."sessionId") AS "journeyId"
     FROM own LEFT JOIN next ON true LEFT JOIN claimed ON true`,
);

/** What `OutboxLeases.claim` found: the job's row (its tenant, bot, chat and status) and the chat's next row. */
export interface OutboxClaim {
  tenantId: string;
  botId: string;
  telegramChatId: number;
  ownStatus: OutboxMessage["status"];
  /** The chat's earliest pending row, if any. */
  nextId: number | null;
  nextAttempts: number | null;
  /** How long the lease on that row still runs (≤ 0 or null: none). */
  leaseLeftMs: number | null;
  /** That row, now leased to the caller; null when it was not claimed. */
  claimed: OutboxMessage | null;
  journeyId: string | null;
}

/**
 * The send lease. A send job carries only the row id, so its tenant is learnt here, from the row:
 * the one place that writes across tenants, and only the lease column of the row it was given.
 */
export class OutboxLeases {
  constructor(private readonly db: Executor) {}

  /**
   * For a send job, which carries only ids: the row's tenant, bot and chat, and — when the row is
   * `botId`'s — the chat's next pending row, leased for `leaseMs` if it is free (see CLAIM_OUTBOX);
   * null when the row is gone.
   */
  async claim(id: number, botId: string, leaseMs: number): Promise<OutboxClaim | null> {
    // Flat: the claimed row's columns first, so the job row's tenant, bot and chat (the same chat)
    // overwrite their copies whether or not a row was claimed.
    const [row] = await runPrepared<OutboxMessage & Omit<OutboxClaim, "claimed"> & { isClaimed: boolean }>(
      this.db,
      CLAIM_OUTBOX,
      [id, leaseMs, botId],
    );
    if (!row) return null;
    const { isClaimed, ownStatus, nextId, nextAttempts, leaseLeftMs, journeyId, ...message } = row;
    const claim = { tenantId: row.tenantId, botId: row.botId, telegramChatId: row.telegramChatId };
    return {
      ...claim,
      ownStatus,
      nextId,
      nextAttempts,
      leaseLeftMs,
      journeyId,
      claimed: isClaimed ? { ...message, ...claim } : null,
    };
  }
}
