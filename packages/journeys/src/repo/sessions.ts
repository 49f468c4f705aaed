import { and, desc, eq, inArray, type SQL, sql } from "drizzle-orm";
import {
  journeyOutbox,
  journeyScheduledMessages,
  journeySteps,
  journeys,
  journeyUserSessions,
  type SessionStatus,
  tenantBots,
} from "../db/schema.ts";
import { notFound } from "../errors.ts";
import { isUuid, LIVE_STATUSES, type Scope } from "./scope.ts";

export type Session = typeof journeyUserSessions.$inferSelect;
export type ScheduledMessage = typeof journeyScheduledMessages.$inferSelect;
export type OutboxMessage = typeof journeyOutbox.$inferSelect;

const liveStatus = inArray(journeyUserSessions.status, [...LIVE_STATUSES]);
/** For an updated outbox row: does another row of its chat wait? Saves a flush one empty transaction. */
const moreInChat = sql<boolean>`exists (select 1 from journey_outbox o where o.tenant_id = ${journeyOutbox.tenantId}
  and o.bot_id = ${journeyOutbox.botId} and o.telegram_chat_id = ${journeyOutbox.telegramChatId}
  and o.status = 'pending' and o.id <> ${journeyOutbox.id})`;

export class SessionsRepo {
  constructor(private readonly s: Scope) {}

  private mine(id: string) {
    return and(eq(journeyUserSessions.tenantId, this.s.tenantId), eq(journeyUserSessions.id, id));
  }

  /** `stepId` (when not null) is a step of the session's own journey. */
  private stepOfSession(stepId: string | null | undefined): SQL | undefined {
    if (!stepId) return undefined;
    return sql`EXISTS (SELECT 1 FROM ${journeySteps} WHERE ${journeySteps.id} = ${stepId} AND ${journeySteps.journeyId} = ${journeyUserSessions.journeyId})`;
  }

  async get(id: string, opts: { forUpdate?: boolean } = {}): Promise<Session> {
    if (!isUuid(id)) throw notFound("session");
    const q = this.s.db.select().from(journeyUserSessions).where(this.mine(id));
    const [row] = opts.forUpdate ? await q.for("update") : await q;
    if (!row) throw notFound("session");
    return row;
  }

  /**
   * A session row-locked, with its journey's bot id (a join, not a second read): what firing a
   * delay needs before it resumes the session.
   */
  async getLockedWithBot(id: string): Promise<{ session: Session; botId: string }> {
    if (!isUuid(id)) throw notFound("session");
    const [row] = await this.s.db
      .select({ session: journeyUserSessions, botId: journeys.botId })
      .from(journeyUserSessions)
      .innerJoin(journeys, eq(journeys.id, journeyUserSessions.journeyId))
      .where(and(this.mine(id), eq(journeys.tenantId, this.s.tenantId)))
      .for("update", { of: journeyUserSessions });
    if (!row) throw notFound("session");
    return row;
  }

  /** The user's live (active or waiting_delay) session in this journey, optionally row-locked. */
  async getActive(
    journeyId: string,
    telegramUserId: number,
    opts: { forUpdate?: boolean } = {},
  ): Promise<Session | null> {
    if (!isUuid(journeyId)) return null;
    const q = this.s.db
      .select()
      .from(journeyUserSessions)
      .where(
        and(
          eq(journeyUserSessions.tenantId, this.s.tenantId),
          eq(journeyUserSessions.journeyId, journeyId),
          eq(journeyUserSessions.telegramUserId, telegramUserId),
          liveStatus,
        ),
      );
    const [row] = opts.forUpdate ? await q.for("update") : await q;
    return row ?? null;
  }

  /** Live sessions of this user across the journeys of one bot, most recently active first. */
  async liveForUserOnBot(botId: string, telegramUserId: number, opts: { forUpdate?: boolean } = {}) {
    const q = this.s.db
      .select({ session: journeyUserSessions })
      .from(journeyUserSessions)
      .innerJoin(journeys, eq(journeys.id, journeyUserSessions.journeyId))
      .where(
        and(
          eq(journeyUserSessions.tenantId, this.s.tenantId),
          eq(journeys.botId, botId),
          eq(journeyUserSessions.telegramUserId, telegramUserId),
          liveStatus,
        ),
      )
      .orderBy(desc(journeyUserSessions.lastActivityAt), desc(journeyUserSessions.startedAt));
    const rows = opts.forUpdate ? await q.for("update", { of: journeyUserSessions }) : await q;
    return rows.map((r) => r.session);
  }

  /**
   * Insert a live session unless one exists. The partial unique index decides: a concurrent insert
   * for the same (journey, user) waits for ours and then inserts nothing (returns null).
   */
  async insertLive(journeyId: string, telegramUserId: number, telegramChatId: number): Promise<Session | null> {
    const [own] = isUuid(journeyId)
      ? await this.s.db
          .select({ id: journeys.id })
          .from(journeys)
          .where(and(eq(journeys.tenantId, this.s.tenantId), eq(journeys.id, journeyId)))
      : [];
    if (!own) throw notFound("journey");
    const rows = await this.s.db
      .insert(journeyUserSessions)
      .values({ tenantId: this.s.tenantId, journeyId, telegramUserId, telegramChatId, status: "active" })
      .onConflictDoNothing({
        target: [journeyUserSessions.journeyId, journeyUserSessions.telegramUserId],
        where: sql`status IN ('active', 'waiting_delay')`,
      })
      .returning();
    return rows[0] ?? null;
  }

  async update(
    id: string,
    fields: { status?: SessionStatus; currentStepId?: string | null; answers?: Record<string, unknown> },
  ): Promise<Session> {
    if (!isUuid(id)) throw notFound("session");
    const { status, currentStepId, answers } = fields;
    const [row] = await this.s.db
      .update(journeyUserSessions)
      .set({
        status,
        currentStepId,
        answers,
        lastActivityAt: sql`now()`,
        ...(status === "completed" ? { completedAt: sql`now()` } : {}),
      })
      .where(and(this.mine(id), this.stepOfSession(currentStepId)))
      .returning();
    if (!row) throw notFound(currentStepId ? "session or step" : "session");
    return row;
  }

  updateStatus(id: string, status: SessionStatus) {
    return this.update(id, { status });
  }

  updateCurrentStep(id: string, stepId: string | null) {
    return this.update(id, { currentStepId: stepId });
  }

  /** answers[key] = value and move to `nextStepId` (null at the end), in one statement. */
  async storeAnswerAndAdvance(
    id: string,
    answerKey: string,
    value: unknown,
    nextStepId: string | null,
  ): Promise<Session> {
    if (!isUuid(id)) throw notFound("session");
    const [row] = await this.s.db
      .update(journeyUserSessions)
      .set({
        answers: sql`coalesce(${journeyUserSessions.answers}, '{}'::jsonb) || jsonb_build_object(${answerKey}::text, ${JSON.stringify(value)}::jsonb)`,
        currentStepId: nextStepId,
        lastActivityAt: sql`now()`,
      })
      .where(and(this.mine(id), this.stepOfSession(nextStepId)))
      .returning();
    if (!row) throw notFound(nextStepId ? "session or step" : "session");
    return row;
  }

  /** Cancel a session and everything it still had waiting (delays and unsent messages). */
  async cancel(id: string, reason: string): Promise<void> {
    if (!isUuid(id)) return;
    await this.s.db
      .update(journeyUserSessions)
      .set({ status: "cancelled", lastActivityAt: sql`now()` })
      .where(and(this.mine(id), liveStatus));
    await this.s.db
      .update(journeyScheduledMessages)
      .set({ status: "cancelled", error: `session cancelled: ${reason}` })
      .where(
        and(
          eq(journeyScheduledMessages.tenantId, this.s.tenantId),
          eq(journeyScheduledMessages.sessionId, id),
          eq(journeyScheduledMessages.status, "pending"),
        ),
      );
    await this.s.db
      .update(journeyOutbox)
      .set({ status: "cancelled", error: `session cancelled: ${reason}` })
      .where(
        and(
          eq(journeyOutbox.tenantId, this.s.tenantId),
          eq(journeyOutbox.sessionId, id),
          eq(journeyOutbox.status, "pending"),
        ),
      );
  }

  async scheduleMessage(input: {
    sessionId: string;
    stepId: string;
    telegramChatId: number;
    payload: Record<string, unknown>;
    scheduledFor: Date;
  }): Promise<ScheduledMessage> {
    const [own] =
      isUuid(input.sessionId) && isUuid(input.stepId)
        ? await this.s.db
            .select({ id: journeyUserSessions.id })
            .from(journeyUserSessions)
            .where(and(this.mine(input.sessionId), this.stepOfSession(input.stepId)))
        : [];
    if (!own) throw notFound("session or step");
    const [row] = await this.s.db
      .insert(journeyScheduledMessages)
      .values({
        tenantId: this.s.tenantId,
        sessionId: input.sessionId,
        stepId: input.stepId,
        telegramChatId: input.telegramChatId,
        messageContent: input.payload,
        scheduledFor: input.scheduledFor,
      })
      .returning();
    return row!;
  }

  async getScheduled(id: string, opts: { forUpdate?: "wait" | "skipLocked" } = {}): Promise<ScheduledMessage | null> {
    if (!isUuid(id)) return null;
    const q = this.s.db
      .select()
      .from(journeyScheduledMessages)
      .where(and(eq(journeyScheduledMessages.tenantId, this.s.tenantId), eq(journeyScheduledMessages.id, id)));
    const rows =
      opts.forUpdate === "skipLocked"
        ? await q.for("update", { skipLocked: true })
        : opts.forUpdate === "wait"
          ? await q.for("update")
          : await q;
    return rows[0] ?? null;
  }

  async markScheduledSent(id: string): Promise<void> {
    if (!isUuid(id)) return;
    await this.s.db
      .update(journeyScheduledMessages)
      .set({ status: "sent", sentAt: sql`now()`, error: null })
      .where(and(eq(journeyScheduledMessages.tenantId, this.s.tenantId), eq(journeyScheduledMessages.id, id)));
  }

  async markScheduledFailed(id: string, error: string): Promise<void> {
    if (!isUuid(id)) return;
    await this.s.db
      .update(journeyScheduledMessages)
      .set({ status: "failed", error: error.slice(0, 2000) })
      .where(and(eq(journeyScheduledMessages.tenantId, this.s.tenantId), eq(journeyScheduledMessages.id, id)));
  }

  /** Record an outgoing message; it is sent after the surrounding transaction commits. */
  async addOutbox(input: {
    sessionId: string | null;
    botId: string;
    telegramChatId: number;
    text: string;
  }): Promise<OutboxMessage> {
    const { sessionId } = input;
    if (sessionId !== null && !isUuid(sessionId)) throw notFound("session");
    // One statement: the row is inserted only when the bot (and the session, if any) is this
    // tenant's — INSERT … SELECT from the tenant's bot row, guarded by EXISTS on the session.
    // Drizzle's INSERT … SELECT names every column in table order, so the defaults are spelled out.
    const [row] = await this.s.db
      .insert(journeyOutbox)
      .select(
        this.s.db
          .select({
            id: sql<number>`nextval(pg_get_serial_sequence('journey_outbox', 'id'))`.as("id"),
            tenantId: tenantBots.tenantId,
            botId: tenantBots.botId,
            sessionId: sql<string | null>`${sessionId}::uuid`.as("session_id"),
            telegramChatId: sql<number>`${input.telegramChatId}::bigint`.as("telegram_chat_id"),
            messageContent: sql<{ text: string }>`${JSON.stringify({ text: input.text })}::jsonb`.as("message_content"),
            status: sql<string>`'pending'`.as("status"),
            attempts: sql<number>`0`.as("attempts"),
            createdAt: sql<Date>`now()`.as("created_at"),
            sentAt: sql<Date | null>`NULL::timestamptz`.as("sent_at"),
            error: sql<string | null>`NULL::text`.as("error"),
          })
          .from(tenantBots)
          .where(
            and(
              eq(tenantBots.tenantId, this.s.tenantId),
              eq(tenantBots.botId, input.botId),
              sessionId === null
                ? undefined
                : sql`EXISTS (SELECT 1 FROM ${journeyUserSessions} WHERE ${this.mine(sessionId)})`,
            ),
          ),
      )
      .returning();
    if (!row) throw notFound(sessionId === null ? "bot" : "bot or session");
    return row;
  }

  async listOutbox(sessionId: string): Promise<OutboxMessage[]> {
    if (!isUuid(sessionId)) return [];
    return this.s.db
      .select()
      .from(journeyOutbox)
      .where(and(eq(journeyOutbox.tenantId, this.s.tenantId), eq(journeyOutbox.sessionId, sessionId)))
      .orderBy(journeyOutbox.id);
  }

  async listScheduled(sessionId: string): Promise<ScheduledMessage[]> {
    if (!isUuid(sessionId)) return [];
    return this.s.db
      .select()
      .from(journeyScheduledMessages)
      .where(
        and(eq(journeyScheduledMessages.tenantId, this.s.tenantId), eq(journeyScheduledMessages.sessionId, sessionId)),
      )
      .orderBy(journeyScheduledMessages.scheduledFor);
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

  // ---- outbox delivery (the worker's sender) ----

  private outboxRow(id: number) {
    return and(eq(journeyOutbox.tenantId, this.s.tenantId), eq(journeyOutbox.id, id));
  }

  /**
   * The earliest pending message of one chat (bot + Telegram chat), row-locked with its journey id.
   * FOR UPDATE waits (no SKIP LOCKED): a concurrent sender of this chat finishes first, so messages
   * to one chat leave in id order even with many workers.
   */
  async nextPendingOutboxForChat(botId: string, telegramChatId: number) {
    const [row] = await this.s.db
      .select({ message: journeyOutbox, journeyId: journeyUserSessions.journeyId })
      .from(journeyOutbox)
      .leftJoin(journeyUserSessions, eq(journeyUserSessions.id, journeyOutbox.sessionId))
      .where(
        and(
          eq(journeyOutbox.tenantId, this.s.tenantId),
          eq(journeyOutbox.botId, botId),
          eq(journeyOutbox.telegramChatId, telegramChatId),
          eq(journeyOutbox.status, "pending"),
        ),
      )
      .orderBy(journeyOutbox.id)
      .limit(1)
      .for("update", { of: journeyOutbox });
    return row ?? null;
  }

  /** Returns whether another row of the same chat is still pending (a flush stops when none is). */
  async markOutboxSent(id: number): Promise<boolean> {
    const [row] = await this.s.db
      .update(journeyOutbox)
      .set({ status: "sent", sentAt: sql`now()`, attempts: sql`${journeyOutbox.attempts} + 1`, error: null })
      .where(this.outboxRow(id))
      .returning({ more: moreInChat });
    return row?.more ?? false;
  }

  /** Returns whether another row of the same chat is still pending, as markOutboxSent. */
  async markOutboxFailed(id: number, error: string): Promise<boolean> {
    const [row] = await this.s.db
      .update(journeyOutbox)
      .set({ status: "failed", attempts: sql`${journeyOutbox.attempts} + 1`, error: error.slice(0, 2000) })
      .where(this.outboxRow(id))
      .returning({ more: moreInChat });
    return row?.more ?? false;
  }

  /** A failed try that will be retried: the row stays pending, with the count and the last error. */
  async recordOutboxAttempt(id: number, error: string): Promise<void> {
    await this.s.db
      .update(journeyOutbox)
      .set({ attempts: sql`${journeyOutbox.attempts} + 1`, error: error.slice(0, 2000) })
      .where(this.outboxRow(id));
  }
}
