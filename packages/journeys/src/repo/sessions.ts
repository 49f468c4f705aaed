import { and, desc, eq } from "drizzle-orm";
import { sealKey } from "../callback-seal.ts";
import { runNamed } from "../db/named.ts";
import { journeySteps, journeys, journeyUserSessions, type ReEntryPolicy } from "../db/schema.ts";
import type { JourneyDef, OutItem, TransitionResult } from "../engine/types.ts";
import { notFound } from "../errors.ts";
import { type ApplyOutcome, applyReplies, applyTransition, journeyOf, type SessionRead } from "./applier.ts";
import { CLAIM_AND_LOCK_LIVE, LOCK_LIVE_IN_JOURNEY, LOCK_LIVE_ON_BOT, LOCK_SESSION, PEEK_LIVE } from "./hot-sql.ts";
import { isUuid, type Scope } from "./scope.ts";

export type Session = typeof journeyUserSessions.$inferSelect;
export type { SessionRead } from "./applier.ts";

/**
 * Sessions of one tenant: the reads transition() needs (locked, or without locks with the row
 * version for the fast path), and `apply` to persist what it decided. Nothing here decides how a
 * session moves on: that is engine/transition.ts.
 */
export class SessionsRepo {
  constructor(private readonly s: Scope) {}

  async get(id: string): Promise<Session> {
    if (!isUuid(id)) throw notFound("session");
    const [row] = await this.s.db
      .select()
      .from(journeyUserSessions)
      .where(and(eq(journeyUserSessions.tenantId, this.s.tenantId), eq(journeyUserSessions.id, id)));
    if (!row) throw notFound("session");
    return row;
  }

  /**
   * Without locking or writing: whether (bot, update) was already recorded (`seen`), and the user's
   * live sessions on the bot, most recently active first, each with its row version.
   */
  async peekLive(botId: string, updateId: number, userId: number): Promise<{ seen: boolean; live: SessionRead[] }> {
    const rows = await runNamed<SessionRead & { seen: number }>(this.s.db, PEEK_LIVE, {
      tenant_id: this.s.tenantId,
      bot_id: botId,
      update_id: updateId,
      user_id: userId,
    });
    return { seen: (rows[0]?.seen ?? 0) > 0, live: rows.filter((r) => r.id !== null).map(withoutExtra("seen")) };
  }

  /**
   * Claim (bot, update) and lock the user's live sessions on the bot, in one statement: `claimed`
   * false means the update was already recorded (or the bot is not this tenant's), and then no
   * session is read.
   */
  async claimUpdateLockingLive(
    botId: string,
    updateId: number,
    userId: number,
  ): Promise<{ claimed: boolean; live: SessionRead[] }> {
    const rows = await runNamed<SessionRead & { claimed: number }>(this.s.db, CLAIM_AND_LOCK_LIVE, {
      tenant_id: this.s.tenantId,
      bot_id: botId,
      update_id: updateId,
      user_id: userId,
    });
    return { claimed: rows[0]?.claimed === 1, live: rows.filter((r) => r.id !== null).map(withoutExtra("claimed")) };
  }

  /** The user's live sessions on the bot, locked, most recently active first. */
  lockLiveOnBot(botId: string, userId: number): Promise<SessionRead[]> {
    return runNamed<SessionRead>(this.s.db, LOCK_LIVE_ON_BOT, {
      tenant_id: this.s.tenantId,
      bot_id: botId,
      user_id: userId,
    });
  }

  /** The user's live session in the journey, locked; null when there is none. */
  async lockLiveInJourney(journeyId: string, userId: number): Promise<SessionRead | null> {
    if (!isUuid(journeyId)) return null;
    const [row] = await runNamed<SessionRead>(this.s.db, LOCK_LIVE_IN_JOURNEY, {
      tenant_id: this.s.tenantId,
      journey_id: journeyId,
      user_id: userId,
    });
    return row ?? null;
  }

  /** A session by id, locked, with its journey's bot; null when it is not this tenant's. */
  async lock(id: string): Promise<SessionRead | null> {
    if (!isUuid(id)) return null;
    const [row] = await runNamed<SessionRead>(this.s.db, LOCK_SESSION, { tenant_id: this.s.tenantId, session_id: id });
    return row ?? null;
  }

  /** The journey a session read runs in (its steps cached per process by steps version). */
  journeyOf(read: SessionRead): Promise<JourneyDef> {
    return journeyOf(this.s.db, this.s.tenantId, { ...read, id: read.journeyId });
  }

  /** A journey row of this tenant as the engine sees it (a /start has the row, not yet a session). */
  journey(row: { id: string; reEntryPolicy: ReEntryPolicy; stepsVersion: number }): Promise<JourneyDef> {
    return journeyOf(this.s.db, this.s.tenantId, row);
  }

  /** Persist a transition's result (see repo/applier.ts): under the caller's locks, or as read (`version`). */
  apply(
    result: TransitionResult,
    opts: { botId: string; version?: string | null; updateId?: number | null },
  ): Promise<ApplyOutcome> {
    return applyTransition(this.s.db, result, {
      tenantId: this.s.tenantId,
      sealKey: this.sealKey(opts.botId),
      ...opts,
    });
  }

  /** Queue what the bot says outside any session to the chat (engine/conversation.ts's replies). */
  reply(botId: string, chatId: number, replies: readonly OutItem[]) {
    return applyReplies(this.s.db, { tenantId: this.s.tenantId, botId, chatId }, replies);
  }

  /** The bot's key for sealing and opening choice buttons' callback_data. */
  sealKey(botId: string): Buffer {
    return sealKey(this.s.encryptionKey, this.s.tenantId, botId);
  }

  /** Most recent sessions with their journey's name and current step, for the debug endpoint. */
  async recent(limit: number) {
    return this.s.db
      .select({
        session: journeyUserSessions,
        journeyName: journeys.name,
        stepOrder: journeySteps.stepOrder,
        stepType: journeySteps.stepType,
      })
      .from(journeyUserSessions)
      .innerJoin(journeys, eq(journeys.id, journeyUserSessions.journeyId))
      .leftJoin(journeySteps, eq(journeySteps.id, journeyUserSessions.currentStepId))
      .where(eq(journeyUserSessions.tenantId, this.s.tenantId))
      .orderBy(desc(journeyUserSessions.lastActivityAt), desc(journeyUserSessions.id))
      .limit(Math.max(1, Math.min(500, limit)));
  }
}

/** A row of a statement that adds a column to every session row (the claim, the seen flag) without it. */
const withoutExtra =
  <K extends string>(key: K) =>
  (row: SessionRead & Record<K, unknown>): SessionRead => {
    const { [key]: _, ...rest } = row;
    return rest as SessionRead;
  };
