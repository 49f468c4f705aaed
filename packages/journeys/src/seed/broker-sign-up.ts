import type { Database } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { TenantRepository } from "../repo/index.ts";

export const SEED_TENANT = "entrylab";
export const SEED_JOURNEY_NAME = "Broker Sign Up";
export const SEED_START_PARAM = "broker_access";

/** Seed section G, step for step (the deposit question validates money, as SPEC asks). */
export const BROKER_SIGN_UP_STEPS = [
  { step_type: "question", config: { text: "How old are you?", answer_key: "user_age", validation: "number" } },
  {
    step_type: "question",
    config: { text: "Which country are you based in?", answer_key: "country", validation: "text" },
  },
  {
    step_type: "question",
    config: { text: "How much do you intend to deposit?", answer_key: "deposit_amount", validation: "money" },
  },
  {
    step_type: "message",
    config: {
      text: "Thanks for reaching out — we review broker-sponsored access requests manually… we’ll get back to you within 1–2 hours.",
    },
  },
  { step_type: "delay", config: { min_minutes: 60, max_minutes: 120 } },
  { step_type: "message", config: { text: "You’re eligible. Deposit X using link Y." } },
];

export type SeedResult =
  | { status: "created"; journeyId: string }
  | { status: "exists"; journeyId: string }
  | { status: "no_tenant" };

/**
 * Create "Broker Sign Up" for tenant entrylab when the tenant exists (has a bot) and the journey
 * does not. Idempotent, and safe when several API replicas start at once (advisory lock).
 */
export async function seedBrokerSignUp(
  db: Database,
  encryptionKey: Buffer,
  log: Logger,
  tenantId = SEED_TENANT,
): Promise<SeedResult> {
  const repo = new TenantRepository(db, tenantId, encryptionKey);
  return repo.transaction(async (r) => {
    const bots = await r.bots.list();
    if (bots.length === 0) {
      log.info({ tenant_id: tenantId }, "seed skipped: tenant has no bot yet");
      return { status: "no_tenant" } as const;
    }
    await r.lock(`seed:${tenantId}`);
    const existing = (await r.journeys.list()).find((j) => j.name === SEED_JOURNEY_NAME);
    if (existing) return { status: "exists", journeyId: existing.id } as const;
    const journey = await r.journeys.create({ botId: bots[0]!.botId, name: SEED_JOURNEY_NAME, status: "draft" });
    await r.setSteps(journey.id, BROKER_SIGN_UP_STEPS);
    await r.journeys.upsertTrigger(journey.id, {
      triggerType: "telegram_deeplink",
      triggerConfig: { start_param: SEED_START_PARAM },
    });
    await r.journeys.update(journey.id, { status: "active" });
    log.info({ tenant_id: tenantId, journey_id: journey.id, bot_id: bots[0]!.botId }, "seeded Broker Sign Up journey");
    return { status: "created", journeyId: journey.id } as const;
  });
}
