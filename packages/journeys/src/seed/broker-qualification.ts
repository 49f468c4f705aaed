import type { Database } from "../db/client.ts";
import type { Logger } from "../logger.ts";
import type { StepInput } from "../step-config.ts";
import { SEED_TENANT } from "./broker-sign-up.ts";
import { type SeedResult, seedJourney } from "./seed-journey.ts";

export const QUALIFICATION_JOURNEY_NAME = "Broker Qualification";
export const QUALIFICATION_START_PARAM = "broker_qualify";
/** Below this amount (in whatever currency was typed) the lead is told about the minimum. */
export const MIN_DEPOSIT = 250;
/**
 * A placeholder: the tenant replaces it with their broker's real sign-up link (PUT …/steps).
 * example.com is reserved for documentation, so nobody lands on a stranger's site meanwhile.
 */
export const OPEN_ACCOUNT_URL = "https://example.com/open-account";

/**
 * The flow language's demo (issue 17): "Broker Sign Up" made real. Age → under 18 ends politely;
 * country with buttons (ISO codes as values; any typed country still works); deposit → below the
 * minimum gets its own message; else the final message with the user's name, the amount and a link
 * button. Steps carry keys, so branches jump by name; each ending message is followed by a jump to
 * "end", so the messages after it are reached only by their own branch.
 */
export const BROKER_QUALIFICATION_STEPS: readonly StepInput[] = [
  {
    key: "age",
    step_type: "question",
    config: {
      text: 'Hi {{ user.first_name | default: "there" }}! How old are you?',
      answer_key: "age",
      validation: "number",
      error_text: "Please reply with your age as a number, for example 35.",
    },
  },
  {
    key: "age_check",
    step_type: "conditional",
    config: { branches: [{ when: { "<": [{ var: "answers.age" }, 18] }, goto: "too_young" }] },
  },
  {
    key: "country",
    step_type: "question",
    config: {
      text: "Which country do you live in? Tap it below, or type its name if it isn't listed.",
      answer_key: "country",
      validation: "country",
      options: [
        { label: "Germany", value: "DE" },
        { label: "United Kingdom", value: "GB" },
        { label: "United States", value: "US" },
        { label: "Spain", value: "ES" },
      ],
    },
  },
  {
    key: "deposit",
    step_type: "question",
    config: {
      text: "How much would you like to deposit? For example 500 EUR or $1,000.",
      answer_key: "deposit_amount",
      validation: "money",
    },
  },
  {
    key: "deposit_check",
    step_type: "conditional",
    config: {
      branches: [{ when: { "<": [{ var: "answers.deposit_amount.amount" }, MIN_DEPOSIT] }, goto: "below_minimum" }],
      else: "eligible",
    },
  },
  {
    key: "below_minimum",
    step_type: "message",
    config: {
      text: `Thanks{% if user.first_name %}, {{ user.first_name }}{% endif %}. {{ answers.deposit_amount | money }} is below our minimum deposit of ${MIN_DEPOSIT}, so we can't open an account for it. You're welcome back whenever you're ready to start with ${MIN_DEPOSIT} or more.`,
    },
  },
  { key: "below_minimum_end", step_type: "conditional", config: { branches: [], else: "end" } },
  {
    key: "eligible",
    step_type: "message",
    config: {
      text: '{{ user.first_name | default: "Good news" }}, you\'re eligible: deposit {{ answers.deposit_amount.amount }} {{ answers.deposit_amount.currency | default: "in your currency" }} using the link below.',
      buttons: [{ text: "Open my account", url: OPEN_ACCOUNT_URL }],
    },
  },
  { key: "eligible_end", step_type: "conditional", config: { branches: [], else: "end" } },
  {
    key: "too_young",
    step_type: "message",
    config: {
      text: "Thanks for your interest{% if user.first_name %}, {{ user.first_name }}{% endif %}. You need to be 18 or older to open an account, so we can't go on for now. We'll be glad to hear from you then.",
    },
  },
];

/**
 * Create "Broker Qualification" for tenant entrylab beside "Broker Sign Up", once the tenant has a
 * bot; idempotent like it.
 */
export function seedBrokerQualification(
  db: Database,
  encryptionKey: Buffer,
  log: Logger,
  tenantId = SEED_TENANT,
): Promise<SeedResult> {
  return seedJourney(db, encryptionKey, log, tenantId, {
    name: QUALIFICATION_JOURNEY_NAME,
    startParam: QUALIFICATION_START_PARAM,
    steps: BROKER_QUALIFICATION_STEPS,
  });
}
