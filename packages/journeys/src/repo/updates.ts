import { and, eq, sql } from "drizzle-orm";
import type { Executor } from "../db/client.ts";
import { named, runNamed } from "../db/named.ts";
import { processedUpdates, tenantBots } from "../db/schema.ts";
import { notFound } from "../errors.ts";
import { CLAIM_UPDATE_SQL } from "./hot-sql.ts";
import type { Scope } from "./scope.ts";

const CLAIM_UPDATE = named<"tenant_id" | "bot_id" | "update_id">(
  "update_claim",
  `${CLAIM_UPDATE_SQL} RETURNING update_id`,
);

/**
 * Telegram re-delivers an update on any non-2xx or slow answer: a processed_updates row, written in
 * the update's own transaction (or with its one statement), makes each (bot, update_id) take effect once.
 */
export class UpdatesRepo {
  constructor(private readonly s: Scope) {}

  /**
   * Record (bot, update_id); false when already recorded. A concurrent duplicate blocks on the
   * primary key until the first commits, then sees the conflict. Not this tenant's bot: NOT_FOUND.
   */
  async claim(botId: string, updateId: number): Promise<boolean> {
    const rows = await runNamed(this.s.db, CLAIM_UPDATE, {
      tenant_id: this.s.tenantId,
      bot_id: botId,
      update_id: updateId,
    });
    if (rows.length === 1) return true;
    const [own] = await this.s.db
      .select({ botId: tenantBots.botId })
      .from(tenantBots)
      .where(and(eq(tenantBots.tenantId, this.s.tenantId), eq(tenantBots.botId, botId)));
    if (!own) throw notFound("bot");
    return false;
  }
}

/** Forget processed update ids older than Telegram's 24 h redelivery horizon (with margin), every tenant's. */
export async function pruneProcessedUpdates(db: Executor, olderThanHours = 72): Promise<number> {
  const rows = await db
    .delete(processedUpdates)
    .where(sql`${processedUpdates.processedAt} < now() - make_interval(hours => ${olderThanHours})`)
    .returning({ id: processedUpdates.updateId });
  return rows.length;
}
