/**
 * The second seeded journey, "Broker Qualification" (issue 17 item 7): its steps pass the write-time
 * checks without a warning, the seed is idempotent and leaves "Broker Sign Up" as it was, and each
 * branch ends where it should when walked through processUpdate. The example journey in
 * docs/journeys.md passes the same checks (verify PUTs it through the API as well).
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../test/support/context.ts";
import { addBot, repoFor } from "../../../test/support/fixtures.ts";
import { textsOf } from "../../../test/support/rows.ts";
import { createLogger } from "../src/logger.ts";
import type { Dispatcher } from "../src/queue/effects.ts";
import {
  BROKER_QUALIFICATION_STEPS,
  MIN_DEPOSIT,
  OPEN_ACCOUNT_URL,
  QUALIFICATION_JOURNEY_NAME,
  QUALIFICATION_START_PARAM,
  seedBrokerQualification,
} from "../src/seed/broker-qualification.ts";
import { BROKER_SIGN_UP_STEPS, SEED_JOURNEY_NAME, seedBrokerSignUp } from "../src/seed/broker-sign-up.ts";
import { checkJourneySteps } from "../src/step-config.ts";
import { processUpdate } from "../src/telegram/process-update.ts";
import { isCountryCode } from "../src/validation/country.ts";

const env = await createTestEnv();
const log = createLogger("silent");
const key = env.config.botTokenEncryptionKey;
/** The walks below read outbox rows; no worker sends them, so the queues need not hear of them. */
const nothing: Dispatcher = { dispatch: async () => undefined };

/** The JSON block after `<!-- example-journey -->` in docs/journeys.md: what the docs say can be PUT as is. */
function docsExampleJourney(): { steps: { step_type: string; config: unknown; key?: string }[] } {
  const doc = readFileSync(new URL("../../../docs/journeys.md", import.meta.url), "utf8");
  const block = /<!-- example-journey -->[\s\S]*?```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/journeys.md has no ```json block after <!-- example-journey -->");
  return JSON.parse(block);
}

describe("Broker Qualification steps", () => {
  it("pass checkJourneySteps with no error and no warning", () => {
    const { steps, warnings } = checkJourneySteps(BROKER_QUALIFICATION_STEPS);
    expect(warnings).toEqual([]);
    expect(steps.map((s) => s.key)).toEqual([
      "age",
      "age_check",
      "country",
      "deposit",
      "deposit_check",
      "below_minimum",
      "below_minimum_end",
      "eligible",
      "eligible_end",
      "too_young",
    ]);
  });

  it("offer countries as ISO codes and a https link button", () => {
    const config = (k: string) =>
      BROKER_QUALIFICATION_STEPS.find((s) => s.key === k)?.config as Record<string, unknown>;
    const options = config("country").options as { value: string }[];
    expect(options.length).toBeGreaterThan(1);
    for (const o of options) expect(isCountryCode(o.value)).toBe(true);
    expect(config("eligible").buttons).toEqual([{ text: expect.any(String), url: OPEN_ACCOUNT_URL }]);
    expect(OPEN_ACCOUNT_URL.startsWith("https://")).toBe(true);
  });

  it("the example journey in docs/journeys.md passes the same checks", () => {
    const example = docsExampleJourney();
    expect(example.steps.length).toBeGreaterThan(5);
    const { warnings } = checkJourneySteps(example.steps);
    expect(warnings).toEqual([]);
  });
});

describe("seeding Broker Qualification", () => {
  it("does nothing for a tenant without a bot", async () => {
    expect(await seedBrokerQualification(env.handle.db, key, log, "no_bot_yet")).toEqual({ status: "no_tenant" });
  });

  it("creates it active beside Broker Sign Up, once, however often and however concurrently it runs", async () => {
    await addBot(env, "entrylab");
    const signUp = await seedBrokerSignUp(env.handle.db, key, log);
    const runs = await Promise.all([1, 2, 3].map(() => seedBrokerQualification(env.handle.db, key, log)));
    const created = runs.flatMap((r) => (r.status === "created" ? [r.journeyId] : []));
    expect(created).toHaveLength(1);
    const id = created[0]!;
    expect(runs.filter((r) => r.status === "exists")).toEqual([
      { status: "exists", journeyId: id },
      { status: "exists", journeyId: id },
    ]);
    expect(await seedBrokerQualification(env.handle.db, key, log)).toEqual({ status: "exists", journeyId: id });

    const repo = repoFor(env, "entrylab");
    const journeys = await repo.journeys.list();
    expect(journeys.map((j) => [j.name, j.status]).sort()).toEqual([
      [QUALIFICATION_JOURNEY_NAME, "active"],
      [SEED_JOURNEY_NAME, "active"],
    ]);
    const triggers = await repo.journeys.triggers(id);
    expect(triggers.map((t) => [t.triggerType, t.triggerConfig, t.isActive])).toEqual([
      ["telegram_deeplink", { start_param: QUALIFICATION_START_PARAM }, true],
    ]);
    const stored = await repo.listSteps(id);
    expect(stored.map((s) => ({ key: s.key, step_type: s.stepType, config: s.config }))).toEqual(
      BROKER_QUALIFICATION_STEPS.map((s) => ({ key: s.key, step_type: s.step_type, config: s.config })),
    );
    // Broker Sign Up stays exactly as the seed lists it.
    if (signUp.status === "no_tenant") throw new Error("Broker Sign Up was not seeded");
    const signUpSteps = await repo.listSteps(signUp.journeyId);
    expect(signUpSteps.map((s) => ({ step_type: s.stepType, config: s.config }))).toEqual(BROKER_SIGN_UP_STEPS);
  });
});

describe("walking Broker Qualification through processUpdate", () => {
  let nextUpdate = 1;
  let nextUser = 500;

  async function walk(replies: string[], firstName = "Ann") {
    const repo = repoFor(env, "entrylab");
    const [bot] = await repo.bots.list();
    if (!bot) throw new Error("no bot: the seeding test runs first");
    const user = nextUser++;
    const wb = { botId: bot.botId, tenantId: "entrylab", username: "entrylab_bot" };
    for (const text of [`/start ${QUALIFICATION_START_PARAM}`, ...replies]) {
      const command = text.startsWith("/") ? [{ type: "bot_command", offset: 0, length: text.indexOf(" ") }] : [];
      const result = await processUpdate({ db: env.handle.db, encryptionKey: key, dispatcher: nothing, log }, wb, {
        update_id: nextUpdate++,
        message: {
          message_id: nextUpdate,
          date: Math.floor(Date.now() / 1000),
          text,
          ...(command.length ? { entities: command } : {}),
          chat: { id: user, type: "private" },
          from: { id: user, is_bot: false, first_name: firstName, language_code: "en" },
        },
      });
      expect(result.status).toBe("processed");
    }
    const { rows } = await env.handle.pool.query<{ id: string; status: string; answers: unknown }>(
      "SELECT id, status, answers FROM journey_user_sessions WHERE telegram_user_id = $1",
      [user],
    );
    expect(rows).toHaveLength(1);
    return { session: rows[0]!, texts: await textsOf(env, rows[0]!.id) };
  }

  it("under 18 ends politely, asking nothing more", async () => {
    const { session, texts } = await walk(["16"]);
    expect(session.status).toBe("completed");
    expect(texts).toEqual([
      "Hi Ann! How old are you?",
      expect.stringMatching(/^Thanks for your interest, Ann\. You need to be 18 or older/),
    ]);
  });

  it(`a deposit below ${MIN_DEPOSIT} gets the minimum message`, async () => {
    const { session, texts } = await walk(["30", "France", "100 EUR"]);
    expect(session).toMatchObject({
      status: "completed",
      answers: { age: 30, country: "FR", deposit_amount: { amount: 100, currency: "EUR" } },
    });
    expect(texts.at(-1)).toMatch(/^Thanks, Ann\. 100 EUR is below our minimum deposit of 250/);
  });

  it("an eligible user gets the final message with their name and amount, and the link button", async () => {
    const { session, texts } = await walk(["41", "Germany", "$1,000"], "Verena");
    expect(session).toMatchObject({
      status: "completed",
      answers: { age: 41, country: "DE", deposit_amount: { amount: 1000, currency: "USD" } },
    });
    expect(texts).toHaveLength(4);
    expect(texts.at(-1)).toBe("Verena, you're eligible: deposit 1000 USD using the link below.");
    const { rows } = await env.handle.pool.query(
      "SELECT message_content FROM journey_outbox WHERE session_id = $1 ORDER BY id DESC LIMIT 1",
      [session.id],
    );
    expect(rows[0].message_content.reply_markup).toEqual({
      inline_keyboard: [[{ text: "Open my account", url: OPEN_ACCOUNT_URL }]],
    });
  });

  it("an amount typed without a currency still reads well", async () => {
    const { texts } = await walk(["41", "Spain", "5000"]);
    expect(texts.at(-1)).toBe("Ann, you're eligible: deposit 5000 in your currency using the link below.");
  });
});
