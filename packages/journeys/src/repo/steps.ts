import { and, eq, inArray, sql } from "drizzle-orm";
import { columnsOf, prepared, runPrepared } from "../db/prepared.ts";
import { journeyScheduledMessages, journeySteps, journeyUserSessions } from "../db/schema.ts";
import { type StepInput, validateSteps } from "../step-config.ts";
import type { JourneysRepo } from "./journeys.ts";
import { isUuid, journeyOfTenant, LIVE_STATUSES, type Scope } from "./scope.ts";
import type { SessionsRepo } from "./sessions.ts";

export type Step = typeof journeySteps.$inferSelect;

export interface SetStepsResult {
  steps: Step[];
  /** Sessions cancelled because the step they stood on was removed or changed type. */
  cancelledSessionIds: string[];
}

/**
 * Replacing a journey's steps (PUT …/steps) without breaking sessions in flight.
 *
 * Steps are updated in place by position, so their ids stay stable and a session standing on
 * position N stays on position N with its new config. A session whose step is removed, or whose
 * step changes type (its position no longer means what it meant), is cancelled with its pending
 * messages. A removed step that history still references (sessions, scheduled rows) is marked
 * `removed_at` instead of deleted, because those foreign keys have no ON DELETE.
 */
export async function setSteps(
  s: Scope,
  journeysRepo: JourneysRepo,
  sessions: SessionsRepo,
  journeyId: string,
  input: readonly StepInput[],
): Promise<SetStepsResult> {
  const valid = validateSteps(input);
  await journeysRepo.get(journeyId, { forUpdate: true });
  const current = await journeysRepo.steps(journeyId);
  const affected: string[] = [];
  const removed: Step[] = current.slice(valid.length);

  for (const [i, step] of valid.entries()) {
    const existing = current[i];
    if (existing) {
      if (existing.stepType !== step.stepType) affected.push(existing.id);
      await s.db
        .update(journeySteps)
        .set({ stepOrder: i + 1, stepType: step.stepType, config: step.config })
        .where(eq(journeySteps.id, existing.id));
    } else {
      await s.db
        .insert(journeySteps)
        .values({ journeyId, stepOrder: i + 1, stepType: step.stepType, config: step.config });
    }
  }
  affected.push(...removed.map((r) => r.id));

  const cancelledSessionIds: string[] = [];
  if (affected.length > 0) {
    const standing = await s.db
      .select({ id: journeyUserSessions.id })
      .from(journeyUserSessions)
      .where(
        and(
          eq(journeyUserSessions.tenantId, s.tenantId),
          eq(journeyUserSessions.journeyId, journeyId),
          inArray(journeyUserSessions.status, [...LIVE_STATUSES]),
          inArray(journeyUserSessions.currentStepId, affected),
        ),
      )
      .for("update");
    for (const { id } of standing) {
      await sessions.cancel(id, "step_removed_or_changed");
      cancelledSessionIds.push(id);
    }
  }

  if (removed.length > 0) {
    const ids = removed.map((r) => r.id);
    const referenced = new Set<string>();
    const bySession = await s.db
      .select({ id: journeyUserSessions.currentStepId })
      .from(journeyUserSessions)
      .where(inArray(journeyUserSessions.currentStepId, ids));
    const byScheduled = await s.db
      .select({ id: journeyScheduledMessages.stepId })
      .from(journeyScheduledMessages)
      .where(inArray(journeyScheduledMessages.stepId, ids));
    for (const r of [...bySession, ...byScheduled]) if (r.id) referenced.add(r.id);
    const keep = ids.filter((id) => referenced.has(id));
    const drop = ids.filter((id) => !referenced.has(id));
    if (keep.length) {
      await s.db.update(journeySteps).set({ removedAt: sql`now()` }).where(inArray(journeySteps.id, keep));
    }
    if (drop.length) await s.db.delete(journeySteps).where(inArray(journeySteps.id, drop));
  }

  return { steps: await journeysRepo.steps(journeyId), cancelledSessionIds };
}

const STEP = columnsOf(journeySteps, "st");
/** Condition and order for `st`, the live steps of journey `journey` after step order `order`: take the first. */
const liveStepsAfterSql = (journey: string, order: string) =>
  `st.journey_id = ${journey} AND st.removed_at IS NULL AND st.step_order > ${order} ORDER BY st.step_order`;

/**
 * For a statement that has a session row in scope: its current step (`stepJson`) and the live
 * step after it (`nextJson`) as JSON, so a statement that locks the session can bring both along
 * (one round trip less per answer). Read them back with stepFromJson.
 */
export const currentAndNextStepJsonSql = (session: { journeyId: string; currentStepId: string }) =>
  `(SELECT to_jsonb(x) FROM (SELECT ${STEP} FROM journey_steps st
      WHERE st.id = ${session.currentStepId} AND st.journey_id = ${session.journeyId}) x) AS "stepJson",
   (SELECT to_jsonb(x) FROM (SELECT ${STEP} FROM journey_steps st WHERE ${liveStepsAfterSql(
     session.journeyId,
     `(SELECT c.step_order FROM journey_steps c WHERE c.id = ${session.currentStepId})`,
   )} LIMIT 1) x) AS "nextJson"`;

/** A row with the two columns of currentAndNextStepJsonSql: the rest of it, and the two steps. */
export function withSteps<R extends { stepJson: unknown; nextJson: unknown }>(
  row: R,
): { rest: Omit<R, "stepJson" | "nextJson">; step: Step | null; next: Step | null } {
  const { stepJson, nextJson, ...rest } = row;
  return { rest, step: stepFromJson(stepJson), next: stepFromJson(nextJson) };
}

/** A step row read as JSON (see currentAndNextStepJsonSql): timestamps back to Date. */
function stepFromJson(json: unknown): Step | null {
  if (json === null || json === undefined) return null;
  const row = json as Omit<Step, "createdAt" | "removedAt"> & { createdAt: string | null; removedAt: string | null };
  return {
    ...row,
    createdAt: row.createdAt === null ? null : new Date(row.createdAt),
    removedAt: row.removedAt === null ? null : new Date(row.removedAt),
  };
}
const ofTenant = "EXISTS (SELECT 1 FROM journeys j WHERE j.id = st.journey_id AND j.tenant_id = $1)";
const NEXT_STEP_AFTER = prepared(
  "step_next_after",
  `SELECT ${STEP} FROM journey_steps st WHERE ${ofTenant} AND ${liveStepsAfterSql("$2::uuid", "$3")} LIMIT 1`,
);
const STEP_AND_NEXT = prepared(
  "step_and_next",
  `SELECT ${STEP} FROM journey_steps st
    WHERE ${ofTenant} AND (st.id = $2::uuid OR st.id = (
      SELECT st.id FROM journey_steps st JOIN journey_steps c ON c.journey_id = st.journey_id
       WHERE c.id = $2::uuid AND ${liveStepsAfterSql("c.journey_id", "c.step_order")} LIMIT 1))`,
);

/** The live step after `stepOrder` in this journey, or null at the end. */
export async function nextStepAfter(s: Scope, journeyId: string, stepOrder: number): Promise<Step | null> {
  if (!isUuid(journeyId)) return null;
  const [row] = await runPrepared<Step>(s.db, NEXT_STEP_AFTER, [s.tenantId, journeyId, stepOrder]);
  return row ?? null;
}

export async function firstStep(s: Scope, journeyId: string): Promise<Step | null> {
  return nextStepAfter(s, journeyId, -2_147_483_648);
}

/**
 * A step of this tenant by id (removed or not, as getStep) and the live step after it in its
 * journey (as nextStepAfter), in one statement: an answer and a fired delay need both.
 */
export async function stepAndNext(s: Scope, stepId: string): Promise<{ step: Step | null; next: Step | null }> {
  if (!isUuid(stepId)) return { step: null, next: null };
  const rows = await runPrepared<Step>(s.db, STEP_AND_NEXT, [s.tenantId, stepId]);
  return { step: rows.find((r) => r.id === stepId) ?? null, next: rows.find((r) => r.id !== stepId) ?? null };
}

/** A step of this tenant by id, including a removed one (history still points at it). */
export async function getStep(s: Scope, stepId: string): Promise<Step | null> {
  if (!isUuid(stepId)) return null;
  const [row] = await s.db
    .select()
    .from(journeySteps)
    .where(and(eq(journeySteps.id, stepId), journeyOfTenant(s, journeySteps.journeyId)));
  return row ?? null;
}
