/**
 * The hot statements: what an answer, a /start, a fired delay and a send run, as named prepared statements.
 *
 * Rule: these statements READ the state transition() needs and WRITE the result it returned. They
 * decide nothing. The one condition of the lock-free write is the session's row version (`xmin`) as
 * it was read: the fast path applies a result only to the row it was computed from, and otherwise
 * falls back to the locking transaction. Anything else that looks like a condition here is a switch
 * set by a parameter (record this update or not, cancel pending rows or not), or a tenancy guard
 * (only the tenant's own bot, the session's own journey's steps). A rule written here
 * is a bug even if its tests pass; packages/journeys/test/engine/parity.test.ts checks that the
 * locking and the lock-free path leave the same rows.
 */
import { type Named, named } from "../db/named.ts";
import { columnsOf } from "../db/prepared.ts";
import { journeyOutbox, journeyScheduledMessages, journeyUserSessions, LIVE_STATUSES } from "../db/schema.ts";

const SESSION_S = columnsOf(journeyUserSessions, "s");
export const liveStatusSql = (column: string) =>
  `${column} IN (${LIVE_STATUSES.map((status) => `'${status}'`).join(", ")})`;

/** With a session row: its version and what the engine needs of its journey (steps version, policy). */
const SESSION_AND_JOURNEY = `s.xmin::text AS "version", j.steps_version AS "stepsVersion",
  j.re_entry_policy AS "reEntryPolicy", j.bot_id AS "botId", ${SESSION_S}`;

/** The live sessions of user :user_id on the journeys of bot :bot_id, tenant :tenant_id. */
const liveOnBotSql = `SELECT ${SESSION_AND_JOURNEY}
   FROM journey_user_sessions s JOIN journeys j ON j.id = s.journey_id
  WHERE s.tenant_id = :tenant_id AND j.tenant_id = :tenant_id AND j.bot_id = :bot_id
    AND s.telegram_user_id = :user_id AND ${liveStatusSql("s.status")}`;
/** Most recently active first: the order in which a text looks for the session it answers. */
const RECENT_FIRST = `ORDER BY live."lastActivityAt" DESC, live."startedAt" DESC`;

/** Claim (bot, update) for tenant :tenant_id: inserts nothing for another tenant's bot or a claim made. */
export const CLAIM_UPDATE_SQL = `INSERT INTO processed_updates (bot_id, update_id, processed_at)
   SELECT b.bot_id, :update_id::bigint, now() FROM tenant_bots b WHERE b.tenant_id = :tenant_id AND b.bot_id = :bot_id
   ON CONFLICT DO NOTHING`;

/** Without locking or writing: whether the update was recorded, and the user's live sessions on the bot. */
export const PEEK_LIVE = named<"tenant_id" | "bot_id" | "update_id" | "user_id">(
  "hot_peek_live",
  `SELECT (SELECT count(*) FROM processed_updates p JOIN tenant_bots b ON b.bot_id = p.bot_id AND b.tenant_id = :tenant_id
             WHERE p.bot_id = :bot_id AND p.update_id = :update_id::bigint)::int AS seen,
          live.*
     FROM (SELECT 1) one LEFT JOIN LATERAL (${liveOnBotSql}) live ON true ${RECENT_FIRST}`,
);

/**
 * The update claimed and, when it is new, the user's live sessions on the bot locked, in one round
 * trip. The claim runs first (a CTE runs once, before the lateral read); a duplicate locks nothing.
 */
export const CLAIM_AND_LOCK_LIVE = named<"tenant_id" | "bot_id" | "update_id" | "user_id">(
  "hot_claim_lock_live",
  `WITH claim AS (${CLAIM_UPDATE_SQL} RETURNING 1)
   SELECT c.claimed, live.* FROM (SELECT count(*)::int AS claimed FROM claim) c
     LEFT JOIN LATERAL (${liveOnBotSql} AND c.claimed = 1 FOR UPDATE OF s) live ON true ${RECENT_FIRST}`,
);

/** The user's live sessions on the bot, locked (a user who blocked the bot). */
export const LOCK_LIVE_ON_BOT = named<"tenant_id" | "bot_id" | "user_id">(
  "hot_lock_live_on_bot",
  `SELECT live.* FROM (${liveOnBotSql} FOR UPDATE OF s) live ${RECENT_FIRST}`,
);

/** The user's live session in one journey, locked (a /start). */
export const LOCK_LIVE_IN_JOURNEY = named<"tenant_id" | "journey_id" | "user_id">(
  "hot_lock_live_in_journey",
  `SELECT ${SESSION_AND_JOURNEY} FROM journey_user_sessions s JOIN journeys j ON j.id = s.journey_id
    WHERE s.tenant_id = :tenant_id AND j.tenant_id = :tenant_id AND s.journey_id = :journey_id::uuid
      AND s.telegram_user_id = :user_id AND ${liveStatusSql("s.status")} FOR UPDATE OF s`,
);

/** A session by id, locked, with its journey's bot (a fired delay, a message Telegram refused). */
export const LOCK_SESSION = named<"tenant_id" | "session_id">(
  "hot_lock_session",
  `SELECT ${SESSION_AND_JOURNEY} FROM journey_user_sessions s JOIN journeys j ON j.id = s.journey_id
    WHERE s.tenant_id = :tenant_id AND j.tenant_id = :tenant_id AND s.id = :session_id::uuid FOR UPDATE OF s`,
);

/**
 * What a result asks to be written besides the session row, so a statement holds only the parts it
 * needs (each part is a CTE Postgres would otherwise set up and gate on every call: the most frequent
 * write, an answer followed by a question, needs only `claim` and the messages).
 */
export interface WriteParts {
  /** Record the Telegram update with the write (the lock-free path). */
  claim: boolean;
  /** Cancel the session's pending delay rows and unsent messages. */
  cancel: boolean;
  /** Insert delay rows. */
  schedule: boolean;
  /** Mark the fired delay row. */
  fired: boolean;
}

/**
 * After the CTE `upd` (the session written, with id, tenant_id, journey_id, telegram_chat_id): the
 * update recorded, the session's pending rows cancelled, its messages queued in order, its delay rows
 * inserted, and the fired delay row marked — as `parts` says. The joins on tenant_bots and
 * journey_steps are tenancy guards, not rules: rows only for the tenant's own bot and the session's
 * own journey, whatever result is handed in.
 */
const writeAfterUpd = (parts: WriteParts) =>
  [
    `bot AS (SELECT b.bot_id FROM tenant_bots b, upd WHERE b.tenant_id = upd.tenant_id AND b.bot_id = :bot_id)`,
    parts.claim &&
      `claim AS (
     INSERT INTO processed_updates (bot_id, update_id, processed_at) SELECT bot.bot_id, :update_id::bigint, now() FROM bot)`,
    parts.cancel &&
      `cancel_delays AS (
     UPDATE journey_scheduled_messages d SET status = 'cancelled', error = 'session cancelled: ' || :cancel_reason::text
       FROM upd WHERE d.tenant_id = upd.tenant_id AND d.session_id = upd.id AND d.status = 'pending'),
   cancel_outbox AS (
     UPDATE journey_outbox o SET status = 'cancelled', error = 'session cancelled: ' || :cancel_reason::text
       FROM upd WHERE o.tenant_id = upd.tenant_id AND o.session_id = upd.id AND o.status = 'pending')`,
    `said AS (
     INSERT INTO journey_outbox (tenant_id, bot_id, session_id, telegram_chat_id, message_content)
     SELECT upd.tenant_id, bot.bot_id, upd.id, upd.telegram_chat_id, m.content
       FROM upd, bot, jsonb_array_elements(:outbox::jsonb) WITH ORDINALITY m(content, n) ORDER BY m.n
     RETURNING id)`,
    parts.schedule &&
      `sched AS (
     INSERT INTO journey_scheduled_messages (tenant_id, session_id, step_id, telegram_chat_id, message_content, scheduled_for)
     SELECT upd.tenant_id, upd.id, st.id, upd.telegram_chat_id, r.payload, r."scheduledFor"
       FROM upd CROSS JOIN jsonb_to_recordset(:schedule::jsonb) AS r("stepId" uuid, payload jsonb, "scheduledFor" timestamptz)
       JOIN journey_steps st ON st.id = r."stepId" AND st.journey_id = upd.journey_id
     RETURNING id, scheduled_for)`,
    parts.fired &&
      `fired AS (
     UPDATE journey_scheduled_messages f SET status = :fired_status::varchar, error = :fired_error::text,
            sent_at = CASE WHEN :fired_status::varchar = 'sent' THEN now() ELSE f.sent_at END
      WHERE f.tenant_id = :tenant_id AND f.id = :fired_id::uuid)`,
  ]
    .filter(Boolean)
    .join(",\n   ") +
  `
   SELECT (SELECT id FROM upd) AS "sessionId",
          (SELECT coalesce(json_agg(id ORDER BY id), '[]'::json) FROM said) AS "outboxIds",
          ${parts.schedule ? `(SELECT coalesce(json_agg(json_build_object('id', id, 'scheduledFor', scheduled_for)), '[]'::json) FROM sched)` : `'[]'::json`} AS "scheduled"`;

type WriteParams =
  | "tenant_id"
  | "bot_id"
  | "update_id"
  | "cancel_reason"
  | "outbox"
  | "schedule"
  | "fired_status"
  | "fired_error"
  | "fired_id";
type StateParams = "status" | "current_step_id" | "completed_at" | "last_activity_at" | "step_entered_at" | "context";

/** One prepared statement per shape, made the first time a result needs it. */
function byParts<P extends string>(name: string, head: string) {
  const made = new Map<string, Named<P>>();
  return (parts: WriteParts): Named<P> => {
    const key = (["claim", "cancel", "schedule", "fired"] as const).map((k) => (parts[k] ? k[0] : "_")).join("");
    let statement = made.get(key);
    if (!statement) {
      statement = named<P>(`${name}_${key}`, `WITH upd AS (${head}),\n   ${writeAfterUpd(parts)}`);
      made.set(key, statement);
    }
    return statement;
  };
}

/**
 * A session row becomes the state transition() returned (answers: the keys it stored merged in),
 * only if its version is still :version (the lock-free path; NULL under the row lock), with the rows
 * of writeAfterUpd. No row written: the session changed since it was read, and nothing else was.
 */
export const APPLY_UPDATE = byParts<WriteParams | StateParams | "session_id" | "version" | "answers_set">(
  "hot_apply_update",
  `UPDATE journey_user_sessions s
        SET status = :status::varchar, current_step_id = :current_step_id::uuid,
            answers = coalesce(s.answers, '{}'::jsonb) || :answers_set::jsonb,
            completed_at = :completed_at::timestamptz, last_activity_at = :last_activity_at::timestamptz,
            step_entered_at = :step_entered_at::timestamptz, context = :context::jsonb
      WHERE s.tenant_id = :tenant_id AND s.id = :session_id::uuid
        AND (:version::text IS NULL OR s.xmin = :version::text::xid)
        AND (:current_step_id::uuid IS NULL OR EXISTS (SELECT 1 FROM journey_steps st
              WHERE st.id = :current_step_id::uuid AND st.journey_id = s.journey_id))
     RETURNING s.id, s.tenant_id, s.journey_id, s.telegram_chat_id`,
);

/**
 * A new session with the state transition() returned, and its rows. The partial unique index on live
 * sessions arbitrates a concurrent start: the loser inserts nothing (no "sessionId"), and re-reads.
 */
export const APPLY_INSERT = byParts<
  WriteParams | StateParams | "journey_id" | "user_id" | "chat_id" | "answers_set" | "started_at"
>(
  "hot_apply_insert",
  `INSERT INTO journey_user_sessions (tenant_id, journey_id, telegram_user_id, telegram_chat_id, status,
                                        current_step_id, answers, started_at, completed_at, last_activity_at,
                                        step_entered_at, context)
     SELECT j.tenant_id, j.id, :user_id::bigint, :chat_id::bigint, :status::varchar, :current_step_id::uuid,
            :answers_set::jsonb, :started_at::timestamptz, :completed_at::timestamptz, :last_activity_at::timestamptz,
            :step_entered_at::timestamptz, :context::jsonb
       FROM journeys j WHERE j.tenant_id = :tenant_id AND j.id = :journey_id::uuid
       AND (:current_step_id::uuid IS NULL OR EXISTS (SELECT 1 FROM journey_steps st
             WHERE st.id = :current_step_id::uuid AND st.journey_id = j.id))
     ON CONFLICT (journey_id, telegram_user_id) WHERE ${liveStatusSql("status")} DO NOTHING
     RETURNING id, tenant_id, journey_id, telegram_chat_id`,
);

/**
 * What the bot says outside any session (a welcome, /help, a stale button's notice): rows of the chat
 * with no session, in order, only for the tenant's own bot.
 */
export const INSERT_CHAT_REPLIES = named<"tenant_id" | "bot_id" | "chat_id" | "outbox">(
  "hot_insert_chat_replies",
  `INSERT INTO journey_outbox (tenant_id, bot_id, session_id, telegram_chat_id, message_content)
   SELECT b.tenant_id, b.bot_id, NULL, :chat_id::bigint, m.content
     FROM tenant_bots b, jsonb_array_elements(:outbox::jsonb) WITH ORDINALITY m(content, n)
    WHERE b.tenant_id = :tenant_id AND b.bot_id = :bot_id ORDER BY m.n
   RETURNING id`,
);

/** The fired delay row marked alone (its session is not written: it no longer waits on the delay). */
export const MARK_FIRED = named<"tenant_id" | "fired_id" | "fired_status" | "fired_error">(
  "hot_mark_fired",
  `UPDATE journey_scheduled_messages f SET status = :fired_status::varchar, error = :fired_error::text,
          sent_at = CASE WHEN :fired_status::varchar = 'sent' THEN now() ELSE f.sent_at END
    WHERE f.tenant_id = :tenant_id AND f.id = :fired_id::uuid`,
);

// ---- the send path (delivery/send-outbox.ts) ----

/**
 * One statement, no transaction: find row :outbox_id's chat and, if it is bot :bot_id's (the bot whose send
 * place the caller holds), row-lock that chat's earliest pending row (waiting for a concurrent
 * claim or mark of it, never for a send) and lease it for :lease_ms ms — unless another sender's lease on
 * it still runs, or it is another row's retry (`attempts` > 0: its own job sends it, on its own
 * backoff). Returns the job's row and what was found, claimed or not. The chat goes into `next` as
 * scalars, not as a join with `own`: joined, the generic plan walked every pending row of the bot.
 */
export const CLAIM_OUTBOX = named<"outbox_id" | "lease_ms" | "bot_id">(
  "hot_outbox_claim",
  `WITH own AS (
     SELECT tenant_id, bot_id, telegram_chat_id, status FROM journey_outbox WHERE id = :outbox_id
   ), next AS (
     SELECT o.id, o.attempts, o.claimed_until FROM journey_outbox o
      WHERE o.bot_id = :bot_id AND o.status = 'pending'
        AND o.telegram_chat_id = (SELECT telegram_chat_id FROM own WHERE bot_id = :bot_id)
        AND o.tenant_id = (SELECT tenant_id FROM own)
      ORDER BY o.id LIMIT 1 FOR UPDATE
   ), claimed AS (
     UPDATE journey_outbox m SET claimed_until = now() + make_interval(secs => (:lease_ms)::int / 1000.0)
       FROM next
      WHERE m.id = next.id AND (next.claimed_until IS NULL OR next.claimed_until <= now())
        AND (next.attempts = 0 OR next.id = :outbox_id)
     RETURNING ${columnsOf(journeyOutbox, "m")}
   )
   SELECT claimed.*, claimed.id IS NOT NULL AS "isClaimed",
          own.tenant_id AS "tenantId", own.bot_id AS "botId", own.telegram_chat_id AS "telegramChatId",
          own.status AS "ownStatus", next.id AS "nextId", next.attempts AS "nextAttempts",
          ceil(extract(epoch FROM next.claimed_until - now()) * 1000)::int AS "leaseLeftMs",
          (SELECT s.journey_id FROM journey_user_sessions s WHERE s.id = claimed."sessionId") AS "journeyId"
     FROM own LEFT JOIN next ON true LEFT JOIN claimed ON true`,
);

/** For an updated outbox row: does another row of its chat wait? Saves a flush one empty transaction. */
const moreInChatSql = `exists (select 1 from journey_outbox o where o.tenant_id = journey_outbox.tenant_id
  and o.bot_id = journey_outbox.bot_id and o.telegram_chat_id = journey_outbox.telegram_chat_id
  and o.status = 'pending' and o.id <> journey_outbox.id) AS more`;
export const MARK_OUTBOX_SENT = named<"tenant_id" | "outbox_id">(
  "hot_outbox_mark_sent",
  `UPDATE journey_outbox SET status = 'sent', sent_at = now(), attempts = attempts + 1, error = NULL,
          claimed_until = NULL
    WHERE tenant_id = :tenant_id AND id = :outbox_id RETURNING ${moreInChatSql}`,
);
export const MARK_OUTBOX_FAILED = named<"tenant_id" | "outbox_id" | "error">(
  "hot_outbox_mark_failed",
  `UPDATE journey_outbox SET status = 'failed', attempts = attempts + 1, error = :error, claimed_until = NULL
    WHERE tenant_id = :tenant_id AND id = :outbox_id RETURNING ${moreInChatSql}`,
);

// ---- the fire path (delivery/fire-scheduled.ts) ----

const getScheduledSql = `SELECT ${columnsOf(journeyScheduledMessages)} FROM journey_scheduled_messages
  WHERE tenant_id = :tenant_id AND id = :scheduled_id::uuid`;
/** A delay row by id: read, locked, or claimed unless another worker holds it (a fired delay). */
export const GET_SCHEDULED = {
  none: named<"tenant_id" | "scheduled_id">("hot_scheduled_get", getScheduledSql),
  wait: named<"tenant_id" | "scheduled_id">("hot_scheduled_get_locked", `${getScheduledSql} FOR UPDATE`),
  skipLocked: named<"tenant_id" | "scheduled_id">(
    "hot_scheduled_get_skip_locked",
    `${getScheduledSql} FOR UPDATE SKIP LOCKED`,
  ),
};
