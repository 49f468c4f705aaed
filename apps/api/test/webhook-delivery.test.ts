/**
 * Telegram's delivery semantics against the webhook: a redelivered update takes effect once,
 * concurrent updates for one session are serialised by its row lock (SPEC §3, §4), and an update
 * reaches only the tenant of the bot it was sent to — never another tenant's journeys or sessions.
 */
import { ALREADY_IN_FLOW, DomainError, schema } from "@journeys/core";
import { updates } from "@journeys/fake-telegram";
import { and, eq } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { tenantWithJourney } from "../../../test/support/fixtures.ts";
import { outboxOf } from "../../../test/support/rows.ts";
import { ask, message, outboxTexts, sessionsOfUser, startHarness } from "./webhook-harness.ts";

const h = await startHarness();
const { env } = h;
const bot = await h.connect("acme");
const Q = ["How old are you?", "Where do you live?", "How much will you deposit?"];
const { journey, stepIds } = await tenantWithJourney(env, {
  bot,
  startParam: "race",
  steps: [ask(Q[0]!, "age", "number"), ask(Q[1]!, "country", "text"), ask(Q[2]!, "deposit", "money")],
});

const statusOf = (res: { status: number; body: string }) => {
  expect(res.status).toBe(200);
  return (JSON.parse(res.body) as { status: string }).status;
};

async function processedRows(updateId: number) {
  const p = schema.processedUpdates;
  return h.env.handle.db
    .select()
    .from(p)
    .where(and(eq(p.botId, bot.botId), eq(p.updateId, updateId)));
}

describe("redelivery of one update", () => {
  it("three sequential deliveries of one answer store it once", async () => {
    const user = h.newUser();
    await bot.say(user, "/start race");
    const [session] = await sessionsOfUser(h.env, user);
    const answer = updates.textMessage("33", { userId: user });

    expect(statusOf(await bot.deliver(answer))).toBe("processed");
    const outboxAfterFirst = await outboxOf(env, session!.id);
    expect(statusOf(await bot.deliver(answer))).toBe("duplicate");
    expect(statusOf(await bot.deliver(answer))).toBe("duplicate");

    const [after] = await sessionsOfUser(h.env, user);
    expect(after).toMatchObject({ answers: { age: 33 }, currentStepId: stepIds[1] });
    expect(await outboxOf(env, session!.id)).toEqual(outboxAfterFirst);
    expect(outboxAfterFirst.map((o) => o.messageContent.text)).toEqual([Q[0], Q[1]]);
    expect(await processedRows(answer.update_id)).toHaveLength(1);
  });

  it("three concurrent deliveries of one answer store it once", async () => {
    const user = h.newUser();
    await bot.say(user, "/start race");
    const answer = updates.textMessage("41", { userId: user });
    const results = await Promise.all([1, 2, 3].map(() => bot.deliver(answer)));
    expect(results.map(statusOf).sort()).toEqual(["duplicate", "duplicate", "processed"]);
    const [session] = await sessionsOfUser(h.env, user);
    expect(session).toMatchObject({ answers: { age: 41 }, currentStepId: stepIds[1] });
    expect(await outboxTexts(env, session!.id)).toEqual([Q[0], Q[1]]);
  });

  it("a redelivered /start starts one session", async () => {
    const user = h.newUser();
    const start = updates.startCommand("race", { userId: user });
    const results = await Promise.all([bot.deliver(start), bot.deliver(start)]);
    expect(results.map(statusOf).sort()).toEqual(["duplicate", "processed"]);
    const sessions = await sessionsOfUser(h.env, user);
    expect(sessions).toHaveLength(1);
    expect(await outboxTexts(env, sessions[0]!.id)).toEqual([Q[0]]);
  });

  it("the same update_id on another bot is a different update", async () => {
    const other = await h.connect("acme");
    await tenantWithJourney(env, { bot: other, startParam: "race", steps: [ask("Other bot?", "x", "text")] });
    const user = h.newUser();
    const start = updates.startCommand("race", { userId: user });
    expect(statusOf(await bot.deliver(start))).toBe("processed");
    expect(statusOf(await other.deliver(start))).toBe("processed");
    expect(await sessionsOfUser(h.env, user)).toHaveLength(2);
  });
});

describe("concurrent updates for one session", () => {
  it("two answers at once answer question 1 then question 2 (10 races)", async () => {
    for (let race = 0; race < 10; race++) {
      const user = h.newUser();
      await bot.say(user, "/start race");
      const [a, b] = await Promise.all([bot.say(user, "33"), bot.say(user, "44")]);
      expect([a, b]).toEqual([
        { ok: true, status: "processed" },
        { ok: true, status: "processed" },
      ]);
      const [session, ...more] = await sessionsOfUser(h.env, user);
      expect(more).toEqual([]);
      expect(session).toMatchObject({ status: "active", currentStepId: stepIds[2] });
      // Whichever came first answered the age; the other answered the country: none lost, none twice.
      const answers = session!.answers as { age: number; country: string };
      expect(Object.keys(answers).sort()).toEqual(["age", "country"]);
      expect([String(answers.age), answers.country].sort()).toEqual(["33", "44"]);
      expect(await outboxTexts(env, session!.id)).toEqual(Q);
    }
  });

  it("two /start taps at once start one session; the second is told it is already in", async () => {
    for (let race = 0; race < 5; race++) {
      const user = h.newUser();
      const results = await Promise.all([bot.say(user, "/start race"), bot.say(user, "/start race")]);
      expect(results.map((r) => r.status)).toEqual(["processed", "processed"]);
      const [session, ...more] = await sessionsOfUser(h.env, user);
      expect(more).toEqual([]);
      expect(session).toMatchObject({ journeyId: journey.id, status: "active", currentStepId: stepIds[0] });
      expect(await outboxTexts(env, session!.id)).toEqual([Q[0], ALREADY_IN_FLOW, Q[0]]);
    }
  });
});

const botA = await h.connect("alpha");
const botB = await h.connect("beta");
const a = await tenantWithJourney(env, {
  bot: botA,
  startParam: "join",
  steps: [ask("Alpha: your name?", "name", "text"), message("Alpha: thanks")],
});
const b = await tenantWithJourney(env, {
  bot: botB,
  startParam: "join",
  steps: [ask("Beta: your name?", "name", "text"), ask("Beta: age?", "age", "number")],
});

const notFound = expect.objectContaining({ code: "NOT_FOUND" });

describe("two tenants, one start_param", () => {
  it("each bot starts its own tenant's journey, and answers stay on their bot", async () => {
    const user = h.newUser();
    await botA.say(user, "/start join");
    const [sa, ...none] = await sessionsOfUser(h.env, user);
    expect(none).toEqual([]);
    expect(sa).toMatchObject({ tenantId: "alpha", journeyId: a.journey.id, currentStepId: a.stepIds[0] });

    await botB.say(user, "/start join");
    const sb = (await sessionsOfUser(h.env, user)).find((s) => s.id !== sa!.id)!;
    expect(sb).toMatchObject({ tenantId: "beta", journeyId: b.journey.id, currentStepId: b.stepIds[0] });
    expect(await outboxTexts(env, sa!.id)).toEqual(["Alpha: your name?"]);
    expect(await outboxTexts(env, sb.id)).toEqual(["Beta: your name?"]);

    // An answer on bot A advances only the session on bot A.
    await botA.say(user, "Ann");
    const afterA = await sessionsOfUser(h.env, user);
    expect(afterA.find((s) => s.id === sa!.id)).toMatchObject({ status: "completed", answers: { name: "Ann" } });
    expect(afterA.find((s) => s.id === sb.id)).toMatchObject({
      status: "active",
      answers: {},
      currentStepId: b.stepIds[0],
    });
    expect(await outboxTexts(env, sb.id)).toEqual(["Beta: your name?"]);

    await botB.say(user, "Bob");
    const afterB = await sessionsOfUser(h.env, user);
    expect(afterB.find((s) => s.id === sb.id)).toMatchObject({ answers: { name: "Bob" }, currentStepId: b.stepIds[1] });
    expect(afterB.find((s) => s.id === sa!.id)).toMatchObject({ status: "completed", answers: { name: "Ann" } });

    // Each tenant's repository sees only its own sessions, and the other's ids are simply not found.
    const recentA = await botA.repo.sessions.recent(100);
    const recentB = await botB.repo.sessions.recent(100);
    expect(recentA.map((r) => r.session.id)).toEqual([sa!.id]);
    expect(recentB.map((r) => r.session.id)).toEqual([sb.id]);
    await expect(botA.repo.sessions.get(sb.id)).rejects.toEqual(notFound);
    await expect(botB.repo.sessions.get(sa!.id)).rejects.toEqual(notFound);
    await expect(botA.repo.journeys.get(b.journey.id)).rejects.toBeInstanceOf(DomainError);
    expect((await botA.repo.journeys.list()).map((j) => j.id)).toEqual([a.journey.id]);
    expect((await botB.repo.journeys.list()).map((j) => j.id)).toEqual([b.journey.id]);
  });

  it("a tenant's journey cannot be put on another tenant's bot", async () => {
    await expect(botA.repo.journeys.create({ botId: botB.botId, name: "steal" })).rejects.toEqual(
      expect.objectContaining({ code: "VALIDATION" }),
    );
  });

  it("an update sent to bot B's URL with bot A's secret is refused", async () => {
    const user = h.newUser();
    const secretA = botA.secret;
    const res = await fetch(`${h.api.url}/telegram/webhook/${botB.botId}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": secretA },
      body: JSON.stringify(updates.startCommand("join", { userId: user })),
    });
    expect(res.status).toBe(401);
    expect(await sessionsOfUser(h.env, user)).toEqual([]);
  });

  it("a user blocking bot A keeps their session on bot B", async () => {
    const user = h.newUser();
    await botA.say(user, "/start join");
    await botB.say(user, "/start join");
    expect((await botA.deliver(updates.myChatMember("kicked", { userId: user, bot: botA.ref }))).status).toBe(200);
    const sessions = await sessionsOfUser(h.env, user);
    expect(sessions.map((s) => [s.tenantId, s.status]).sort()).toEqual([
      ["alpha", "cancelled"],
      ["beta", "active"],
    ]);
  });
});
