/** Delay rows and outbox rows of a session: write, read, mark, row locks, and cancel. */
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { addBot, repoFor } from "../../../../test/support/fixtures.ts";
import { expectDomainError, FOUR_STEPS, newTenant, newUser } from "./helpers.ts";

const env = await createTestEnv();

async function journey() {
  const tenantId = newTenant();
  const repo = repoFor(env, tenantId);
  const bot = await addBot(env, tenantId);
  const j = await repo.journeys.create({ botId: bot.botId, name: "j", status: "active" });
  const { steps } = await repo.setSteps(j.id, FOUR_STEPS);
  return { tenantId, repo, bot, journey: j, steps };
}

describe("scheduled and outbox rows", () => {
  async function liveSession() {
    const ctx = await journey();
    const user = newUser();
    const s = await ctx.repo.sessions.insertLive(ctx.journey.id, user, user);
    const schedule = (minutes: number) =>
      ctx.repo.sessions.scheduleMessage({
        sessionId: s!.id,
        stepId: ctx.steps[2]!.id,
        telegramChatId: user,
        payload: { text: "later", n: minutes },
        scheduledFor: new Date(Date.now() + minutes * 60_000),
      });
    const out = (text: string) =>
      ctx.repo.sessions.addOutbox({ sessionId: s!.id, botId: ctx.bot.botId, telegramChatId: user, text });
    return { ...ctx, user, session: s!, schedule, out };
  }

  it("scheduleMessage / getScheduled / listScheduled / markScheduledSent / markScheduledFailed", async () => {
    const ctx = await liveSession();
    const late = await ctx.schedule(10);
    const early = await ctx.schedule(5);
    expect(late).toMatchObject({ tenantId: ctx.tenantId, status: "pending", sentAt: null, error: null });
    expect(late.messageContent).toEqual({ text: "later", n: 10 });
    expect((await ctx.repo.sessions.listScheduled(ctx.session.id)).map((r) => r.id)).toEqual([early.id, late.id]);
    await ctx.repo.sessions.markScheduledSent(early.id);
    const sent = await ctx.repo.sessions.getScheduled(early.id);
    expect(sent?.status).toBe("sent");
    expect(sent?.sentAt).toBeInstanceOf(Date);
    await ctx.repo.sessions.markScheduledFailed(late.id, "e".repeat(5000));
    const failed = await ctx.repo.sessions.getScheduled(late.id);
    expect([failed?.status, failed?.error?.length]).toEqual(["failed", 2000]);
    expect(await ctx.repo.sessions.getScheduled("x")).toBeNull();
    expect(await ctx.repo.sessions.listScheduled("x")).toEqual([]);
    const other = await journey();
    await expectDomainError(
      ctx.repo.sessions.scheduleMessage({
        sessionId: ctx.session.id,
        stepId: other.steps[0]!.id,
        telegramChatId: 1,
        payload: {},
        scheduledFor: new Date(),
      }),
      "NOT_FOUND",
    );
  });

  it("getLockedWithBot brings the bot and the steps; resumeFromDelay marks the row sent and the session active", async () => {
    const ctx = await liveSession();
    const delayStep = ctx.steps[2]!;
    await ctx.repo.sessions.update(ctx.session.id, { status: "waiting_delay", currentStepId: delayStep.id });
    const row = await ctx.schedule(1);
    const locked = await ctx.repo.transaction((r) => r.sessions.getLockedWithBot(ctx.session.id));
    expect(locked.botId).toBe(ctx.bot.botId);
    expect(locked.session).toMatchObject({ id: ctx.session.id, status: "waiting_delay", currentStepId: delayStep.id });
    expect([locked.step, locked.next]).toEqual([delayStep, ctx.steps[3]]);
    // Another tenant's repository, or a row of another session: refused, nothing written.
    const other = await liveSession();
    await expectDomainError(other.repo.sessions.resumeFromDelay(ctx.session.id, row.id), "NOT_FOUND");
    await expectDomainError(
      ctx.repo.sessions.resumeFromDelay(ctx.session.id, (await other.schedule(1)).id),
      "NOT_FOUND",
    );
    expect((await ctx.repo.sessions.getScheduled(row.id))?.status).toBe("pending");
    expect((await ctx.repo.sessions.get(ctx.session.id)).status).toBe("waiting_delay");
    const active = await ctx.repo.sessions.resumeFromDelay(ctx.session.id, row.id);
    expect(active).toMatchObject({ id: ctx.session.id, status: "active", currentStepId: delayStep.id });
    expect(await ctx.repo.sessions.getScheduled(row.id)).toMatchObject({ status: "sent", error: null });
    expect((await ctx.repo.sessions.getScheduled(row.id))?.sentAt).toBeInstanceOf(Date);
  });

  it("getScheduled skipLocked skips a row another transaction holds", async () => {
    const ctx = await liveSession();
    const row = await ctx.schedule(1);
    await ctx.repo.transaction(async (holder) => {
      expect((await holder.sessions.getScheduled(row.id, { forUpdate: "wait" }))?.id).toBe(row.id);
      const other = await ctx.repo.transaction((r) => r.sessions.getScheduled(row.id, { forUpdate: "skipLocked" }));
      expect(other).toBeNull();
    });
    expect((await ctx.repo.sessions.getScheduled(row.id, { forUpdate: "skipLocked" }))?.id).toBe(row.id);
  });

  it("addOutbox / listOutbox keep insertion order; a row without a session is allowed", async () => {
    const ctx = await liveSession();
    const a = await ctx.out("one");
    const b = await ctx.out("two");
    expect(a).toMatchObject({ status: "pending", attempts: 0, botId: ctx.bot.botId, messageContent: { text: "one" } });
    expect((await ctx.repo.sessions.listOutbox(ctx.session.id)).map((o) => o.id)).toEqual([a.id, b.id]);
    const loose = await ctx.repo.sessions.addOutbox({
      sessionId: null,
      botId: ctx.bot.botId,
      telegramChatId: 1,
      text: "x",
    });
    expect(loose.sessionId).toBeNull();
    expect(await ctx.repo.sessions.listOutbox("x")).toEqual([]);
  });

  it("cancel cancels only that session's pending rows", async () => {
    const ctx = await liveSession();
    const pending = await ctx.schedule(5);
    const sentRow = await ctx.schedule(1);
    await ctx.repo.sessions.markScheduledSent(sentRow.id);
    const outPending = await ctx.out("pending");
    const outSent = await ctx.out("sent");
    await env.handle.pool.query("UPDATE journey_outbox SET status = 'sent' WHERE id = $1", [outSent.id]);
    const neighbour = await ctx.repo.sessions.insertLive(ctx.journey.id, ctx.user + 1, ctx.user + 1);
    const nScheduled = await ctx.repo.sessions.scheduleMessage({
      sessionId: neighbour!.id,
      stepId: ctx.steps[2]!.id,
      telegramChatId: 1,
      payload: {},
      scheduledFor: new Date(),
    });
    const nOut = await ctx.repo.sessions.addOutbox({
      sessionId: neighbour!.id,
      botId: ctx.bot.botId,
      telegramChatId: 1,
      text: "n",
    });

    await ctx.repo.sessions.cancel(ctx.session.id, "why");
    expect((await ctx.repo.sessions.get(ctx.session.id)).status).toBe("cancelled");
    const sched = await ctx.repo.sessions.listScheduled(ctx.session.id);
    expect(sched.map((r) => [r.id, r.status])).toEqual([
      [sentRow.id, "sent"],
      [pending.id, "cancelled"],
    ]);
    expect(sched[1]!.error).toMatch(/why/);
    const out = await ctx.repo.sessions.listOutbox(ctx.session.id);
    expect(out.map((o) => [o.id, o.status])).toEqual([
      [outPending.id, "cancelled"],
      [outSent.id, "sent"],
    ]);
    expect((await ctx.repo.sessions.get(neighbour!.id)).status).toBe("active");
    expect((await ctx.repo.sessions.getScheduled(nScheduled.id))?.status).toBe("pending");
    expect((await ctx.repo.sessions.listOutbox(neighbour!.id)).map((o) => [o.id, o.status])).toEqual([
      [nOut.id, "pending"],
    ]);
    // Cancelling a finished session leaves its status alone.
    const done = await ctx.repo.sessions.updateStatus(neighbour!.id, "completed");
    await ctx.repo.sessions.cancel(done.id, "late");
    expect((await ctx.repo.sessions.get(done.id)).status).toBe("completed");
  });

  it("recent joins journey name and current step, newest activity first, limit clamped", async () => {
    const ctx = await liveSession();
    await ctx.repo.sessions.updateCurrentStep(ctx.session.id, ctx.steps[1]!.id);
    const other = await ctx.repo.sessions.insertLive(ctx.journey.id, ctx.user + 1, ctx.user + 1);
    await env.handle.pool.query(
      "UPDATE journey_user_sessions SET last_activity_at = now() - interval '1 day' WHERE id = $1",
      [other!.id],
    );
    const rows = await ctx.repo.sessions.recent(10);
    expect(rows.map((r) => [r.session.id, r.journeyName, r.stepOrder, r.stepType])).toEqual([
      [ctx.session.id, "j", 2, "message"],
      [other!.id, "j", null, null],
    ]);
    expect(await ctx.repo.sessions.recent(0)).toHaveLength(1);
  });
});
