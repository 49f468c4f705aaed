/**
 * Cross-tenant reads for the transports: finding which tenant a webhook or a due row belongs to.
 * Everything here returns ids and the tenant they belong to; the caller then binds a tenant
 * repository and does the real work through it.
 */
import { and, asc, eq, inArray, lte, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { columnsOf, prepared, runPrepared } from "../db/prepared.ts";
import { journeyOutbox, journeyScheduledMessages, processedUpdates, tenantBots } from "../db/schema.ts";
import { isBotId, isUuid } from "./scope.ts";
import type { OutboxMessage } from "./sessions.ts";

const SCHEDULED_TENANT = prepared(
  "scheduled_tenant",
  `SELECT id, tenant_id AS "tenantId" FROM journey_scheduled_messages WHERE id = $1::uuid`,
);
const OUTBOX_ROW = prepared("outbox_row", `SELECT ${columnsOf(journeyOutbox)} FROM journey_outbox WHERE id = $1`);
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

/** What `claimOutbox` found: the job's row (its tenant, bot, chat and status) and the chat's next row. */
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

export class SystemRepo {
  constructor(private readonly db: Executor) {}

  /** The bot row a webhook route names: tenant, webhook secret and public info (token stays encrypted). */
  async botForWebhook(botId: string) {
    if (!isBotId(botId)) return null;
    const [row] = await this.db
      .select({
        botId: tenantBots.botId,
        tenantId: tenantBots.tenantId,
        telegramBotId: tenantBots.telegramBotId,
        username: tenantBots.username,
        firstName: tenantBots.firstName,
        webhookSecret: tenantBots.webhookSecret,
      })
      .from(tenantBots)
      .where(eq(tenantBots.botId, botId));
    return row ?? null;
  }

  /** Tenants that exist (have at least one bot). */
  async tenantIds(): Promise<string[]> {
    const rows = await this.db.selectDistinct({ tenantId: tenantBots.tenantId }).from(tenantBots);
    return rows.map((r) => r.tenantId);
  }

  /**
   * Pending delay rows due by `until`, oldest first, across tenants (the seed's
   * fetch_due_scheduled_messages): the sweeper makes sure each has a job.
   */
  pendingScheduledBefore(until: Date, limit = 1000) {
    return this.db
      .select({
        id: journeyScheduledMessages.id,
        tenantId: journeyScheduledMessages.tenantId,
        scheduledFor: journeyScheduledMessages.scheduledFor,
      })
      .from(journeyScheduledMessages)
      .where(and(eq(journeyScheduledMessages.status, "pending"), lte(journeyScheduledMessages.scheduledFor, until)))
      .orderBy(asc(journeyScheduledMessages.scheduledFor))
      .limit(limit);
  }

  /** Outbox rows still pending after `olderThan` (their sender died or Redis lost the job). */
  stalePendingOutbox(olderThan: Date, limit = 1000) {
    return this.db
      .select({ id: journeyOutbox.id, tenantId: journeyOutbox.tenantId, botId: journeyOutbox.botId })
      .from(journeyOutbox)
      .where(and(eq(journeyOutbox.status, "pending"), lte(journeyOutbox.createdAt, olderThan)))
      .orderBy(asc(journeyOutbox.id))
      .limit(limit);
  }

  /** Which tenant a delay row belongs to (a job carries only the id); null when it is gone. */
  async scheduledMessageTenant(id: string): Promise<{ id: string; tenantId: string } | null> {
    if (!isUuid(id)) return null;
    const [row] = await runPrepared<{ id: string; tenantId: string }>(this.db, SCHEDULED_TENANT, [id]);
    return row ?? null;
  }

  async outboxRow(id: number): Promise<OutboxMessage | null> {
    const [row] = await runPrepared<OutboxMessage>(this.db, OUTBOX_ROW, [id]);
    return row ?? null;
  }

  /**
   * For a send job, which carries only ids: the row's tenant, bot and chat, and — when the row is
   * `botId`'s — the chat's next pending row, leased for `leaseMs` if it is free (see CLAIM_OUTBOX);
   * null when the row is gone.
   */
  async claimOutbox(id: number, botId: string, leaseMs: number): Promise<OutboxClaim | null> {
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

  /** Forget processed update ids older than Telegram's 24 h redelivery horizon (with margin). */
  async pruneProcessedUpdates(olderThanHours = 72): Promise<number> {
    const rows = await this.db
      .delete(processedUpdates)
      .where(sql`${processedUpdates.processedAt} < now() - make_interval(hours => ${olderThanHours})`)
      .returning({ id: processedUpdates.updateId });
    return rows.length;
  }

  async countByStatus(ids: string[]) {
    if (ids.length === 0) return [];
    return this.db
      .select({ status: journeyScheduledMessages.status, n: sql<number>`count(*)::int` })
      .from(journeyScheduledMessages)
      .where(inArray(journeyScheduledMessages.id, ids))
      .groupBy(journeyScheduledMessages.status);
  }
}
