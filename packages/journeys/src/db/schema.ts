/**
 * Drizzle schema: the seed's five tables column for column (section A), plus the tables the seed
 * assumed an existing app had: tenant_bots, processed_updates (update dedupe) and journey_outbox
 * (every outgoing Telegram message is a row before anything tries to send it).
 * Timestamps are timestamptz so they never shift with a server or client time zone.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
  varchar,
} from "drizzle-orm/pg-core";
import type { OutItem } from "../engine/types.ts";

export const JOURNEY_STATUSES = ["draft", "active", "paused", "archived"] as const;
export const RE_ENTRY_POLICIES = ["allow", "block", "restart"] as const;
export const TRIGGER_TYPES = ["telegram_deeplink", "stripe_event", "manual"] as const;
export const STEP_TYPES = ["message", "question", "delay", "conditional"] as const;
export const SESSION_STATUSES = ["active", "completed", "expired", "cancelled", "waiting_delay"] as const;
/** The statuses in which a session is live: at most one per (journey, user), by the partial unique index below. */
export const LIVE_STATUSES = ["active", "waiting_delay"] as const satisfies readonly SessionStatus[];
export const SCHEDULED_STATUSES = ["pending", "sent", "failed", "cancelled"] as const;

export type JourneyStatus = (typeof JOURNEY_STATUSES)[number];
export type ReEntryPolicy = (typeof RE_ENTRY_POLICIES)[number];
export type TriggerType = (typeof TRIGGER_TYPES)[number];
export type StepType = (typeof STEP_TYPES)[number];
export type SessionStatus = (typeof SESSION_STATUSES)[number];
export type ScheduledStatus = (typeof SCHEDULED_STATUSES)[number];

/** CHECK (col IN ('a','b')) with literal values, so drizzle-kit writes runnable SQL. */
function oneOf(column: string, values: readonly string[]) {
  return sql.raw(`${column} IN (${values.map((v) => `'${v}'`).join(", ")})`);
}

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const tenantBots = pgTable(
  "tenant_bots",
  {
    botId: varchar("bot_id").primaryKey(),
    tenantId: varchar("tenant_id").notNull(),
    telegramBotId: bigint("telegram_bot_id", { mode: "number" }).notNull(),
    username: varchar("username").notNull(),
    firstName: varchar("first_name").notNull().default(""),
    /** AES-256-GCM: base64(iv).base64(tag).base64(ciphertext) */
    tokenEncrypted: text("token_encrypted").notNull(),
    /** SHA-256 (hex) of the webhook's secret_token: the secret itself is shown once, when set, and never stored. */
    webhookSecret: varchar("webhook_secret").notNull(),
    /** The bot's own texts (SPEC §10 "Bot texts"); NULL: the default in engine/bot-texts.ts. */
    welcomeText: text("welcome_text"),
    unknownLinkText: text("unknown_link_text"),
    helpText: text("help_text"),
    waitingText: text("waiting_text"),
    unavailableText: text("unavailable_text"),
    /**
     * Set when Telegram answered 401 for the bot's token (revoked or replaced): its sends pause, rows
     * kept pending, until the tenant connects the bot again with a valid token (which clears it).
     */
    unauthorizedAt: ts("unauthorized_at"),
    createdAt: ts("created_at").notNull().defaultNow(),
    updatedAt: ts("updated_at").notNull().defaultNow(),
  },
  (t) => [
    index("tenant_bots_tenant_idx").on(t.tenantId),
    uniqueIndex("tenant_bots_telegram_bot_id_uq").on(t.telegramBotId),
    check("tenant_bots_bot_id_chk", sql`${t.botId} ~ '^[A-Za-z0-9_-]{1,64}$'`),
  ],
);

export const journeys = pgTable(
  "journeys",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: varchar("tenant_id").notNull(),
    botId: varchar("bot_id").notNull(),
    name: varchar("name").notNull(),
    description: text("description"),
    status: varchar("status").notNull().default("draft").$type<JourneyStatus>(),
    reEntryPolicy: varchar("re_entry_policy").notNull().default("block").$type<ReEntryPolicy>(),
    /**
     * Bumped by every change of the journey's steps (PUT …/steps), in the same transaction: the
     * engine's processes cache a journey's steps by (id, steps_version) and read this column with
     * every session, so a cached copy is used only while it is current.
     */
    stepsVersion: integer("steps_version").notNull().default(0),
    createdAt: ts("created_at").defaultNow(),
    updatedAt: ts("updated_at").defaultNow(),
  },
  (t) => [
    index("journeys_tenant_status_idx").on(t.tenantId, t.status),
    check("journeys_status_chk", oneOf("status", JOURNEY_STATUSES)),
    check("journeys_re_entry_policy_chk", oneOf("re_entry_policy", RE_ENTRY_POLICIES)),
  ],
);

export const journeyTriggers = pgTable(
  "journey_triggers",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    journeyId: uuid("journey_id")
      .notNull()
      .references(() => journeys.id, { onDelete: "cascade" }),
    triggerType: varchar("trigger_type").notNull().$type<TriggerType>(),
    triggerConfig: jsonb("trigger_config").notNull().$type<Record<string, unknown>>(),
    isActive: boolean("is_active").default(true),
  },
  (t) => [
    index("journey_triggers_journey_type_active_idx").on(t.journeyId, t.triggerType, t.isActive),
    check("journey_triggers_type_chk", oneOf("trigger_type", TRIGGER_TYPES)),
  ],
);

export const journeySteps = pgTable(
  "journey_steps",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    journeyId: uuid("journey_id")
      .notNull()
      .references(() => journeys.id, { onDelete: "cascade" }),
    stepOrder: integer("step_order").notNull(),
    stepType: varchar("step_type").notNull().$type<StepType>(),
    config: jsonb("config").notNull().$type<Record<string, unknown>>(),
    /** Optional stable name (`[a-z0-9_]{1,64}`, unique among the journey's live steps; checked on write). */
    key: varchar("key", { length: 64 }),
    createdAt: ts("created_at").defaultNow(),
    /** Set when PUT …/steps drops a step that history (sessions, scheduled rows) still references. */
    removedAt: ts("removed_at"),
  },
  (t) => [
    index("journey_steps_journey_order_idx").on(t.journeyId, t.stepOrder),
    check("journey_steps_type_chk", oneOf("step_type", STEP_TYPES)),
  ],
);

export const journeyUserSessions = pgTable(
  "journey_user_sessions",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: varchar("tenant_id").notNull(),
    journeyId: uuid("journey_id")
      .notNull()
      .references(() => journeys.id, { onDelete: "cascade" }),
    telegramChatId: bigint("telegram_chat_id", { mode: "number" }).notNull(),
    telegramUserId: bigint("telegram_user_id", { mode: "number" }).notNull(),
    currentStepId: uuid("current_step_id").references(() => journeySteps.id),
    status: varchar("status").notNull().default("active").$type<SessionStatus>(),
    answers: jsonb("answers").default(sql`'{}'::jsonb`).$type<Record<string, unknown>>(),
    startedAt: ts("started_at").defaultNow(),
    completedAt: ts("completed_at"),
    lastActivityAt: ts("last_activity_at").defaultNow(),
    /** When the session arrived at its current step (an edited answer counts only if sent after it). */
    stepEnteredAt: ts("step_entered_at"),
    /**
     * What the session knows besides answers: `user` (first_name, last_name, username, language_code
     * from the update that started it), `trigger` (the deep-link parameter), and small flags.
     */
    context: jsonb("context").notNull().default(sql`'{}'::jsonb`).$type<Record<string, unknown>>(),
  },
  (t) => [
    index("journey_user_sessions_tenant_journey_user_status_idx").on(
      t.tenantId,
      t.journeyId,
      t.telegramUserId,
      t.status,
    ),
    index("journey_user_sessions_tenant_user_status_idx").on(t.tenantId, t.telegramUserId, t.status),
    uniqueIndex("journey_user_sessions_one_live_uq")
      .on(t.journeyId, t.telegramUserId)
      .where(sql.raw(`status IN (${LIVE_STATUSES.map((x) => `'${x}'`).join(", ")})`)),
    check("journey_user_sessions_status_chk", oneOf("status", SESSION_STATUSES)),
  ],
);

export const journeyScheduledMessages = pgTable(
  "journey_scheduled_messages",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    tenantId: varchar("tenant_id").notNull(),
    sessionId: uuid("session_id")
      .notNull()
      .references(() => journeyUserSessions.id, { onDelete: "cascade" }),
    stepId: uuid("step_id")
      .notNull()
      .references(() => journeySteps.id),
    telegramChatId: bigint("telegram_chat_id", { mode: "number" }).notNull(),
    messageContent: jsonb("message_content").notNull().$type<Record<string, unknown>>(),
    scheduledFor: ts("scheduled_for").notNull(),
    status: varchar("status").notNull().default("pending").$type<ScheduledStatus>(),
    sentAt: ts("sent_at"),
    error: text("error"),
  },
  (t) => [
    index("journey_scheduled_messages_status_scheduled_idx").on(t.status, t.scheduledFor),
    index("journey_scheduled_messages_tenant_status_scheduled_idx").on(t.tenantId, t.status, t.scheduledFor),
    check("journey_scheduled_messages_status_chk", oneOf("status", SCHEDULED_STATUSES)),
  ],
);

/**
 * Telegram re-delivers an update on any non-2xx or slow answer: a row here, inserted in the same
 * transaction as the update's effects, makes each (bot, update_id) take effect at most once.
 */
export const processedUpdates = pgTable(
  "processed_updates",
  {
    botId: varchar("bot_id").notNull(),
    updateId: bigint("update_id", { mode: "number" }).notNull(),
    processedAt: ts("processed_at").notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.botId, t.updateId] }),
    index("processed_updates_processed_at_idx").on(t.processedAt),
  ],
);

/**
 * Outbox: every message the engine decides to send is written here in the transition's own
 * transaction, then sent by the worker after commit. A sender that dies leaves the row pending
 * and the sweeper sends it again; `id` (bigserial) orders messages to one chat.
 */
export const journeyOutbox = pgTable(
  "journey_outbox",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    tenantId: varchar("tenant_id").notNull(),
    botId: varchar("bot_id").notNull(),
    sessionId: uuid("session_id").references(() => journeyUserSessions.id, { onDelete: "cascade" }),
    telegramChatId: bigint("telegram_chat_id", { mode: "number" }).notNull(),
    /** One Bot API call (engine/types.ts OutItem): no `method` is sendMessage {text, reply_markup?}. */
    messageContent: jsonb("message_content").notNull().$type<OutItem>(),
    status: varchar("status").notNull().default("pending").$type<ScheduledStatus>(),
    attempts: integer("attempts").notNull().default(0),
    createdAt: ts("created_at").notNull().defaultNow(),
    /**
     * The send lease: a sender claims the row until this time, sends it with no transaction open,
     * then marks it. Past it (the sender died) the row is free to claim again; NULL when unclaimed.
     */
    claimedUntil: ts("claimed_until"),
    sentAt: ts("sent_at"),
    error: text("error"),
  },
  (t) => [
    // The one index for pending rows (the sweeper's stale-row scan reads it whole, every interval).
    // No index over (status, …): with few rows pending at ANALYZE time the planner answered "this
    // chat's next pending row" by walking every pending entry — the dead ones of each message sent
    // since the last vacuum included — so each send got slower than the one before.
    index("journey_outbox_chat_pending_idx").on(t.botId, t.telegramChatId, t.id).where(sql`status = 'pending'`),
    index("journey_outbox_session_idx").on(t.sessionId),
    check("journey_outbox_status_chk", oneOf("status", SCHEDULED_STATUSES)),
  ],
);
