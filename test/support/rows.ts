/**
 * Rows read and written directly, for tests: setting up a session where a test needs one and
 * looking at what the code under test wrote. The product writes these rows only through
 * transition() and its applier; tests that need a state the engine would reach the long way
 * round write it here instead.
 */
import { and, asc, eq, inArray } from "drizzle-orm";
import {
  journeyOutbox,
  journeyScheduledMessages,
  journeySteps,
  journeyUserSessions,
  LIVE_STATUSES,
  type SessionStatus,
} from "../../packages/journeys/src/db/schema.ts";
import type { TestEnv } from "./context.ts";

type Db = TestEnv["handle"]["db"];
const dbOf = (env: TestEnv | { handle: { db: Db } }) => env.handle.db;

/** A session's outbox rows, in send order. */
export function outboxOf(env: TestEnv, sessionId: string) {
  return dbOf(env)
    .select()
    .from(journeyOutbox)
    .where(eq(journeyOutbox.sessionId, sessionId))
    .orderBy(asc(journeyOutbox.id));
}

/** The texts a session's outbox holds, in send order. */
export async function textsOf(env: TestEnv, sessionId: string): Promise<string[]> {
  // A row that is not a sendMessage (a callback answer, a keyboard edit) shows as its method.
  return (await outboxOf(env, sessionId)).map((o) => o.messageContent.text ?? String(o.messageContent.method));
}

/** A session's delay rows, earliest first. */
export function scheduledOf(env: TestEnv, sessionId: string) {
  return dbOf(env)
    .select()
    .from(journeyScheduledMessages)
    .where(eq(journeyScheduledMessages.sessionId, sessionId))
    .orderBy(asc(journeyScheduledMessages.scheduledFor), asc(journeyScheduledMessages.id));
}

/** A session row by id (null when there is none). */
export async function sessionRow(env: TestEnv, id: string) {
  const [row] = await dbOf(env).select().from(journeyUserSessions).where(eq(journeyUserSessions.id, id));
  return row ?? null;
}

/** A step row by id, straight from the table (removed steps too; null when there is none). */
export async function stepRow(env: TestEnv, id: string) {
  const [row] = await dbOf(env).select().from(journeySteps).where(eq(journeySteps.id, id));
  return row ?? null;
}

/** The user's live session in a journey (null when there is none). */
export async function liveSession(env: TestEnv, journeyId: string, telegramUserId: number) {
  const [row] = await dbOf(env)
    .select()
    .from(journeyUserSessions)
    .where(
      and(
        eq(journeyUserSessions.journeyId, journeyId),
        eq(journeyUserSessions.telegramUserId, telegramUserId),
        inArray(journeyUserSessions.status, [...LIVE_STATUSES]),
      ),
    );
  return row ?? null;
}

/** Insert a session as a test needs it (live on `currentStepId` unless told otherwise). */
export async function insertSession(
  env: TestEnv,
  input: {
    tenantId: string;
    journeyId: string;
    userId: number;
    chatId?: number;
    status?: SessionStatus;
    currentStepId?: string | null;
    answers?: Record<string, unknown>;
  },
) {
  const [row] = await dbOf(env)
    .insert(journeyUserSessions)
    .values({
      tenantId: input.tenantId,
      journeyId: input.journeyId,
      telegramUserId: input.userId,
      telegramChatId: input.chatId ?? input.userId,
      status: input.status ?? "active",
      currentStepId: input.currentStepId ?? null,
      answers: input.answers ?? {},
    })
    .returning();
  return row!;
}

/** Change a session row directly (a test moving it to where it needs it). */
export async function updateSession(
  env: TestEnv,
  id: string,
  fields: { status?: SessionStatus; currentStepId?: string | null; answers?: Record<string, unknown> },
) {
  const [row] = await dbOf(env)
    .update(journeyUserSessions)
    .set(fields)
    .where(eq(journeyUserSessions.id, id))
    .returning();
  return row!;
}

/** An outbox row as the applier would write it. */
export async function insertOutbox(
  env: TestEnv,
  input: { tenantId: string; botId: string; sessionId: string | null; chatId: number; text: string },
) {
  const [row] = await dbOf(env)
    .insert(journeyOutbox)
    .values({
      tenantId: input.tenantId,
      botId: input.botId,
      sessionId: input.sessionId,
      telegramChatId: input.chatId,
      messageContent: { text: input.text },
    })
    .returning();
  return row!;
}

/** A delay row as the applier would write it. */
export async function insertScheduled(
  env: TestEnv,
  input: {
    tenantId: string;
    sessionId: string;
    stepId: string;
    chatId: number;
    scheduledFor: Date;
    payload?: Record<string, unknown>;
  },
) {
  const [row] = await dbOf(env)
    .insert(journeyScheduledMessages)
    .values({
      tenantId: input.tenantId,
      sessionId: input.sessionId,
      stepId: input.stepId,
      telegramChatId: input.chatId,
      messageContent: input.payload ?? { kind: "resume_after_delay" },
      scheduledFor: input.scheduledFor,
    })
    .returning();
  return row!;
}
