import type { Database } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { TenantRepository } from "../repo/index.ts";
import type { StepInput } from "../step-config.ts";

export type SeedResult =
  | { status: "created"; journeyId: string }
  | { status: "exists"; journeyId: string }
  | { status: "no_tenant" };

/** A journey the seed creates: found again by its name, started by its deep link. */
export interface SeedJourney {
  name: string;
  startParam: string;
  steps: readonly StepInput[];
}

/**
 * Create `journey` for the tenant when the tenant exists (has a bot) and no journey of that name
 * does: steps written through setSteps (so they pass the same checks as PUT …/steps), the deep-link
 * trigger, then active. Idempotent, and safe when several API replicas start at once (advisory lock).
 */
export async function seedJourney(
  db: Database,
  encryptionKey: Buffer,
  log: Logger,
  tenantId: string,
  journey: SeedJourney,
): Promise<SeedResult> {
  const repo = new TenantRepository(db, tenantId, encryptionKey);
  return repo.transaction(async (r) => {
    const bots = await r.bots.list();
    if (bots.length === 0) {
      log.info({ tenant_id: tenantId }, "seed skipped: tenant has no bot yet");
      return { status: "no_tenant" } as const;
    }
    await r.lock(`seed:${tenantId}`);
    const existing = (await r.journeys.list()).find((j) => j.name === journey.name);
    if (existing) return { status: "exists", journeyId: existing.id } as const;
    const created = await r.journeys.create({ botId: bots[0]!.botId, name: journey.name, status: "draft" });
    await r.setSteps(created.id, journey.steps);
    await r.journeys.upsertTrigger(created.id, {
      triggerType: "telegram_deeplink",
      triggerConfig: { start_param: journey.startParam },
    });
    await r.journeys.update(created.id, { status: "active" });
    log.info({ tenant_id: tenantId, journey_id: created.id, bot_id: bots[0]!.botId }, `seeded ${journey.name} journey`);
    return { status: "created", journeyId: created.id } as const;
  });
}
