/**
 * Sessions in the database: one live per journey and user (the partial unique index), the reads the
 * engine needs (locked, or without locks with the row version), the applier writing a transition's
 * result, and the per-process step cache.
 */
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { repoFor, tenantWithJourney } from "../../../../test/support/fixtures.ts";
import {
  insertOutbox,
  insertScheduled,
  insertSession,
  outboxOf,
  scheduledOf,
  sessionRow,
} from "../../../../test/support/rows.ts";
import { transition } from "../../src/engine/transition.ts";
import type { TransitionResult } from "../../src/engine/types.ts";
import { StepsCache, stateOf } from "../../src/repo/index.ts";
import { FOUR_STEPS, newTenant, newUser, pgErrorCode } from "./helpers.ts";

const env = await createTestEnv();
const NOW = new Date("2026-12-04T12:00:00.000Z");
const clock = { now: NOW, random: () => 0.5 };

async function journey() {
  const { tenantId, repo, bot, journey: j, steps } = await tenantWithJourney(env, { startParam: null, name: "j" });
  const user = newUser();
  const onQuestion = () => insertSession(env, { tenantId, journeyId: j.id, userId: user, currentStepId: steps[0]!.id });
  return { tenantId, repo, bot, journey: j, steps, user, onQuestion };
}

const rawInsert = (tenantId: string, journeyId: string, user: number, status = "active") =>
  env.handle.pool.query(
    `INSERT INTO journey_user_sessions (tenant_id, journey_id, telegram_chat_id, telegram_user_id, status)
     VALUES ($1, $2, $3, $3, $4) RETURNING id`,
    [tenantId, journeyId, user, status],
  );

describe("one live session per (journey, user)", () => {
  it("the database refuses a second live one; non-live rows, other users and journeys never clash", async () => {
    const w = await journey();
    await rawInsert(w.tenantId, w.journey.id, w.user);
    expect(await pgErrorCode(rawInsert(w.tenantId, w.journey.id, w.user))).toBe("23505");
    expect(await pgErrorCode(rawInsert(w.tenantId, w.journey.id, w.user, "waiting_delay"))).toBe("23505");
    for (const status of ["completed", "expired", "cancelled"]) {
      expect(await pgErrorCode(rawInsert(w.tenantId, w.journey.id, w.user, status))).toBeUndefined();
    }
    expect(await pgErrorCode(rawInsert(w.tenantId, w.journey.id, newUser()))).toBeUndefined();
  });

  it("a start that loses the race to a concurrent one writes nothing and says so", async () => {
    const w = await journey();
    const live = await w.repo.sessions.lockLiveInJourney(w.journey.id, w.user);
    expect(live).toBeNull();
    const def = await w.repo.sessions.journey(w.journey);
    const result = transition(def, null, { type: "start", param: "p", user: { id: w.user, chatId: w.user } }, clock);
    await w.onQuestion(); // the concurrent start committed first
    expect(await w.repo.sessions.apply(result, { botId: w.bot.botId })).toEqual({
      applied: false,
      reason: "live_session_exists",
    });
    const { rows } = await env.handle.pool.query(
      "SELECT count(*)::int AS n FROM journey_outbox WHERE telegram_chat_id = $1",
      [w.user],
    );
    expect(rows[0].n).toBe(0);
  });
});

describe("the reads", () => {
  it("claimUpdateLockingLive claims once and brings the user's live sessions with their version and journey", async () => {
    const w = await journey();
    const s = await w.onQuestion();
    const first = await w.repo.transaction((r) => r.sessions.claimUpdateLockingLive(w.bot.botId, 501, w.user));
    expect(first.claimed).toBe(true);
    expect(first.live).toHaveLength(1);
    expect(first.live[0]).toMatchObject({ id: s.id, botId: w.bot.botId, reEntryPolicy: "block", stepsVersion: 1 });
    expect(first.live[0]!.version).toMatch(/^\d+$/);
    const again = await w.repo.transaction((r) => r.sessions.claimUpdateLockingLive(w.bot.botId, 501, w.user));
    expect(again).toEqual({ claimed: false, live: [] });
    const other = repoFor(env, newTenant());
    expect(await other.sessions.claimUpdateLockingLive(w.bot.botId, 503, w.user)).toEqual({ claimed: false, live: [] });
  });

  it("peekLive reads without writing; the version moves with every write of the row", async () => {
    const w = await journey();
    const s = await w.onQuestion();
    const a = await w.repo.sessions.peekLive(w.bot.botId, 9, w.user);
    expect(a.seen).toBe(false);
    expect(a.live.map((l) => l.id)).toEqual([s.id]);
    await env.handle.pool.query("UPDATE journey_user_sessions SET status = status WHERE id = $1", [s.id]);
    const b = await w.repo.sessions.peekLive(w.bot.botId, 9, w.user);
    expect(b.live[0]!.version).not.toBe(a.live[0]!.version);
    expect(await w.repo.updates.claim(w.bot.botId, 9)).toBe(true);
    expect((await w.repo.sessions.peekLive(w.bot.botId, 9, w.user)).seen).toBe(true);
    expect(await repoFor(env, newTenant()).sessions.peekLive(w.bot.botId, 10, w.user)).toEqual({
      seen: false,
      live: [],
    });
  });

  it("lock, lockLiveOnBot and lockLiveInJourney find only this tenant's live sessions", async () => {
    const w = await journey();
    const s = await w.onQuestion();
    expect((await w.repo.sessions.lock(s.id))?.id).toBe(s.id);
    expect((await w.repo.sessions.lockLiveOnBot(w.bot.botId, w.user)).map((r) => r.id)).toEqual([s.id]);
    expect((await w.repo.sessions.lockLiveInJourney(w.journey.id, w.user))?.id).toBe(s.id);
    const other = repoFor(env, newTenant());
    expect(await other.sessions.lock(s.id)).toBeNull();
    expect(await other.sessions.lockLiveOnBot(w.bot.botId, w.user)).toEqual([]);
    expect(await other.sessions.lockLiveInJourney(w.journey.id, w.user)).toBeNull();
    expect(await w.repo.sessions.lock("not-a-uuid")).toBeNull();
  });
});

describe("tenancy guards", () => {
  it("peekLive does not tell another tenant whether an update of this bot was recorded", async () => {
    const w = await journey();
    expect(await w.repo.updates.claim(w.bot.botId, 42)).toBe(true);
    expect((await w.repo.sessions.peekLive(w.bot.botId, 42, w.user)).seen).toBe(true);
    expect(await repoFor(env, newTenant()).sessions.peekLive(w.bot.botId, 42, w.user)).toEqual({
      seen: false,
      live: [],
    });
  });

  it("apply writes no rows for another tenant's bot, and never points a session at another journey's step", async () => {
    const a = await journey();
    const b = await journey();
    const s = await b.onQuestion();
    const read = (await b.repo.sessions.lock(s.id))!;
    const result = transition(await b.repo.sessions.journeyOf(read), stateOf(read), { type: "text", text: "x" }, clock);
    // A result handed in with A's bot: B's session is written, but no outbox row or update for A's bot.
    const forged = await b.repo.sessions.apply(result, { botId: a.bot.botId, version: read.version, updateId: 5 });
    expect(forged.applied).toBe(true);
    expect(await outboxOf(env, s.id)).toEqual([]);
    expect((await a.repo.sessions.peekLive(a.bot.botId, 5, a.user)).seen).toBe(false);
    // A result that points B's session at A's step writes nothing.
    const change = { ...result.changes[0]!, session: { ...result.changes[0]!.session, currentStepId: a.steps[1]!.id } };
    await expect(b.repo.sessions.apply({ ...result, changes: [change] }, { botId: b.bot.botId })).rejects.toMatchObject(
      {
        code: "NOT_FOUND",
      },
    );
    expect((await sessionRow(env, s.id))?.currentStepId).toBe(b.steps[0]!.id);
  });
});

describe("the applier", () => {
  it("writes the session, its messages in order and its delay row; merges the answers stored", async () => {
    const w = await journey();
    const s = await insertSession(env, {
      tenantId: w.tenantId,
      journeyId: w.journey.id,
      userId: w.user,
      currentStepId: w.steps[0]!.id,
      answers: { before: true },
    });
    const read = (await w.repo.sessions.lock(s.id))!;
    const result = transition(
      await w.repo.sessions.journeyOf(read),
      stateOf(read),
      { type: "text", text: "30" },
      clock,
    );
    const applied = await w.repo.sessions.apply(result, { botId: w.bot.botId });
    expect(applied.applied).toBe(true);
    expect(await sessionRow(env, s.id)).toMatchObject({
      status: "waiting_delay",
      currentStepId: w.steps[2]!.id,
      answers: { before: true, age: 30 },
      lastActivityAt: NOW,
    });
    const outbox = await outboxOf(env, s.id);
    expect(outbox.map((o) => o.messageContent.text)).toEqual(["Thanks"]);
    const [delay] = await scheduledOf(env, s.id);
    expect(delay).toMatchObject({
      stepId: w.steps[2]!.id,
      status: "pending",
      scheduledFor: new Date(NOW.getTime() + 90_000),
    });
    if (applied.applied) {
      expect(applied.effects).toEqual({
        outbox: [{ id: outbox[0]!.id, botId: w.bot.botId }],
        scheduled: [{ id: delay!.id, scheduledFor: delay!.scheduledFor }],
      });
    }
  });

  it("a stale version writes nothing at all; the current one writes and records the update", async () => {
    const w = await journey();
    const s = await w.onQuestion();
    const peek = (await w.repo.sessions.peekLive(w.bot.botId, 31, w.user)).live[0]!;
    const result = transition(await w.repo.sessions.journeyOf(peek), stateOf(peek), { type: "text", text: "x" }, clock);
    await env.handle.pool.query("UPDATE journey_user_sessions SET status = status WHERE id = $1", [s.id]);
    const stale = await w.repo.sessions.apply(result, { botId: w.bot.botId, version: peek.version, updateId: 31 });
    expect(stale).toEqual({ applied: false, reason: "stale" });
    expect(await outboxOf(env, s.id)).toEqual([]);
    expect((await w.repo.sessions.peekLive(w.bot.botId, 31, w.user)).seen).toBe(false);
    const fresh = (await w.repo.sessions.peekLive(w.bot.botId, 31, w.user)).live[0]!;
    const ok = await w.repo.sessions.apply(result, { botId: w.bot.botId, version: fresh.version, updateId: 31 });
    expect(ok.applied).toBe(true);
    expect((await w.repo.sessions.peekLive(w.bot.botId, 31, w.user)).seen).toBe(true);
  });

  it("cancelling cancels the session's pending rows only; a fired delay is marked with its outcome", async () => {
    const w = await journey();
    const s = await w.onQuestion();
    const other = await insertSession(env, {
      tenantId: w.tenantId,
      journeyId: w.journey.id,
      userId: newUser(),
      currentStepId: w.steps[0]!.id,
    });
    const row = { tenantId: w.tenantId, botId: w.bot.botId, chatId: w.user, text: "t" };
    const sent = await insertOutbox(env, { ...row, sessionId: s.id });
    await env.handle.pool.query("UPDATE journey_outbox SET status = 'sent' WHERE id = $1", [sent.id]);
    await insertOutbox(env, { ...row, sessionId: s.id });
    await insertOutbox(env, { ...row, sessionId: other.id });
    const delay = { tenantId: w.tenantId, stepId: w.steps[2]!.id, chatId: w.user, scheduledFor: NOW };
    await insertScheduled(env, { ...delay, sessionId: s.id });
    await insertScheduled(env, { ...delay, sessionId: other.id });

    const read = (await w.repo.sessions.lock(s.id))!;
    const blocked = transition(
      await w.repo.sessions.journeyOf(read),
      stateOf(read),
      { type: "user_blocked", source: "kicked" },
      clock,
    );
    expect((await w.repo.sessions.apply(blocked, { botId: w.bot.botId })).applied).toBe(true);
    expect((await sessionRow(env, s.id))?.status).toBe("cancelled");
    expect((await outboxOf(env, s.id)).map((o) => [o.status, o.error])).toEqual([
      ["sent", null],
      ["cancelled", "session cancelled: user blocked the bot"],
    ]);
    expect((await scheduledOf(env, s.id)).map((d) => d.status)).toEqual(["cancelled"]);
    expect((await outboxOf(env, other.id)).map((o) => o.status)).toEqual(["pending"]);
    expect((await scheduledOf(env, other.id)).map((d) => d.status)).toEqual(["pending"]);

    // The other session is not waiting on its delay: firing it fails the row and leaves the session.
    const [d] = await scheduledOf(env, other.id);
    const otherRead = (await w.repo.sessions.lock(other.id))!;
    const fired: TransitionResult = transition(
      await w.repo.sessions.journeyOf(otherRead),
      stateOf(otherRead),
      { type: "delay_fired", delay: d! },
      clock,
    );
    expect(fired.outcome).toBe("session_not_waiting");
    expect((await w.repo.sessions.apply(fired, { botId: w.bot.botId })).applied).toBe(true);
    expect((await scheduledOf(env, other.id))[0]).toMatchObject({
      status: "failed",
      error: "session is active, not waiting on this delay",
    });
    expect((await sessionRow(env, other.id))?.status).toBe("active");
  });
});

describe("the step cache", () => {
  it("serves a journey's steps while its steps_version holds, and reads them again after PUT …/steps", async () => {
    const w = await journey();
    const cache = new StepsCache(2);
    const db = env.handle.db;
    const v1 = await cache.get(db, w.tenantId, w.journey.id, 1);
    expect(v1.map((s) => s.id)).toEqual(w.steps.map((s) => s.id));
    await env.handle.pool.query('UPDATE journey_steps SET config = \'{"text":"sneaky"}\' WHERE id = $1', [
      w.steps[1]!.id,
    ]);
    expect(await cache.get(db, w.tenantId, w.journey.id, 1)).toBe(v1); // same version: the cached copy
    await w.repo.setSteps(w.journey.id, FOUR_STEPS.slice(0, 2));
    const v2 = await cache.get(db, w.tenantId, w.journey.id, 2);
    expect(v2.map((s) => s.id)).toEqual(w.steps.slice(0, 2).map((s) => s.id)); // the two others deleted
    expect(v2[1]!.config).toEqual(FOUR_STEPS[1]!.config);
    expect(await cache.get(db, newTenant(), w.journey.id, 2)).toEqual([]); // another tenant sees no steps
  });
});
