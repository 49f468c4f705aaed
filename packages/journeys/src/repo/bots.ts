import { and, asc, eq, isNull, ne, sql } from "drizzle-orm";
import { decryptSecret, encryptSecret, randomSecret } from "../crypto.ts";
import { journeys, tenantBots } from "../db/schema.ts";
import { conflict, notFound } from "../errors.ts";
import type { Scope } from "./scope.ts";

type BotRow = typeof tenantBots.$inferSelect;
/** A bot as the rest of the code sees it: never the token, never the webhook secret. */
export type BotSummary = Omit<BotRow, "tokenEncrypted" | "webhookSecret">;
export interface BotCredentials extends BotSummary {
  token: string;
  webhookSecret: string;
}

export function summarize(row: BotRow): BotSummary {
  const { tokenEncrypted: _t, webhookSecret: _w, ...rest } = row;
  return rest;
}

export class BotsRepo {
  constructor(private readonly s: Scope) {}

  /**
   * Store (or re-store, e.g. a rotated token) a bot for this tenant: token encrypted at rest, a
   * fresh webhook secret on first connect. A bot id or Telegram bot owned by another tenant is a conflict.
   */
  async save(input: {
    botId: string;
    telegramBotId: number;
    username: string;
    firstName: string;
    token: string;
  }): Promise<BotCredentials> {
    const [byId] = await this.s.db.select().from(tenantBots).where(eq(tenantBots.botId, input.botId));
    const [byTelegram] = await this.s.db
      .select()
      .from(tenantBots)
      .where(eq(tenantBots.telegramBotId, input.telegramBotId));
    if (byId && byId.tenantId !== this.s.tenantId) throw conflict(`bot_id "${input.botId}" is already taken`);
    if (byTelegram && (byTelegram.tenantId !== this.s.tenantId || byTelegram.botId !== input.botId)) {
      throw conflict(
        byTelegram.tenantId === this.s.tenantId
          ? `this Telegram bot is already connected as bot_id "${byTelegram.botId}"`
          : "this Telegram bot is already connected by another tenant",
      );
    }
    const tokenEncrypted = encryptSecret(input.token, this.s.encryptionKey);
    const values = {
      botId: input.botId,
      tenantId: this.s.tenantId,
      telegramBotId: input.telegramBotId,
      username: input.username,
      firstName: input.firstName,
      tokenEncrypted,
      webhookSecret: byId?.webhookSecret ?? randomSecret(32),
      // Connected again (getMe accepted the token): sends paused by a 401 resume.
      unauthorizedAt: null,
    };
    const [row] = await this.s.db
      .insert(tenantBots)
      .values(values)
      .onConflictDoUpdate({
        target: tenantBots.botId,
        set: { ...values, webhookSecret: sql`${tenantBots.webhookSecret}`, updatedAt: sql`now()` },
        setWhere: eq(tenantBots.tenantId, this.s.tenantId),
      })
      .returning();
    if (!row) throw conflict(`bot_id "${input.botId}" is already taken`);
    return { ...summarize(row), token: input.token, webhookSecret: row.webhookSecret };
  }

  async list(): Promise<BotSummary[]> {
    const rows = await this.s.db
      .select()
      .from(tenantBots)
      .where(eq(tenantBots.tenantId, this.s.tenantId))
      .orderBy(asc(tenantBots.createdAt));
    return rows.map(summarize);
  }

  async get(botId: string): Promise<BotSummary> {
    const [row] = await this.s.db
      .select()
      .from(tenantBots)
      .where(and(eq(tenantBots.tenantId, this.s.tenantId), eq(tenantBots.botId, botId)));
    if (!row) throw notFound("bot");
    return summarize(row);
  }

  /**
   * Remove this tenant's bot. A journey still on it (any status but archived) makes it a conflict:
   * its sessions would be left without a bot to speak through.
   */
  async remove(botId: string): Promise<void> {
    const [inUse] = await this.s.db
      .select({ id: journeys.id, name: journeys.name })
      .from(journeys)
      .where(and(eq(journeys.tenantId, this.s.tenantId), eq(journeys.botId, botId), ne(journeys.status, "archived")))
      .limit(1);
    if (inUse) {
      throw conflict(
        `bot_id "${botId}" is used by journey ${inUse.id} ("${inUse.name}"): archive it or move it to another bot first`,
      );
    }
    const removed = await this.s.db
      .delete(tenantBots)
      .where(and(eq(tenantBots.tenantId, this.s.tenantId), eq(tenantBots.botId, botId)))
      .returning({ botId: tenantBots.botId });
    if (removed.length === 0) throw notFound("bot");
  }

  /** Decrypts the token: only for code that is about to call Telegram with it. */
  async credentials(botId: string): Promise<BotCredentials> {
    const [row] = await this.s.db
      .select()
      .from(tenantBots)
      .where(and(eq(tenantBots.tenantId, this.s.tenantId), eq(tenantBots.botId, botId)));
    if (!row) throw notFound("bot");
    return {
      ...summarize(row),
      token: decryptSecret(row.tokenEncrypted, this.s.encryptionKey),
      webhookSecret: row.webhookSecret,
    };
  }

  /**
   * Telegram answered 401 for the bot's token: mark the bot unauthorized. True only for the call that
   * marked it (so the event is logged once); false when it already was, or is not this tenant's.
   */
  async markUnauthorized(botId: string): Promise<boolean> {
    const rows = await this.s.db
      .update(tenantBots)
      .set({ unauthorizedAt: sql`now()` })
      .where(
        and(eq(tenantBots.tenantId, this.s.tenantId), eq(tenantBots.botId, botId), isNull(tenantBots.unauthorizedAt)),
      )
      .returning({ botId: tenantBots.botId });
    return rows.length === 1;
  }
}
