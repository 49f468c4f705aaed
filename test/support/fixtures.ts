import { randomBytes, randomUUID } from "node:crypto";
import type { JourneyStatus, ReEntryPolicy } from "../../packages/journeys/src/db/schema.ts";
import { TenantRepository } from "../../packages/journeys/src/repo/index.ts";
import type { StepInput } from "../../packages/journeys/src/step-config.ts";
import type { TestEnv } from "./context.ts";

let nextTelegramId = 7_000_000_000 + Math.floor(Math.random() * 1_000_000) * 100;

/** A tenant id nobody else in this run uses. */
export const newTenant = () => `t_${randomUUID().slice(0, 8)}`;

/** A tenant repository on the test database. */
export function repoFor(env: TestEnv, tenantId: string): TenantRepository {
  return new TenantRepository(env.handle.db, tenantId, env.config.botTokenEncryptionKey);
}

/** Store a bot for a tenant directly (no Telegram round trip): for repository and engine tests. */
export async function addBot(env: TestEnv, tenantId: string, botId = `bot_${randomBytes(3).toString("hex")}`) {
  const telegramBotId = nextTelegramId++;
  const token = `${telegramBotId}:${randomBytes(24).toString("base64url")}`;
  const saved = await repoFor(env, tenantId).bots.save({
    botId,
    telegramBotId,
    username: `${botId}_bot`,
    firstName: botId,
    token,
  });
  return { ...saved, token };
}

export type AddedBot = Awaited<ReturnType<typeof addBot>>;

/** The steps most tests walk: a question, a message, a delay and a closing message. */
export const FOUR_STEPS: StepInput[] = [
  { step_type: "question", config: { text: "Age?", answer_key: "age", validation: "number" } },
  { step_type: "message", config: { text: "Thanks" } },
  { step_type: "delay", config: { min_minutes: 1, max_minutes: 2 } },
  { step_type: "message", config: { text: "Bye" } },
];

export interface JourneyOptions<B> {
  /** Default: the bot's tenant, else a new one. */
  tenantId?: string;
  /** A bot of the tenant to put the journey on (one the webhook harness connected); default: a new one (addBot). */
  bot?: B;
  /** Default: FOUR_STEPS. */
  steps?: readonly StepInput[];
  /** The deep link that starts the journey; null: no trigger. Default: one nobody else uses. */
  startParam?: string | null;
  /** Default: active (set after the steps and the trigger, as an admin would: a deep-link clash is a CONFLICT). */
  status?: JourneyStatus;
  /** Default: block. */
  reEntryPolicy?: ReEntryPolicy;
  name?: string;
}

/**
 * The one journey fixture: a tenant with a bot, a journey of `steps` on it and a deep-link trigger,
 * written through the tenant's repository (rows as the admin API leaves them). Sessions are the
 * test's to make: through the product (a /start), or as rows (test/support/rows.ts).
 */
export async function tenantWithJourney<B extends { botId: string; tenantId?: string } = AddedBot>(
  env: TestEnv,
  opts: JourneyOptions<B> = {},
) {
  const tenantId = opts.tenantId ?? opts.bot?.tenantId ?? newTenant();
  const repo = repoFor(env, tenantId);
  const bot = opts.bot ?? ((await addBot(env, tenantId)) as unknown as B);
  const startParam = opts.startParam === undefined ? `p_${randomUUID().slice(0, 8)}` : opts.startParam;
  const created = await repo.journeys.create({
    botId: bot.botId,
    name: opts.name ?? `j-${startParam ?? randomUUID().slice(0, 8)}`,
    reEntryPolicy: opts.reEntryPolicy ?? "block",
  });
  const { steps } = await repo.setSteps(created.id, opts.steps ?? FOUR_STEPS);
  const trigger =
    startParam === null
      ? null
      : await repo.journeys.upsertTrigger(created.id, {
          triggerType: "telegram_deeplink",
          triggerConfig: { start_param: startParam },
        });
  const status = opts.status ?? "active";
  const journey =
    status === "draft" ? await repo.journeys.get(created.id) : await repo.journeys.update(created.id, { status });
  // stepIds: what most assertions compare a session's current step with.
  return { tenantId, repo, bot, journey, trigger, startParam, steps, stepIds: steps.map((s) => s.id) };
}

/** What tenantWithJourney returns, with a bot of its own. */
export type JourneyWorld = Awaited<ReturnType<typeof tenantWithJourney>>;
