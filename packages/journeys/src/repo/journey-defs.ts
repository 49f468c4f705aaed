import type { Executor } from "../db/client.ts";
import { named, runNamed } from "../db/named.ts";
import type { StepDef } from "../engine/types.ts";

/**
 * A journey's steps, every one (removed ones included, for sessions still standing on them), in step
 * order, with the steps version they were read at.
 */
const STEPS_OF_JOURNEY = named<"tenant_id" | "journey_id">(
  "journey_steps_def",
  `SELECT j.steps_version AS "stepsVersion",
          coalesce((SELECT json_agg(json_build_object('id', st.id, 'stepOrder', st.step_order, 'stepType', st.step_type,
                                                      'config', st.config, 'removed', st.removed_at IS NOT NULL, 'key', st.key)
                                    ORDER BY st.step_order, st.id)
                      FROM journey_steps st WHERE st.journey_id = j.id), '[]'::json) AS steps
     FROM journeys j WHERE j.tenant_id = :tenant_id AND j.id = :journey_id::uuid`,
);

/** Every step of a journey (removed ones too) as the engine sees it, read now (no cache). */
export async function readSteps(db: Executor, tenantId: string, journeyId: string): Promise<StepDef[]> {
  const [row] = await runNamed<{ steps: StepDef[] }>(db, STEPS_OF_JOURNEY, {
    tenant_id: tenantId,
    journey_id: journeyId,
  });
  return row?.steps ?? [];
}

/** How many journeys' steps a process keeps (a few KB each; the least recently used go first). */
const CACHE_SIZE = 1000;

/**
 * The steps transition() runs a session through, cached per process by (journey, steps version):
 * every statement that reads a session also reads its journey's `steps_version` (a cheap column of
 * a row it joins anyway), and PUT …/steps bumps it in the transaction that changes the steps, so a
 * cached copy is used only while it is the current one — on any process. A journey's whole step
 * list is what conditional jumps and runs of messages need, without a read per step.
 */
export class StepsCache {
  private readonly entries = new Map<string, { version: number; steps: readonly StepDef[] }>();

  constructor(private readonly size = CACHE_SIZE) {}

  async get(db: Executor, tenantId: string, journeyId: string, version: number): Promise<readonly StepDef[]> {
    const key = `${tenantId}/${journeyId}`;
    const hit = this.entries.get(key);
    if (hit && hit.version === version) {
      this.entries.delete(key); // re-inserted last: Map order is the LRU order
      this.entries.set(key, hit);
      return hit.steps;
    }
    const [row] = await runNamed<{ stepsVersion: number; steps: StepDef[] }>(db, STEPS_OF_JOURNEY, {
      tenant_id: tenantId,
      journey_id: journeyId,
    });
    const steps = Object.freeze(row?.steps ?? []);
    // A read that raced a steps change may see a newer version than asked for: cache what was read.
    if (row && row.stepsVersion >= version) {
      this.entries.delete(key);
      this.entries.set(key, { version: row.stepsVersion, steps });
      if (this.entries.size > this.size) this.entries.delete(this.entries.keys().next().value as string);
    }
    return steps;
  }
}

/** One per process: every tenant repository of the process shares it. */
export const stepsCache = new StepsCache();
