/**
 * Delay rows and outbox rows of a session, as the repository reads and settles them: a delay row
 * read (and held), fired and cancelled through transition() and the applier, an outbox row marked
 * by its sender. The rows themselves are written by the applier; here they are set up as rows.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { tenantWithJourney } from "../../../../test/support/fixtures.ts";
import {
  insertOutbox,
  insertScheduled,
  insertSession,
  outboxOf,
  scheduledOf,
  sessionRow,
  textsOf,
  updateSession,
} from "../../../../test/support/rows.ts";
import { newUser, transitionLocked } from "./helpers.ts";

const env = await createTestEnv();

/** A journey of FOUR_STEPS with a live session on step 1, and helpers adding rows to that session. */
async function liveSession() {
  const ctx = await tenantWithJourney(env, { name: "j" });
  const { tenantId, bot } = ctx;
  const user = newUser();
  const session = await insertSession(env, {
    tenantId,
    journeyId: ctx.journey.id,
    userId: user,
    currentStepId: ctx.steps[0]!.id,
  });
  const schedule = (minutes: number) =>
    insertScheduled(env, {
      tenantId,
      sessionId: session.id,
      stepId: ctx.steps[2]!.id,
      chatId: user,
      payload: { text: "later", n: minutes },
      scheduledFor: new Date(Date.now() + minutes * 60_000),
    });
  const out = (text: string, chatId = user) =>
    insertOutbox(env, { tenantId, botId: bot.botId, sessionId: session.id, chatId, text });
  return { ...ctx, user, session, schedule, out };
}

describe("delay rows", () => {
  it("scheduled.get reads one of the tenant's rows; malformed or unknown ids are null", async () => {
    const ctx = await liveSession();
    const row = await ctx.schedule(10);
    expect(row).toMatchObject({ tenantId: ctx.tenantId, status: "pending", sentAt: null, error: null });
    expect(await ctx.repo.scheduled.get(row.id)).toEqual(row);
    expect(await ctx.repo.scheduled.get("x")).toBeNull();
    expect(await ctx.repo.scheduled.get(randomUUID())).toBeNull();
  });

  it("scheduled.get skipLocked skips a row another transaction holds", async () => {
    const ctx = await liveSession();
    const row = await ctx.schedule(1);
    await ctx.repo.transaction(async (holder) => {
      expect((await holder.scheduled.get(row.id, { forUpdate: "wait" }))?.id).toBe(row.id);
      const other = await ctx.repo.transaction((r) => r.scheduled.get(row.id, { forUpdate: "skipLocked" }));
      expect(other).toBeNull();
    });
    expect((await ctx.repo.scheduled.get(row.id, { forUpdate: "skipLocked" }))?.id).toBe(row.id);
  });

  it("a fired delay: its row is marked sent and the session runs on; fired again, nothing changes", async () => {
    const ctx = await liveSession();
    await updateSession(env, ctx.session.id, { status: "waiting_delay", currentStepId: ctx.steps[2]!.id });
    const row = await ctx.schedule(-1);
    const fired = await transitionLocked(ctx.repo, ctx.session.id, { type: "delay_fired", delay: row });
    expect(fired.result.outcome).toBe("resumed");
    const sent = await ctx.repo.scheduled.get(row.id);
    expect(sent).toMatchObject({ status: "sent", error: null });
    expect(sent?.sentAt).toBeInstanceOf(Date);
    expect(await sessionRow(env, ctx.session.id)).toMatchObject({ status: "completed", currentStepId: null });
    expect(await textsOf(env, ctx.session.id)).toEqual(["Bye"]);

    const again = await transitionLocked(ctx.repo, ctx.session.id, { type: "delay_fired", delay: sent! });
    expect(again.result.outcome).toBe("not_pending");
    expect(await ctx.repo.scheduled.get(row.id)).toEqual(sent);
  });

  it("a delay its session no longer waits on is failed, and the session is left alone", async () => {
    const ctx = await liveSession();
    const row = await ctx.schedule(-1);
    const fired = await transitionLocked(ctx.repo, ctx.session.id, { type: "delay_fired", delay: row });
    expect(fired.result.outcome).toBe("session_not_waiting");
    const failed = await ctx.repo.scheduled.get(row.id);
    expect(failed).toMatchObject({ status: "failed", sentAt: null });
    expect(failed?.error).toMatch(/not waiting/);
    expect(await sessionRow(env, ctx.session.id)).toMatchObject({ status: "active", currentStepId: ctx.steps[0]!.id });
  });

  it("a cancelled session's pending rows are cancelled with it, and no one else's", async () => {
    const ctx = await liveSession();
    const pending = await ctx.schedule(5);
    const sentRow = await ctx.schedule(1);
    const outPending = await ctx.out("pending");
    const outSent = await ctx.out("sent");
    await env.handle.pool.query("UPDATE journey_scheduled_messages SET status = 'sent' WHERE id = $1", [sentRow.id]);
    await env.handle.pool.query("UPDATE journey_outbox SET status = 'sent' WHERE id = $1", [outSent.id]);
    const neighbour = await insertSession(env, {
      tenantId: ctx.tenantId,
      journeyId: ctx.journey.id,
      userId: ctx.user + 1,
      currentStepId: ctx.steps[0]!.id,
    });
    const nScheduled = await insertScheduled(env, {
      tenantId: ctx.tenantId,
      sessionId: neighbour.id,
      stepId: ctx.steps[2]!.id,
      chatId: ctx.user + 1,
      scheduledFor: new Date(),
    });
    const nOut = await insertOutbox(env, {
      tenantId: ctx.tenantId,
      botId: ctx.bot.botId,
      sessionId: neighbour.id,
      chatId: ctx.user + 1,
      text: "n",
    });

    const { result } = await transitionLocked(ctx.repo, ctx.session.id, { type: "user_blocked", source: "kicked" });
    expect(result.outcome).toBe("cancelled");
    expect((await sessionRow(env, ctx.session.id))?.status).toBe("cancelled");
    const sched = await scheduledOf(env, ctx.session.id);
    expect(sched.map((r) => [r.id, r.status])).toEqual([
      [sentRow.id, "sent"],
      [pending.id, "cancelled"],
    ]);
    expect(sched[1]!.error).toMatch(/user blocked the bot/);
    expect((await outboxOf(env, ctx.session.id)).map((o) => [o.id, o.status])).toEqual([
      [outPending.id, "cancelled"],
      [outSent.id, "sent"],
    ]);
    expect((await sessionRow(env, neighbour.id))?.status).toBe("active");
    expect((await ctx.repo.scheduled.get(nScheduled.id))?.status).toBe("pending");
    expect((await outboxOf(env, neighbour.id)).map((o) => [o.id, o.status])).toEqual([[nOut.id, "pending"]]);

    // A finished session is not cancelled again.
    await updateSession(env, neighbour.id, { status: "completed", currentStepId: null });
    const late = await transitionLocked(ctx.repo, neighbour.id, { type: "user_blocked", source: "kicked" });
    expect(late.result.outcome).toBe("unchanged");
    expect((await sessionRow(env, neighbour.id))?.status).toBe("completed");
  });
});

describe("outbox rows", () => {
  it("markSent / markFailed / recordAttempt settle one row and say whether its chat has more", async () => {
    const ctx = await liveSession();
    const one = await ctx.out("one");
    const two = await ctx.out("two");
    const three = await ctx.out("three");
    const elsewhere = await ctx.out("another chat", ctx.user + 1);
    const row = async (id: number) => (await outboxOf(env, ctx.session.id)).find((o) => o.id === id)!;

    expect(await ctx.repo.outbox.markSent(one.id)).toBe(true);
    expect(await row(one.id)).toMatchObject({ status: "sent", attempts: 1, error: null, claimedUntil: null });
    expect((await row(one.id)).sentAt).toBeInstanceOf(Date);

    // A failed try that will be retried: still pending, counted, its error kept (truncated), lease ended.
    await env.handle.pool.query("UPDATE journey_outbox SET claimed_until = now() + interval '1 minute' WHERE id = $1", [
      two.id,
    ]);
    await ctx.repo.outbox.recordAttempt(two.id, "e".repeat(5000));
    const retried = await row(two.id);
    expect(retried).toMatchObject({ status: "pending", attempts: 1, claimedUntil: null });
    expect(retried.error).toHaveLength(2000);

    expect(await ctx.repo.outbox.markFailed(two.id, "Bad Request: chat not found")).toBe(true);
    expect(await row(two.id)).toMatchObject({ status: "failed", attempts: 2, error: "Bad Request: chat not found" });

    // The last pending row of the chat: the other chat's row does not count.
    expect(await ctx.repo.outbox.markSent(three.id)).toBe(false);
    expect((await row(elsewhere.id)).status).toBe("pending");
    expect(await ctx.repo.outbox.markSent(2 ** 50)).toBe(false);
  });
});

describe("sessions", () => {
  it("recent joins journey name and current step, newest activity first, limit clamped", async () => {
    const ctx = await liveSession();
    await updateSession(env, ctx.session.id, { currentStepId: ctx.steps[1]!.id });
    const other = await insertSession(env, { tenantId: ctx.tenantId, journeyId: ctx.journey.id, userId: ctx.user + 1 });
    await env.handle.pool.query(
      "UPDATE journey_user_sessions SET last_activity_at = now() - interval '1 day' WHERE id = $1",
      [other.id],
    );
    const rows = await ctx.repo.sessions.recent(10);
    expect(rows.map((r) => [r.session.id, r.journeyName, r.stepOrder, r.stepType])).toEqual([
      [ctx.session.id, "j", 2, "message"],
      [other.id, "j", null, null],
    ]);
    expect(await ctx.repo.sessions.recent(0)).toHaveLength(1);
  });
});
