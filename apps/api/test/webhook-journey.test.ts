/**
 * Journeys run end to end through the webhook: the seeded "Broker Sign Up" (seed section G) with a
 * wrong then a right answer to every question, and the engine's step kinds (SPEC §3).
 */
import {
  BROKER_SIGN_UP_STEPS,
  delayJobId,
  hashSecret,
  outboxJobId,
  SEED_START_PARAM,
  seedBrokerSignUp,
  validateAnswer,
  webhookPath,
} from "@journeys/core";
import { describe, expect, it } from "vitest";
import { tenantWithJourney } from "../../../test/support/fixtures.ts";
import { outboxOf, scheduledOf } from "../../../test/support/rows.ts";
import { ask, delay, message, outboxTexts, sessionsOfUser, startHarness } from "./webhook-harness.ts";

const h = await startHarness();
const { env } = h;
const bot = await h.connect("entrylab");
const seeded = await seedBrokerSignUp(h.env.handle.db, h.env.config.botTokenEncryptionKey, h.log);
const text = (i: number) => String(BROKER_SIGN_UP_STEPS[i]!.config.text);
const errorOf = (kind: "number" | "text" | "money", input: string) => {
  const r = validateAnswer(kind, input);
  if (r.ok) throw new Error(`"${input}" is a valid ${kind}`);
  return r.error;
};
const MINUTE = 60_000;

describe("seeded Broker Sign Up through the webhook", () => {
  it("connectBot registered the webhook URL and a secret with Telegram, and stored only its hash", async () => {
    expect(seeded.status).toBe("created");
    expect(h.fake.webhookOf(bot.telegramId)).toEqual({
      url: `${h.api.url}${webhookPath(bot.botId)}`,
      secretToken: bot.secret,
    });
    const { rows } = await env.handle.pool.query("SELECT webhook_secret FROM tenant_bots WHERE bot_id = $1", [
      bot.botId,
    ]);
    expect(rows[0].webhook_secret).toBe(hashSecret(bot.secret));
  });

  it("asks, re-prompts, stores normalised answers and schedules the delay", async () => {
    const user = h.newUser();
    const replies = ["/start broker_access", "abc", "33", "", "   ", "Germany", "lots", "$1,000"];
    const before = Date.now();
    for (const reply of replies) expect(await bot.say(user, reply)).toEqual({ ok: true, status: "processed" });
    const after = Date.now();

    const [session, ...others] = await sessionsOfUser(h.env, user);
    expect(others).toEqual([]);
    if (seeded.status !== "created") throw new Error("seed did not run");
    const steps = await bot.repo.listSteps(seeded.journeyId);
    expect(session).toMatchObject({
      tenantId: "entrylab",
      journeyId: seeded.journeyId,
      telegramUserId: user,
      telegramChatId: user,
      status: "waiting_delay",
      currentStepId: steps[4]!.id,
      completedAt: null,
      answers: { user_age: 33, country: "Germany", deposit_amount: { amount: 1000, currency: "USD" } },
    });

    const outbox = await outboxOf(env, session!.id);
    expect(outbox.map((o) => o.messageContent.text)).toEqual([
      text(0),
      errorOf("number", "abc"),
      text(1),
      errorOf("text", ""),
      errorOf("text", "   "),
      text(2),
      errorOf("money", "lots"),
      text(3),
    ]);
    for (const row of outbox) {
      expect(row).toMatchObject({ status: "pending", botId: bot.botId, telegramChatId: user, tenantId: "entrylab" });
    }

    const scheduled = await scheduledOf(env, session!.id);
    expect(scheduled).toHaveLength(1);
    const row = scheduled[0]!;
    expect(row).toMatchObject({ status: "pending", stepId: steps[4]!.id, telegramChatId: user, sentAt: null });
    expect(row.scheduledFor.getTime()).toBeGreaterThanOrEqual(before + 60 * MINUTE);
    expect(row.scheduledFor.getTime()).toBeLessThanOrEqual(after + 120 * MINUTE);

    // After commit the API enqueued a delayed job for the row and a send job per outbox row:
    // payloads carry row ids only.
    const delayed = await h.api.deps.queues.delays.getDelayed();
    const job = delayed.find((j) => j.id === delayJobId(row.id));
    expect(job?.data).toEqual({ scheduledMessageId: row.id });
    expect(job!.timestamp + job!.opts.delay!).toBeGreaterThanOrEqual(row.scheduledFor.getTime() - 5_000);
    const sends = await h.api.deps.queues.outbox.getJobs(["waiting", "delayed", "prioritized", "wait"]);
    const byId = new Map(sends.map((j) => [j.id, j.data]));
    for (const o of outbox) expect(byId.get(outboxJobId(o.id))).toEqual({ outboxId: o.id, botId: o.botId });
    expect(h.fake.sent()).toEqual([]); // the API never sends itself: the worker does, from the outbox
  });

  it("seeding is idempotent, also when several replicas start at once", async () => {
    expect(await seedBrokerSignUp(h.env.handle.db, h.env.config.botTokenEncryptionKey, h.log)).toEqual({
      status: "exists",
      journeyId: (seeded as { journeyId: string }).journeyId,
    });
    const key = h.env.config.botTokenEncryptionKey;
    expect(await seedBrokerSignUp(h.env.handle.db, key, h.log, "no_bot_tenant")).toEqual({ status: "no_tenant" });
    const other = await h.connect("seedco");
    const results = await Promise.all([1, 2, 3].map(() => seedBrokerSignUp(h.env.handle.db, key, h.log, "seedco")));
    expect(results.map((r) => r.status).sort()).toEqual(["created", "exists", "exists"]);
    const journeys = await other.repo.journeys.list();
    expect(journeys.map((j) => [j.name, j.status, j.botId])).toEqual([["Broker Sign Up", "active", other.botId]]);
    expect((await other.repo.listSteps(journeys[0]!.id)).map((s) => s.stepType)).toEqual(
      BROKER_SIGN_UP_STEPS.map((s) => s.step_type),
    );
  });

  it("uses the seeded deep link only: another param starts nothing", async () => {
    const user = h.newUser();
    await bot.say(user, `/start ${SEED_START_PARAM}x`);
    expect(await sessionsOfUser(h.env, user)).toEqual([]);
  });
});

describe("step kinds", () => {
  it("a journey of message steps runs to completed in one update", async () => {
    const { journey } = await tenantWithJourney(env, {
      bot,
      startParam: "hello",
      steps: [message("Hi!"), message("Bye!")],
    });
    const user = h.newUser();
    await bot.say(user, "/start hello");
    const [session] = await sessionsOfUser(h.env, user);
    expect(session).toMatchObject({ journeyId: journey.id, status: "completed", currentStepId: null, answers: {} });
    expect(session!.completedAt).toBeInstanceOf(Date);
    expect(await outboxTexts(env, session!.id)).toEqual(["Hi!", "Bye!"]);
    // A completed session is not live: a new /start starts again.
    await bot.say(user, "/start hello");
    expect((await sessionsOfUser(h.env, user)).map((s) => s.status)).toEqual(["completed", "completed"]);
  });

  it("a conditional step whose rules do not hold goes on to the next step", async () => {
    const conditional = {
      step_type: "conditional",
      config: { branches: [{ when: { "==": [{ var: "trigger.param" }, "other"] }, goto: "end" }] },
    };
    await tenantWithJourney(env, {
      bot,
      startParam: "cond",
      steps: [message("before"), conditional, message("after")],
    });
    const user = h.newUser();
    await bot.say(user, "/start cond");
    const [session] = await sessionsOfUser(h.env, user);
    expect(session!.status).toBe("completed");
    expect(await outboxTexts(env, session!.id)).toEqual(["before", "after"]);
  });

  it("a conditional step jumps to the step its first holding rule names", async () => {
    const conditional = {
      step_type: "conditional",
      config: { branches: [{ when: { "==": [{ var: "trigger.param" }, "cond_q"] }, goto: "name" }] },
    };
    const { stepIds } = await tenantWithJourney(env, {
      bot,
      startParam: "cond_q",
      steps: [conditional, message("skipped"), { ...ask("Name?", "name", "text"), key: "name" }],
    });
    const user = h.newUser();
    await bot.say(user, "/start cond_q");
    const [session] = await sessionsOfUser(h.env, user);
    expect(session).toMatchObject({ status: "active", currentStepId: stepIds[2] });
    expect(await outboxTexts(env, session!.id)).toEqual(["Name?"]);
  });

  it("a delay as the first step waits at once, sending nothing", async () => {
    const { stepIds } = await tenantWithJourney(env, {
      bot,
      startParam: "later",
      steps: [delay(1, 2), message("Later!")],
    });
    const user = h.newUser();
    const before = Date.now();
    await bot.say(user, "/start later");
    const [session] = await sessionsOfUser(h.env, user);
    expect(session).toMatchObject({ status: "waiting_delay", currentStepId: stepIds[0] });
    expect(await outboxTexts(env, session!.id)).toEqual([]);
    const [row, ...more] = await scheduledOf(env, session!.id);
    expect(more).toEqual([]);
    expect(row!.status).toBe("pending");
    expect(row!.scheduledFor.getTime()).toBeGreaterThanOrEqual(before + MINUTE);
    expect(row!.scheduledFor.getTime()).toBeLessThanOrEqual(Date.now() + 2 * MINUTE);
    const delayed = await h.api.deps.queues.delays.getDelayed();
    expect(delayed.map((j) => j.id)).toContain(delayJobId(row!.id));
  });

  it("a question's error_text overrides the re-prompt; country answers become ISO codes", async () => {
    const strict = {
      step_type: "question",
      config: { ...ask("Age?", "age", "number").config, error_text: "Digits, please." },
    };
    await tenantWithJourney(env, {
      bot,
      startParam: "custom",
      steps: [strict, ask("Country?", "country", "country")],
    });
    const user = h.newUser();
    for (const reply of ["/start custom", "old", "40", "Narnia", "germany"]) await bot.say(user, reply);
    const [session] = await sessionsOfUser(h.env, user);
    expect(session).toMatchObject({ status: "completed", answers: { age: 40, country: "DE" } });
    const texts = await outboxTexts(env, session!.id);
    expect(texts.slice(0, 3)).toEqual(["Age?", "Digits, please.", "Country?"]);
    expect(texts).toHaveLength(4); // and one default re-prompt for "Narnia"
  });

  it("a journey without steps cannot be activated, so its link starts nothing", async () => {
    const { journey, repo } = await tenantWithJourney(env, { bot, startParam: "empty", steps: [], status: "draft" });
    await expect(repo.journeys.update(journey.id, { status: "active" })).rejects.toThrow(/at least one step/);
    const user = h.newUser();
    await bot.say(user, "/start empty");
    expect(await sessionsOfUser(h.env, user)).toEqual([]);
  });
});
