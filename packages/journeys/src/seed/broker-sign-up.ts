import type { Database } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import { type SeedResult, seedJourney } from "./seed-journey.ts";

export type { SeedResult };

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

/**
 * Create "Broker Sign Up" for tenant entrylab when the tenant exists (has a bot) and the journey
 * does not. Idempotent, and safe when several API replicas start at once (advisory lock).
 */
export function seedBrokerSignUp(
  db: Database,
  encryptionKey: Buffer,
  log: Logger,
  tenantId = SEED_TENANT,
): Promise<SeedResult> {
  return seedJourney(db, encryptionKey, log, tenantId, {
    name: SEED_JOURNEY_NAME,
    startParam: SEED_START_PARAM,
    steps: BROKER_SIGN_UP_STEPS,
  });
}
