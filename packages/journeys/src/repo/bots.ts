import { and, asc, eq, isNull, ne, sql } from "drizzle-orm";
import { decryptSecret, encryptSecret, hashSecret, randomSecret } from "../crypto.ts";
import { journeys, tenantBots } from "../db/schema.ts";
import { BOT_TEXT_FIELDS, type BotTexts, botTexts } from "../engine/bot-texts.ts";
import { conflict, invalid, notFound } from "../errors.ts";
import type { Scope } from "./scope.ts";

type BotRow = typeof tenantBots.$inferSelect;

/** Each bot text's column in tenant_bots (the API and the engine name them in snake_case). */
const TEXT_COLUMNS = {
  welcome_text: "welcomeText",
  unknown_link_text: "unknownLinkText",
  help_text: "helpText",
  waiting_text: "waitingText",
  unavailable_text: "unavailableText",
} as const satisfies Record<keyof BotTexts, keyof BotRow>;
type TextColumn = (typeof TEXT_COLUMNS)[keyof BotTexts];

/**
 * A bot as the rest of the code sees it: never the token, never the webhook secret's hash; its
 * texts as they take effect (the stored ones, else the defaults).
 */
export type BotSummary = Omit<BotRow, "tokenEncrypted" | "webhookSecret" | TextColumn> & { texts: BotTexts };
export interface BotCredentials extends BotSummary {
  token: string;
}
/** What connecting stored: the webhook secret in plain text, this once, for setWebhook. */
export interface SavedBot extends BotCredentials {
  webhookSecret: string;
}

/** Texts to set: a string (1–4096 characters, not blank), or null for the default; absent: unchanged. */
export type BotTextsInput = Partial<Record<keyof BotTexts, string | null>>;

/** Telegram's limit on a message's text. */
export const BOT_TEXT_MAX = 4096;

export function summarize(row: BotRow): BotSummary {
  const {
    tokenEncrypted: _t,
    webhookSecret: _w,
    welcomeText: _1,
    unknownLinkText: _2,
    helpText: _3,
    waitingText: _4,
    unavailableText: _5,
    ...rest
  } = row;
  return { ...rest, texts: botTexts(Object.fromEntries(BOT_TEXT_FIELDS.map((f) => [f, row[TEXT_COLUMNS[f]]]))) };
}

/** The columns to write for `input` (only the texts it names); VALIDATION naming the first bad one. */
export function textColumns(input: BotTextsInput): Partial<Pick<BotRow, TextColumn>> {
  const out: Partial<Pick<BotRow, TextColumn>> = {};
  for (const field of BOT_TEXT_FIELDS) {
    const value = input[field];
    if (value === undefined) continue;
    if (value !== null) {
      if (typeof value !== "string") throw invalid(`${field} must be a string or null`);
      // Code points, as the API's schema counts them.
      const length = [...value].length;
      if (length < 1 || length > BOT_TEXT_MAX) throw invalid(`${field} must be 1–${BOT_TEXT_MAX} characters, or null`);
      // Telegram refuses to send an empty message: a blank text would fail at every send.
      if (value.trim() === "") throw invalid(`${field} must not be blank (null means the default)`);
    }
    out[TEXT_COLUMNS[field]] = value;
  }
  return out;
}

export class BotsRepo {
  constructor(private readonly s: Scope) {}

  /**
   * Store (or re-store, e.g. a rotated token) a bot for this tenant: token encrypted at rest, and a
   * fresh webhook secret every time, stored as its hash only (the old one cannot be registered
   * again: it is not known). Texts given are set, others kept. A bot id or Telegram bot owned by
   * another tenant is a conflict.
   */
  async save(input: {
    botId: string;
    telegramBotId: number;
    username: string;
    firstName: string;
    token: string;
    texts?: BotTextsInput;
  }): Promise<SavedBot> {
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
    const texts = textColumns(input.texts ?? {});
    const tokenEncrypted = encryptSecret(input.token, this.s.encryptionKey);
    const webhookSecret = randomSecret(32);
    const values = {
      botId: input.botId,
      tenantId: this.s.tenantId,
      telegramBotId: input.telegramBotId,
      username: input.username,
      firstName: input.firstName,
      tokenEncrypted,
      webhookSecret: hashSecret(webhookSecret),
      ...texts,
      // Connected again (getMe accepted the token): sends paused by a 401 resume.
      unauthorizedAt: null,
    };
    const [row] = await this.s.db
      .insert(tenantBots)
      .values(values)
      .onConflictDoUpdate({
        target: tenantBots.botId,
        set: { ...values, updatedAt: sql`now()` },
        setWhere: eq(tenantBots.tenantId, this.s.tenantId),
      })
      .returning();
    if (!row) throw conflict(`bot_id "${input.botId}" is already taken`);
    return { ...summarize(row), token: input.token, webhookSecret };
  }

  /**
   * A new webhook secret for this tenant's bot, stored as its hash; the plain secret is returned
   * this once (for setWebhook). The update locks the row until the caller's transaction ends, so
   * concurrent rotations register and store their secrets in the same order.
   */
  async newWebhookSecret(botId: string): Promise<{ bot: BotSummary; webhookSecret: string }> {
    const webhookSecret = randomSecret(32);
    const [row] = await this.s.db
      .update(tenantBots)
      .set({ webhookSecret: hashSecret(webhookSecret), updatedAt: sql`now()` })
      .where(and(eq(tenantBots.tenantId, this.s.tenantId), eq(tenantBots.botId, botId)))
      .returning();
    if (!row) throw notFound("bot");
    return { bot: summarize(row), webhookSecret };
  }

  /** Set (a string) or reset (null: the default) some of the bot's texts; the others are kept. */
  async setTexts(botId: string, input: BotTextsInput): Promise<BotSummary> {
    const texts = textColumns(input);
    if (Object.keys(texts).length === 0) return this.get(botId);
    const [row] = await this.s.db
      .update(tenantBots)
      .set({ ...texts, updatedAt: sql`now()` })
      .where(and(eq(tenantBots.tenantId, this.s.tenantId), eq(tenantBots.botId, botId)))
      .returning();
    if (!row) throw notFound("bot");
    return summarize(row);
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
    return { ...summarize(row), token: decryptSecret(row.tokenEncrypted, this.s.encryptionKey) };
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
