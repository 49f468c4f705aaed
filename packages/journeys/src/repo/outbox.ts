import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { runNamed } from "../db/named.ts";
import { journeyOutbox } from "../db/schema.ts";
import { CLAIM_OUTBOX, MARK_OUTBOX_FAILED, MARK_OUTBOX_SENT } from "./hot-sql.ts";
import type { Scope } from "./scope.ts";

export type OutboxMessage = typeof journeyOutbox.$inferSelect;

/**
 * Outbox rows of one tenant, as the sender settles them. They are written by the applier (a
 * transition queues and cancels messages); a sender leases one (OutboxLeases), sends it, marks it.
 */
export class OutboxRepo {
  constructor(private readonly s: Scope) {}

  /** Returns whether another row of the same chat is still pending (a flush stops when none is). */
  async markSent(id: number): Promise<boolean> {
    const [row] = await runNamed<{ more: boolean }>(this.s.db, MARK_OUTBOX_SENT, {
      tenant_id: this.s.tenantId,
      outbox_id: id,
    });
    return row?.more ?? false;
  }

  /** Returns whether another row of the same chat is still pending, as markSent. */
  async markFailed(id: number, error: string): Promise<boolean> {
    const [row] = await runNamed<{ more: boolean }>(this.s.db, MARK_OUTBOX_FAILED, {
      tenant_id: this.s.tenantId,
      outbox_id: id,
      error: error.slice(0, 2000),
    });
    return row?.more ?? false;
  }

  /** Give the row's lease back without counting a try (its bot's sends are paused): it stays pending. */
  async release(id: number): Promise<void> {
    await this.s.db
      .update(journeyOutbox)
      .set({ claimedUntil: null })
      .where(and(eq(journeyOutbox.tenantId, this.s.tenantId), eq(journeyOutbox.id, id)));
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
    const [row] = await runNamed<OutboxMessage & Omit<OutboxClaim, "claimed"> & { isClaimed: boolean }>(
      this.db,
      CLAIM_OUTBOX,
      {
        outbox_id: id,
        lease_ms: leaseMs,
        bot_id: botId,
      },
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
