import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { columnsOf, prepared, runPrepared } from "../db/prepared.ts";
import {
  journeyOutbox,
  journeyScheduledMessages,
  journeySteps,
  journeys,
  journeyUserSessions,
  type SessionStatus,
} from "../db/schema.ts";
import { notFound } from "../errors.ts";
import { CLAIM_UPDATE_SQL } from "./bots.ts";
import { isUuid, LIVE_STATUSES, type Scope } from "./scope.ts";
import { currentAndNextStepJsonSql, type Step, withSteps } from "./steps.ts";

export type Session = typeof journeyUserSessions.$inferSelect;
export type ScheduledMessage = typeof journeyScheduledMessages.$inferSelect;
export type OutboxMessage = typeof journeyOutbox.$inferSelect;
/** A locked live session with its current step (null if it has none) and the live step after it. */
export interface LiveWithSteps {
  session: Session;
  step: Step | null;
  next: Step | null;
}

/** A live session read without a lock, with its row version (Postgres xmin) as read. */
export interface PeekedLive extends LiveWithSteps {
  version: string;
}

const liveStatus = inArray(journeyUserSessions.status, [...LIVE_STATUSES]);
const SESSION = columnsOf(journeyUserSessions);
const SESSION_S = columnsOf(journeyUserSessions, "s");
/** `$n` (when not null) is a step of the updated session's own journey. */
const stepOfSessionSql = (n: number) =>
  `($${n}::uuid IS NULL OR EXISTS (SELECT 1 FROM journey_steps st
     WHERE st.id = $${n}::uuid AND st.journey_id = journey_user_sessions.journey_id))`;

/** The live sessions of user `$n` on the journeys of bot $2, tenant $1 (`extra`: more columns first). */
const liveOnBotSql = (
  n: number,
  extra = "",
) => `SELECT ${extra}${SESSION_S} FROM journey_user_sessions s JOIN journeys j ON j.id = s.journey_id
  WHERE s.tenant_id = $1 AND j.tenant_id = $1 AND j.bot_id = $2 AND s.telegram_user_id = $${n}
    AND s.status IN (${LIVE_STATUSES.map((status) => `'${status}'`).join(", ")})`;
const liveForUserSql = `${liveOnBotSql(3)} ORDER BY s.last_activity_at DESC, s.started_at DESC`;
const LIVE_FOR_USER = prepared("live_for_user", liveForUserSql);
const LIVE_FOR_USER_LOCKED = prepared("live_for_user_locked", `${liveForUserSql} FOR UPDATE OF s`);

// An update's (bot, update_id) claim and, when it is new, the user's live sessions on the bot
// locked, each with its current step and the step after it — one round trip for a text update.
// The claim is counted first (the CTE runs once, before the lateral read); a duplicate reads no
// session. The steps are read from the session row as locked (a concurrent answer that moved it
// on first is seen: the second answer applies to the next step).
const CLAIM_AND_LOCK_LIVE = prepared(
  "update_claim_lock_live",
  `WITH claim AS (${CLAIM_UPDATE_SQL} RETURNING 1)
   SELECT c.claimed, live.*,
          ${currentAndNextStepJsonSql({ journeyId: 'live."journeyId"', currentStepId: 'live."currentStepId"' })}
     FROM (SELECT count(*)::int AS claimed FROM claim) c
     LEFT JOIN LATERAL (${liveOnBotSql(4)} AND c.claimed = 1 FOR UPDATE OF s) live ON true
    ORDER BY live."lastActivityAt" DESC, live."startedAt" DESC`,
);

// A session locked, with its journey's bot, its current step and the step after it.
const GET_LOCKED_WITH_BOT = prepared(
  "session_locked_with_bot",
  `SELECT locked.*, ${currentAndNextStepJsonSql({ journeyId: 'locked."journeyId"', currentStepId: 'locked."currentStepId"' })}
     FROM (SELECT ${SESSION_S}, j.bot_id AS "botId" FROM journey_user_sessions s JOIN journeys j ON j.id = s.journey_id
            WHERE s.tenant_id = $1 AND s.id = $2::uuid AND j.tenant_id = $1 FOR UPDATE OF s) locked`,
);

// Fields left out are kept: $4 says whether current_step_id is set (to $5, which may be NULL).
const UPDATE_SESSION = prepared(
  "session_update",
  `UPDATE journey_user_sessions SET status = coalesce($3::varchar, status),
     current_step_id = CASE WHEN $4::boolean THEN $5::uuid ELSE current_step_id END,
     answers = coalesce($6::jsonb, answers), last_activity_at = now(),
     completed_at = CASE WHEN $3::varchar = 'completed' THEN now() ELSE completed_at END
   WHERE tenant_id = $1 AND id = $2::uuid AND ${stepOfSessionSql(5)}
   RETURNING ${SESSION}`,
);

// Answer $4 stored under key $3 and the session moved to step $5 (NULL: the end).
const storeAnswerSql = `UPDATE journey_user_sessions
      SET answers = coalesce(answers, '{}'::jsonb) || jsonb_build_object($3::text, $4::jsonb),
          current_step_id = $5::uuid, last_activity_at = now()
    WHERE tenant_id = $1 AND id = $2::uuid AND ${stepOfSessionSql(5)}`;
const STORE_ANSWER = prepared("session_store_answer", `${storeAnswerSql} RETURNING ${SESSION}`);

// For a statement whose CTE `upd` wrote a session: text $text queued to its chat for bot $bot,
// and the session returned with the outbox row's id.
const sayAfterUpdSql = (bot: number, text: number) => `said AS (
     INSERT INTO journey_outbox (tenant_id, bot_id, session_id, telegram_chat_id, message_content)
     SELECT u."tenantId", $${bot}, u.id, u."telegramChatId", $${text}::jsonb FROM upd u
     RETURNING id)
   SELECT upd.*, (SELECT id FROM said) AS "outboxId" FROM upd`;

// An answer followed by a question, in one statement: store the answer, stand the session on the
// question ($5) and queue its text ($7) for bot $6 — nothing when the session, the step (of its
// journey) or the bot is not this tenant's.
const STORE_ANSWER_AND_ASK = prepared(
  "session_store_answer_and_ask",
  `WITH upd AS (
     ${storeAnswerSql} AND EXISTS (SELECT 1 FROM tenant_bots b WHERE b.tenant_id = $1 AND b.bot_id = $6)
     RETURNING ${SESSION}),
   ${sayAfterUpdSql(6, 7)}`,
);

// For an answer without a transaction: whether (bot $2, update $3) was already recorded, and the
// user's live sessions on the bot as they are now — not locked — each with its row version (xmin)
// and its current and next steps. Nothing is written.
const PEEK_LIVE = prepared(
  "update_peek_live",
  `SELECT (SELECT count(*) FROM processed_updates p WHERE p.bot_id = $2 AND p.update_id = $3::bigint)::int AS seen,
          live.*,
          ${currentAndNextStepJsonSql({ journeyId: 'live."journeyId"', currentStepId: 'live."currentStepId"' })}
     FROM (SELECT 1) one
     LEFT JOIN LATERAL (${liveOnBotSql(4, 's.xmin::text AS "version", ')}) live ON true
    ORDER BY live."lastActivityAt" DESC, live."startedAt" DESC`,
);

// For the statements below, which write a session read without a lock: it is still as read —
// row version $version, active on step $step — and bot $bot is this tenant's.
const asReadSql = (version: number, step: number, bot: number) =>
  `AND xmin = $${version}::text::xid AND status = 'active' AND current_step_id = $${step}::uuid
   AND EXISTS (SELECT 1 FROM tenant_bots b WHERE b.tenant_id = $1 AND b.bot_id = $${bot})`;
// …and, with what `upd` wrote, update $update of bot $bot recorded (a data-modifying CTE runs
// whether or not it is read) and text $text queued to the session's chat. An update recorded since
// the read fails the statement on its primary key.
const recordAndSaySql = (bot: number, update: number, text: number) => `claim AS (
     INSERT INTO processed_updates (bot_id, update_id, processed_at) SELECT $${bot}, $${update}::bigint, now() FROM upd),
   ${sayAfterUpdSql(bot, text)}`;

// STORE_ANSWER_AND_ASK for a session as read (version $8, step $9), recording update $10.
const STORE_ANSWER_AND_ASK_IF_UNCHANGED = prepared(
  "session_store_answer_and_ask_if_unchanged",
  `WITH upd AS (${storeAnswerSql} ${asReadSql(8, 9, 6)} RETURNING ${SESSION}),
   ${recordAndSaySql(6, 10, 7)}`,
);

// An invalid answer to a session as read (version $3, step $4): the session touched, the error
// text $7 queued for bot $5, update $6 recorded.
const REPROMPT_IF_UNCHANGED = prepared(
  "session_reprompt_if_unchanged",
  `WITH upd AS (
     UPDATE journey_user_sessions SET last_activity_at = now()
      WHERE tenant_id = $1 AND id = $2::uuid ${asReadSql(3, 4, 5)}
     RETURNING ${SESSION}),
   ${recordAndSaySql(5, 6, 7)}`,
);

const SCHEDULED = columnsOf(journeyScheduledMessages);
const getScheduledSql = `SELECT ${SCHEDULED} FROM journey_scheduled_messages WHERE tenant_id = $1 AND id = $2::uuid`;
const GET_SCHEDULED = {
  none: prepared("scheduled_get", getScheduledSql),
  wait: prepared("scheduled_get_locked", `${getScheduledSql} FOR UPDATE`),
  skipLocked: prepared("scheduled_get_skip_locked", `${getScheduledSql} FOR UPDATE SKIP LOCKED`),
};
// Inserted only when the session is this tenant's and the step belongs to its journey.
const SCHEDULE = prepared(
  "scheduled_insert",
  `INSERT INTO journey_scheduled_messages (tenant_id, session_id, step_id, telegram_chat_id, message_content, scheduled_for)
   SELECT s.tenant_id, s.id, st.id, $4::bigint, $5::jsonb, $6::timestamptz
     FROM journey_user_sessions s JOIN journey_steps st ON st.journey_id = s.journey_id
    WHERE s.tenant_id = $1 AND s.id = $2::uuid AND st.id = $3::uuid
   RETURNING ${SCHEDULED}`,
);
// A fired delay: its row marked sent and its session active again, in one statement.
const RESUME_FROM_DELAY = prepared(
  "session_resume_from_delay",
  `WITH fired AS (
     UPDATE journey_scheduled_messages SET status = 'sent', sent_at = now(), error = NULL
      WHERE tenant_id = $1 AND id = $3::uuid AND session_id = $2::uuid RETURNING 1)
   UPDATE journey_user_sessions SET status = 'active', last_activity_at = now()
    WHERE tenant_id = $1 AND id = $2::uuid AND EXISTS (SELECT 1 FROM fired)
   RETURNING ${SESSION}`,
);
const MARK_SCHEDULED_SENT = prepared(
  "scheduled_mark_sent",
  `UPDATE journey_scheduled_messages SET status = 'sent', sent_at = now(), error = NULL
    WHERE tenant_id = $1 AND id = $2::uuid`,
);

const OUTBOX = columnsOf(journeyOutbox);
// One statement: the row is inserted only when the bot (and the session, if any) is this tenant's.
const ADD_OUTBOX = prepared(
  "outbox_insert",
  `INSERT INTO journey_outbox (tenant_id, bot_id, session_id, telegram_chat_id, message_content)
   SELECT b.tenant_id, b.bot_id, $3::uuid, $4::bigint, $5::jsonb FROM tenant_bots b
    WHERE b.tenant_id = $1 AND b.bot_id = $2
      AND ($3::uuid IS NULL OR EXISTS (SELECT 1 FROM journey_user_sessions s WHERE s.tenant_id = $1 AND s.id = $3::uuid))
   RETURNING ${OUTBOX}`,
);
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

export class SessionsRepo {
  constructor(private readonly s: Scope) {}

  private mine(id: string) {
    return and(eq(journeyUserSessions.tenantId, this.s.tenantId), eq(journeyUserSessions.id, id));
  }

  async get(id: string, opts: { forUpdate?: boolean } = {}): Promise<Session> {
    if (!isUuid(id)) throw notFound("session");
    const q = this.s.db.select().from(journeyUserSessions).where(this.mine(id));
    const [row] = opts.forUpdate ? await q.for("update") : await q;
    if (!row) throw notFound("session");
    return row;
  }

  /**
   * A session row-locked, with its journey's bot id, its current step and the live step after it
   * (joined in, not further reads): what firing a delay needs before it resumes the session.
   */
  async getLockedWithBot(id: string): Promise<LiveWithSteps & { botId: string }> {
    if (!isUuid(id)) throw notFound("session");
    const [row] = await runPrepared<Session & { botId: string; stepJson: unknown; nextJson: unknown }>(
      this.s.db,
      GET_LOCKED_WITH_BOT,
      [this.s.tenantId, id],
    );
    if (!row) throw notFound("session");
    const { rest, step, next } = withSteps(row);
    const { botId, ...session } = rest;
    return { session, botId, step, next };
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
    return runPrepared<Session>(this.s.db, opts.forUpdate ? LIVE_FOR_USER_LOCKED : LIVE_FOR_USER, [
      this.s.tenantId,
      botId,
      telegramUserId,
    ]);
  }

  /**
   * Claim (bot, update_id) and lock the user's live sessions on the bot, most recently active
   * first, in one statement: `claimed` false means the update was already recorded (or the bot is
   * not this tenant's — the caller tells the two apart), and then no session is read.
   */
  async claimUpdateLockingLive(
    botId: string,
    updateId: number,
    telegramUserId: number,
  ): Promise<{ claimed: boolean; live: LiveWithSteps[] }> {
    const rows = await runPrepared<Session & { claimed: number; stepJson: unknown; nextJson: unknown }>(
      this.s.db,
      CLAIM_AND_LOCK_LIVE,
      [this.s.tenantId, botId, updateId, telegramUserId],
    );
    const claimed = rows[0]?.claimed === 1;
    const live = rows
      .filter((r) => r.id !== null)
      .map((r) => {
        const { rest, step, next } = withSteps(r);
        const { claimed: _, ...session } = rest;
        return { session, step, next };
      });
    return { claimed, live };
  }

  /**
   * Without locking or writing: whether the update was already recorded (`seen`), and the user's
   * live sessions on the bot, most recently active first, each with its row version and steps.
   */
  async peekLive(
    botId: string,
    updateId: number,
    telegramUserId: number,
  ): Promise<{ seen: boolean; live: PeekedLive[] }> {
    const rows = await runPrepared<Session & { seen: number; version: string; stepJson: unknown; nextJson: unknown }>(
      this.s.db,
      PEEK_LIVE,
      [this.s.tenantId, botId, updateId, telegramUserId],
    );
    const live = rows
      .filter((r) => r.id !== null)
      .map((r) => {
        const { rest, step, next } = withSteps(r);
        const { seen: _, version, ...session } = rest;
        return { session, step, next, version };
      });
    return { seen: (rows[0]?.seen ?? 0) > 0, live };
  }

  /**
   * storeAnswerAndAsk for a session read by peekLive, in one statement with no transaction around
   * it: applied only if the session is still at `version` (active on `stepId`), and then update
   * `updateId` of the bot is recorded with it. Null when the session changed since it was read;
   * a Postgres unique violation (23505) when the update was recorded since.
   */
  async storeAnswerAndAskIfUnchanged(
    seen: { id: string; version: string; stepId: string },
    updateId: number,
    answerKey: string,
    value: unknown,
    question: { stepId: string; botId: string; text: string },
  ): Promise<{ session: Session; outboxId: number } | null> {
    if (!isUuid(seen.id) || !isUuid(seen.stepId) || !isUuid(question.stepId)) return null;
    const [row] = await runPrepared<Session & { outboxId: number }>(this.s.db, STORE_ANSWER_AND_ASK_IF_UNCHANGED, [
      this.s.tenantId,
      seen.id,
      answerKey,
      JSON.stringify(value),
      question.stepId,
      question.botId,
      JSON.stringify({ text: question.text }),
      seen.version,
      seen.stepId,
      updateId,
    ]);
    if (!row) return null;
    const { outboxId, ...session } = row;
    return { session, outboxId };
  }

  /**
   * An invalid answer's re-prompt for a session read by peekLive, in one statement: applied only if
   * the session is still at `version` (active on `stepId`): it is touched, `text` is queued to its
   * chat and `updateId` recorded. As storeAnswerAndAskIfUnchanged: null when the session changed,
   * a unique violation when the update was recorded since.
   */
  async repromptIfUnchanged(
    seen: { id: string; version: string; stepId: string },
    updateId: number,
    botId: string,
    text: string,
  ): Promise<{ session: Session; outboxId: number } | null> {
    if (!isUuid(seen.id) || !isUuid(seen.stepId)) return null;
    const [row] = await runPrepared<Session & { outboxId: number }>(this.s.db, REPROMPT_IF_UNCHANGED, [
      this.s.tenantId,
      seen.id,
      seen.version,
      seen.stepId,
      botId,
      updateId,
      JSON.stringify({ text }),
    ]);
    if (!row) return null;
    const { outboxId, ...session } = row;
    return { session, outboxId };
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
    if (currentStepId && !isUuid(currentStepId)) throw notFound("session or step");
    const [row] = await runPrepared<Session>(this.s.db, UPDATE_SESSION, [
      this.s.tenantId,
      id,
      status ?? null,
      currentStepId !== undefined,
      currentStepId ?? null,
      answers === undefined ? null : JSON.stringify(answers),
    ]);
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
    if (!isUuid(id) || (nextStepId !== null && !isUuid(nextStepId))) throw notFound("session");
    const [row] = await runPrepared<Session>(this.s.db, STORE_ANSWER, [
      this.s.tenantId,
      id,
      answerKey,
      JSON.stringify(value),
      nextStepId,
    ]);
    if (!row) throw notFound(nextStepId ? "session or step" : "session");
    return row;
  }

  /**
   * storeAnswerAndAdvance onto the question `questionStepId` and addOutbox of its text for `botId`,
   * in one statement (an answer followed by a question is the most frequent transition).
   */
  async storeAnswerAndAsk(
    id: string,
    answerKey: string,
    value: unknown,
    question: { stepId: string; botId: string; text: string },
  ): Promise<{ session: Session; outboxId: number }> {
    if (!isUuid(id) || !isUuid(question.stepId)) throw notFound("session");
    const [row] = await runPrepared<Session & { outboxId: number }>(this.s.db, STORE_ANSWER_AND_ASK, [
      this.s.tenantId,
      id,
      answerKey,
      JSON.stringify(value),
      question.stepId,
      question.botId,
      JSON.stringify({ text: question.text }),
    ]);
    if (!row) throw notFound("session, step or bot");
    const { outboxId, ...session } = row;
    return { session, outboxId };
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
    const [row] =
      isUuid(input.sessionId) && isUuid(input.stepId)
        ? await runPrepared<ScheduledMessage>(this.s.db, SCHEDULE, [
            this.s.tenantId,
            input.sessionId,
            input.stepId,
            input.telegramChatId,
            JSON.stringify(input.payload),
            input.scheduledFor,
          ])
        : [];
    if (!row) throw notFound("session or step");
    return row;
  }

  async getScheduled(id: string, opts: { forUpdate?: "wait" | "skipLocked" } = {}): Promise<ScheduledMessage | null> {
    if (!isUuid(id)) return null;
    const [row] = await runPrepared<ScheduledMessage>(this.s.db, GET_SCHEDULED[opts.forUpdate ?? "none"], [
      this.s.tenantId,
      id,
    ]);
    return row ?? null;
  }

  /** markScheduledSent of delay row `scheduledId` and the session made active again, in one statement. */
  async resumeFromDelay(sessionId: string, scheduledId: string): Promise<Session> {
    if (!isUuid(sessionId) || !isUuid(scheduledId)) throw notFound("session");
    const [row] = await runPrepared<Session>(this.s.db, RESUME_FROM_DELAY, [this.s.tenantId, sessionId, scheduledId]);
    if (!row) throw notFound("session or scheduled message");
    return row;
  }

  async markScheduledSent(id: string): Promise<void> {
    if (!isUuid(id)) return;
    await runPrepared(this.s.db, MARK_SCHEDULED_SENT, [this.s.tenantId, id]);
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
    const [row] = await runPrepared<OutboxMessage>(this.s.db, ADD_OUTBOX, [
      this.s.tenantId,
      input.botId,
      sessionId,
      input.telegramChatId,
      JSON.stringify({ text: input.text }),
    ]);
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

  /** Returns whether another row of the same chat is still pending (a flush stops when none is). */
  async markOutboxSent(id: number): Promise<boolean> {
    const [row] = await runPrepared<{ more: boolean }>(this.s.db, MARK_OUTBOX_SENT, [this.s.tenantId, id]);
    return row?.more ?? false;
  }

  /** Returns whether another row of the same chat is still pending, as markOutboxSent. */
  async markOutboxFailed(id: number, error: string): Promise<boolean> {
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
  async recordOutboxAttempt(id: number, error: string): Promise<void> {
    await this.s.db
      .update(journeyOutbox)
      .set({ attempts: sql`${journeyOutbox.attempts} + 1`, error: error.slice(0, 2000), claimedUntil: null })
      .where(this.outboxRow(id));
  }
}
