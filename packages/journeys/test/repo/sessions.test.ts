/** Sessions: one live per journey and user (enforced by the database), updates, answers. */
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { addBot, repoFor } from "../../../../test/support/fixtures.ts";
import { expectDomainError, FOUR_STEPS, newTenant, newUser, pgErrorCode } from "./helpers.ts";

const env = await createTestEnv();

async function journey() {
  const tenantId = newTenant();
  const repo = repoFor(env, tenantId);
  const bot = await addBot(env, tenantId);
  const j = await repo.journeys.create({ botId: bot.botId, name: "j", status: "active" });
  const { steps } = await repo.setSteps(j.id, FOUR_STEPS);
  return { tenantId, repo, bot, journey: j, steps };
}

const rawInsert = (tenantId: string, journeyId: string, user: number, status = "active") =>
  env.handle.pool.query(
    `INSERT INTO journey_user_sessions (tenant_id, journey_id, telegram_chat_id, telegram_user_id, status)
     VALUES ($1, $2, $3, $3, $4) RETURNING id`,
    [tenantId, journeyId, user, status],
  );

describe("one live session per (journey, user)", () => {
  it("insertLive creates an active session with the seed defaults", async () => {
    const { tenantId, repo, journey: j } = await journey();
    const user = newUser();
    const s = await repo.sessions.insertLive(j.id, user, user + 1);
    expect(s).toMatchObject({
      tenantId,
      journeyId: j.id,
      telegramUserId: user,
      telegramChatId: user + 1,
      status: "active",
      answers: {},
      currentStepId: null,
      completedAt: null,
    });
    expect(await repo.sessions.get(s!.id)).toEqual(s);
    expect(await repo.sessions.getActive(j.id, user)).toEqual(s);
    await expectDomainError(repo.sessions.insertLive(crypto.randomUUID(), user, user), "NOT_FOUND");
  });

  it("the database refuses a second live one: raw insert 23505, insertLive null", async () => {
    const { tenantId, repo, journey: j } = await journey();
    const user = newUser();
    const first = await repo.sessions.insertLive(j.id, user, user);
    expect(await pgErrorCode(rawInsert(tenantId, j.id, user))).toBe("23505");
    expect(await pgErrorCode(rawInsert(tenantId, j.id, user, "waiting_delay"))).toBe("23505");
    expect(await repo.sessions.insertLive(j.id, user, user)).toBeNull();

    await repo.sessions.updateStatus(first!.id, "waiting_delay");
    expect(await repo.sessions.insertLive(j.id, user, user)).toBeNull();
    expect(await pgErrorCode(rawInsert(tenantId, j.id, user))).toBe("23505");

    // Non-live rows never clash.
    expect(await pgErrorCode(rawInsert(tenantId, j.id, user, "completed"))).toBeUndefined();
    expect(await pgErrorCode(rawInsert(tenantId, j.id, user, "expired"))).toBeUndefined();
    // Another user, or another journey, is independent.
    expect(await repo.sessions.insertLive(j.id, user + 1, user + 1)).not.toBeNull();
    const j2 = await repo.journeys.create({ botId: j.botId, name: "j2" });
    expect(await repo.sessions.insertLive(j2.id, user, user)).not.toBeNull();
  });

  it("after completed or cancelled a new live session can start", async () => {
    const { repo, journey: j } = await journey();
    const user = newUser();
    const first = await repo.sessions.insertLive(j.id, user, user);
    const done = await repo.sessions.updateStatus(first!.id, "completed");
    expect(done.completedAt).toBeInstanceOf(Date);
    expect(await repo.sessions.getActive(j.id, user)).toBeNull();
    const second = await repo.sessions.insertLive(j.id, user, user);
    expect(second?.id).not.toBe(first!.id);
    await repo.sessions.cancel(second!.id, "test");
    expect((await repo.sessions.get(second!.id)).status).toBe("cancelled");
    expect(await repo.sessions.insertLive(j.id, user, user)).not.toBeNull();
  });

  it("get: unknown or malformed id is NOT_FOUND; getActive of a malformed journey is null", async () => {
    const { repo } = await journey();
    await expectDomainError(repo.sessions.get(crypto.randomUUID()), "NOT_FOUND");
    await expectDomainError(repo.sessions.get("x"), "NOT_FOUND");
    expect(await repo.sessions.getActive("x", 1)).toBeNull();
  });

  it("liveForUserOnBot lists live sessions on that bot's journeys, most recently active first", async () => {
    const { tenantId, repo, bot, journey: j1 } = await journey();
    const j2 = await repo.journeys.create({ botId: bot.botId, name: "j2" });
    const bot2 = await addBot(env, tenantId);
    const j3 = await repo.journeys.create({ botId: bot2.botId, name: "j3" });
    const user = newUser();
    const s1 = await repo.sessions.insertLive(j1.id, user, user);
    const s2 = await repo.sessions.insertLive(j2.id, user, user);
    await repo.sessions.insertLive(j3.id, user, user);
    await env.handle.pool.query(
      "UPDATE journey_user_sessions SET last_activity_at = now() - interval '1 hour' WHERE id = $1",
      [s2!.id],
    );
    expect((await repo.sessions.liveForUserOnBot(bot.botId, user)).map((s) => s.id)).toEqual([s1!.id, s2!.id]);
    await repo.sessions.updateStatus(s1!.id, "completed");
    const locked = await repo.transaction((r) => r.sessions.liveForUserOnBot(bot.botId, user, { forUpdate: true }));
    expect(locked.map((s) => s.id)).toEqual([s2!.id]);
  });

  it("claimUpdateLockingLive claims an update once and returns the user's live sessions with the claim", async () => {
    const { tenantId, repo, bot, journey: j1 } = await journey();
    const j2 = await repo.journeys.create({ botId: bot.botId, name: "j2" });
    const user = newUser();
    const s1 = await repo.sessions.insertLive(j1.id, user, user);
    const s2 = await repo.sessions.insertLive(j2.id, user, user);
    await env.handle.pool.query(
      "UPDATE journey_user_sessions SET last_activity_at = now() - interval '1 hour' WHERE id = $1",
      [s1!.id],
    );
    const first = await repo.transaction((r) => r.sessions.claimUpdateLockingLive(bot.botId, 501, user));
    expect(first.claimed).toBe(true);
    expect(first.live.map((l) => l.session.id)).toEqual([s2!.id, s1!.id]);
    expect(first.live[0]!.session).toMatchObject({
      tenantId,
      journeyId: j2.id,
      telegramUserId: user,
      status: "active",
    });
    expect(first.live[0]!.session.startedAt).toBeInstanceOf(Date);
    // Neither session stands on a step yet: no step, no next.
    expect(first.live.map(({ step, next }) => [step, next])).toEqual([
      [null, null],
      [null, null],
    ]);
    // The same update again: not claimed, and no session read.
    const again = await repo.transaction((r) => r.sessions.claimUpdateLockingLive(bot.botId, 501, user));
    expect(again).toEqual({ claimed: false, live: [] });
    // A new update of a user without a live session: claimed, nothing to answer.
    const nobody = await repo.sessions.claimUpdateLockingLive(bot.botId, 502, newUser());
    expect(nobody).toEqual({ claimed: true, live: [] });
    // Another tenant's repository cannot claim for this bot, nor see the sessions.
    const other = repoFor(env, newTenant());
    expect(await other.sessions.claimUpdateLockingLive(bot.botId, 503, user)).toEqual({ claimed: false, live: [] });
    const { rows } = await env.handle.pool.query(
      "SELECT update_id FROM processed_updates WHERE bot_id = $1 ORDER BY 1",
      [bot.botId],
    );
    expect(rows.map((r) => Number(r.update_id))).toEqual([501, 502]);
  });

  it("claimUpdateLockingLive waits for a concurrent transition and brings the steps of the session it left", async () => {
    const { repo, bot, journey: j, steps } = await journey();
    const user = newUser();
    const s = await repo.sessions.insertLive(j.id, user, user);
    await repo.sessions.updateCurrentStep(s!.id, steps[0]!.id);
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    // The first update holds the session and moves it on a step while the second one waits.
    const first = repo.transaction(async (r) => {
      const { live } = await r.sessions.claimUpdateLockingLive(bot.botId, 701, user);
      locked();
      await held;
      await r.sessions.updateCurrentStep(live[0]!.session.id, steps[1]!.id);
    });
    await isLocked;
    let secondDone = false;
    const second = repo
      .transaction((r) => r.sessions.claimUpdateLockingLive(bot.botId, 702, user))
      .finally(() => {
        secondDone = true;
      });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(secondDone).toBe(false); // blocked on the row lock
    release();
    await first;
    const [after] = (await second).live;
    expect(after!.session.currentStepId).toBe(steps[1]!.id);
    expect([after!.step?.id, after!.next?.id]).toEqual([steps[1]!.id, steps[2]!.id]);
  });

  it("claimUpdateLockingLive brings each session's current step and the live step after it", async () => {
    const { repo, bot, journey: j, steps } = await journey();
    const user = newUser();
    const s = await repo.sessions.insertLive(j.id, user, user);
    await repo.sessions.updateCurrentStep(s!.id, steps[0]!.id);
    const claim = (updateId: number) =>
      repo.transaction((r) => r.sessions.claimUpdateLockingLive(bot.botId, updateId, user));
    const [onFirst] = (await claim(601)).live;
    expect(onFirst!.step).toEqual(steps[0]);
    expect(onFirst!.step!.createdAt).toBeInstanceOf(Date);
    expect(onFirst!.next).toEqual(steps[1]);
    // The step after it removed: the next live one is the one after that.
    await env.handle.pool.query("UPDATE journey_steps SET removed_at = now() WHERE id = $1", [steps[1]!.id]);
    const [skipping] = (await claim(602)).live;
    expect(skipping!.next?.id).toBe(steps[2]!.id);
    // Standing on a removed step: that step (removed_at set), as getStep returns it.
    await repo.sessions.updateCurrentStep(s!.id, steps[1]!.id);
    const [onRemoved] = (await claim(603)).live;
    expect(onRemoved!.step?.id).toBe(steps[1]!.id);
    expect(onRemoved!.step!.removedAt).toBeInstanceOf(Date);
    expect(onRemoved!.step).toEqual(await repo.getStep(steps[1]!.id));
    // On the last step: no next.
    await repo.sessions.updateCurrentStep(s!.id, steps[3]!.id);
    const [onLast] = (await claim(604)).live;
    expect(onLast!.step?.id).toBe(steps[3]!.id);
    expect(onLast!.next).toBeNull();
  });
});

describe("session writes", () => {
  it("update changes only the given fields and moves last_activity_at", async () => {
    const { repo, journey: j, steps } = await journey();
    const user = newUser();
    const s = await repo.sessions.insertLive(j.id, user, user);
    await env.handle.pool.query(
      "UPDATE journey_user_sessions SET last_activity_at = now() - interval '1 hour' WHERE id = $1",
      [s!.id],
    );
    const moved = await repo.sessions.updateCurrentStep(s!.id, steps[1]!.id);
    expect(moved).toMatchObject({ currentStepId: steps[1]!.id, status: "active", answers: {}, completedAt: null });
    expect(moved.lastActivityAt!.getTime()).toBeGreaterThan(s!.lastActivityAt!.getTime());
    const waiting = await repo.sessions.update(s!.id, { status: "waiting_delay" });
    expect(waiting).toMatchObject({ currentStepId: steps[1]!.id, status: "waiting_delay", completedAt: null });
    expect((await repo.sessions.updateCurrentStep(s!.id, null)).currentStepId).toBeNull();
    await expectDomainError(repo.sessions.update(crypto.randomUUID(), { status: "active" }), "NOT_FOUND");
    // A step of another journey is refused.
    const other = await journey();
    await expectDomainError(repo.sessions.updateCurrentStep(s!.id, other.steps[0]!.id), "NOT_FOUND");
  });

  it("storeAnswerAndAdvance merges answers and stores JSON values verbatim", async () => {
    const { repo, journey: j, steps } = await journey();
    const user = newUser();
    const s = await repo.sessions.insertLive(j.id, user, user);
    const tricky = [
      `she said "hi"`,
      "back\\slash \\n not a newline",
      "'; DROP TABLE journeys; --",
      "emoji 🚀👩‍💻 ü ß 中文",
      "{{x}} %s $1 ? :name",
    ];
    const values: Record<string, unknown> = {
      age: 33,
      price: 12.5,
      name: "  Ann  ",
      money: { amount: 1000, currency: "USD" },
      nothing: null,
      flag: false,
      list: [1, "two"],
      ...Object.fromEntries(tricky.map((t, i) => [`tricky_${i}`, t])),
      "key with 'quote\"": "k",
    };
    let last = s!;
    for (const [k, v] of Object.entries(values)) {
      last = await repo.sessions.storeAnswerAndAdvance(s!.id, k, v, steps[1]!.id);
    }
    expect(last.answers).toEqual(values);
    expect(last.currentStepId).toBe(steps[1]!.id);
    expect((await repo.sessions.get(s!.id)).answers).toEqual(values);
    // Overwriting one key keeps the others; advancing to null marks the end.
    const end = await repo.sessions.storeAnswerAndAdvance(s!.id, "age", 34, null);
    expect(end.answers).toEqual({ ...values, age: 34 });
    expect(end.currentStepId).toBeNull();
    const { rows } = await env.handle.pool.query(
      "SELECT answers->>'tricky_2' AS v, answers->'age' AS age FROM journey_user_sessions WHERE id = $1",
      [s!.id],
    );
    expect(rows[0]).toEqual({ v: "'; DROP TABLE journeys; --", age: 34 });
    expect((await repo.journeys.list()).length).toBe(1);
    await expectDomainError(repo.sessions.storeAnswerAndAdvance(crypto.randomUUID(), "k", 1, null), "NOT_FOUND");
  });

  it("storeAnswerAndAsk stores, stands on the question and queues its text, all or nothing", async () => {
    const { repo, bot, journey: j, steps } = await journey();
    const user = newUser();
    const s = await repo.sessions.insertLive(j.id, user, 4242);
    const asked = await repo.sessions.storeAnswerAndAsk(s!.id, "name", "Ann", {
      stepId: steps[1]!.id,
      botId: bot.botId,
      text: `Next? "quoted" 🚀`,
    });
    expect(asked.session).toMatchObject({ id: s!.id, currentStepId: steps[1]!.id, answers: { name: "Ann" } });
    expect(asked.session.lastActivityAt).toBeInstanceOf(Date);
    const outbox = await repo.sessions.listOutbox(s!.id);
    expect(outbox).toHaveLength(1);
    expect(outbox[0]).toMatchObject({
      id: asked.outboxId,
      botId: bot.botId,
      telegramChatId: 4242,
      status: "pending",
      messageContent: { text: `Next? "quoted" 🚀` },
    });
    // Another tenant's bot, a step of another journey, another tenant's session: nothing written.
    const other = await journey();
    const refused = [
      () => repo.sessions.storeAnswerAndAsk(s!.id, "k", 1, { stepId: steps[2]!.id, botId: other.bot.botId, text: "x" }),
      () => repo.sessions.storeAnswerAndAsk(s!.id, "k", 1, { stepId: other.steps[1]!.id, botId: bot.botId, text: "x" }),
      () =>
        other.repo.sessions.storeAnswerAndAsk(s!.id, "k", 1, {
          stepId: steps[2]!.id,
          botId: other.bot.botId,
          text: "x",
        }),
    ];
    for (const attempt of refused) await expectDomainError(attempt(), "NOT_FOUND");
    expect(await repo.sessions.get(s!.id)).toMatchObject({ currentStepId: steps[1]!.id, answers: { name: "Ann" } });
    expect(await repo.sessions.listOutbox(s!.id)).toHaveLength(1);
  });
});
