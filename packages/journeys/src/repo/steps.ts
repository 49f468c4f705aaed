import { and, eq, inArray, sql } from "drizzle-orm";
import { journeyScheduledMessages, journeySteps, journeys, journeyUserSessions, LIVE_STATUSES } from "../db/schema.ts";
import { stepsInvalidated, transition } from "../engine/transition.ts";
import type { FlowProblem } from "../flow/index.ts";
import { checkJourneySteps, type StepInput } from "../step-config.ts";
import { stateOf } from "./applier.ts";
import { readSteps } from "./journey-defs.ts";
import type { JourneysRepo } from "./journeys.ts";
import type { Scope } from "./scope.ts";
import type { SessionsRepo } from "./sessions.ts";

export type Step = typeof journeySteps.$inferSelect;

export interface SetStepsResult {
  steps: Step[];
  /** Sessions cancelled because the step they stood on was removed or changed type. */
  cancelledSessionIds: string[];
  /** Accepted, but worth a look: an answer read on a path where no question has set it. */
  warnings: FlowProblem[];
}

/**
 * Replacing a journey's steps (PUT …/steps) without breaking sessions in flight.
 *
 * Steps are updated in place by position, so their ids stay stable and a session standing on
 * position N stays on position N with its new config. A removed step that history still references
 * (sessions, scheduled rows) is marked `removed_at` instead of deleted, because those foreign keys
 * have no ON DELETE. The journey's steps_version is bumped (the engine's step caches see the new
 * steps). Which sessions the replacement invalidates, and what becomes of them, is the engine's
 * rule: each live session standing on a step it names gets the `steps_replaced` event.
 */
export async function setSteps(
  s: Scope,
  journeysRepo: JourneysRepo,
  sessions: SessionsRepo,
  journeyId: string,
  input: readonly StepInput[],
): Promise<SetStepsResult> {
  const { steps: valid, warnings } = checkJourneySteps(input);
  const journey = await journeysRepo.get(journeyId, { forUpdate: true });
  const before = await readSteps(s.db, s.tenantId, journeyId);
  const current = await journeysRepo.steps(journeyId);
  const removed: Step[] = current.slice(valid.length);

  for (const [i, step] of valid.entries()) {
    const existing = current[i];
    if (existing) {
      await s.db
        .update(journeySteps)
        .set({ stepOrder: i + 1, stepType: step.stepType, config: step.config, key: step.key })
        .where(eq(journeySteps.id, existing.id));
    } else {
      await s.db
        .insert(journeySteps)
        .values({ journeyId, stepOrder: i + 1, stepType: step.stepType, config: step.config, key: step.key });
    }
  }
  if (removed.length > 0) await dropSteps(s, removed);
  await s.db
    .update(journeys)
    .set({ stepsVersion: sql`${journeys.stepsVersion} + 1`, updatedAt: sql`now()` })
    .where(and(eq(journeys.tenantId, s.tenantId), eq(journeys.id, journeyId)));

  const after = {
    id: journeyId,
    reEntryPolicy: journey.reEntryPolicy,
    steps: await readSteps(s.db, s.tenantId, journeyId),
  };
  const invalidated = [...stepsInvalidated(before, after.steps)];
  const cancelledSessionIds: string[] = [];
  if (invalidated.length > 0) {
    const standing = await s.db
      .select()
      .from(journeyUserSessions)
      .where(
        and(
          eq(journeyUserSessions.tenantId, s.tenantId),
          eq(journeyUserSessions.journeyId, journeyId),
          inArray(journeyUserSessions.status, [...LIVE_STATUSES]),
          inArray(journeyUserSessions.currentStepId, invalidated),
        ),
      )
      .for("update");
    const clock = { now: new Date(), random: Math.random };
    for (const row of standing) {
      const result = transition(after, stateOf(row), { type: "steps_replaced", before }, clock);
      const applied = await sessions.apply(result, { botId: journey.botId });
      if (applied.applied && result.outcome === "cancelled") cancelledSessionIds.push(row.id);
    }
  }
  return { steps: await journeysRepo.steps(journeyId), cancelledSessionIds, warnings };
}

/** Steps beyond the new list: kept as removed while history references them, else deleted. */
async function dropSteps(s: Scope, removed: Step[]) {
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
  if (keep.length) await s.db.update(journeySteps).set({ removedAt: sql`now()` }).where(inArray(journeySteps.id, keep));
  if (drop.length) await s.db.delete(journeySteps).where(inArray(journeySteps.id, drop));
}
