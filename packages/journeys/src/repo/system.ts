/**
 * Cross-tenant reads for the transports: finding which tenant a webhook or a due row belongs to.
 * Everything here returns ids and the tenant they belong to; the caller then binds a tenant
 * repository and does the real work through it.
 */
import { and, asc, eq, lte } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { columnsOf, prepared, runPrepared } from "../db/prepared.ts";
import { journeyOutbox, journeyScheduledMessages, tenantBots } from "../db/schema.ts";
import type { OutboxMessage } from "./outbox.ts";
import { isBotId, isUuid } from "./scope.ts";

const SCHEDULED_TENANT = prepared(
  "scheduled_tenant",
  `SELECT id, tenant_id AS "tenantId" FROM journey_scheduled_messages WHERE id = $1::uuid`,
);
const OUTBOX_ROW = prepared("outbox_row", `SELECT ${columnsOf(journeyOutbox)} FROM journey_outbox WHERE id = $1`);
export class SystemRepo {
  constructor(private readonly db: Executor) {}

  /**
   * The bot row a webhook route names: tenant, the webhook secret's hash, public info and the bot's
   * stored texts as `botTexts()` takes them (NULL: the default), so an update needs no other bot
   * query. The token stays encrypted.
   */
  async botForWebhook(botId: string) {
    if (!isBotId(botId)) return null;
    const [row] = await this.db
      .select({
        botId: tenantBots.botId,
        tenantId: tenantBots.tenantId,
        telegramBotId: tenantBots.telegramBotId,
        username: tenantBots.username,
        firstName: tenantBots.firstName,
        webhookSecretHash: tenantBots.webhookSecret,
        welcome_text: tenantBots.welcomeText,
        unknown_link_text: tenantBots.unknownLinkText,
        help_text: tenantBots.helpText,
        waiting_text: tenantBots.waitingText,
        unavailable_text: tenantBots.unavailableText,
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
}
