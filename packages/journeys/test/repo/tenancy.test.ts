/**
 * Tenant isolation: tenant B's repository, handed tenant A's ids, reads nothing and changes
 * nothing. Every case re-reads all of A's rows (and rows pointing at them) before and after.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { addBot, repoFor } from "../../../../test/support/fixtures.ts";
import { transition } from "../../src/engine/transition.ts";
import { stateOf, type TenantRepository } from "../../src/repo/index.ts";
import { acquiredOrBlocked, expectDomainError, gate, newTenant, snapshot, transitionLocked, world } from "./helpers.ts";

const env = await createTestEnv();
const clock = { now: new Date(), random: () => 0.5 };

type World = Awaited<ReturnType<typeof world>>;

/** Run `attack` as a fresh tenant B (with a bot of its own) against a fresh world A; A must not change. */
async function asOtherTenant(attack: (b: TenantRepository, a: World) => Promise<void>) {
  const a = await world(env);
  const tenantB = newTenant();
  await addBot(env, tenantB);
  const before = await snapshot(env, a.tenantId);
  await attack(repoFor(env, tenantB), a);
  expect(await snapshot(env, a.tenantId)).toEqual(before);
}

describe("another tenant reads nothing", () => {
  it("journeys, triggers and steps", () =>
    asOtherTenant(async (b, a) => {
      await expectDomainError(b.journeys.get(a.journey.id), "NOT_FOUND");
      expect(await b.journeys.list()).toEqual([]);
      await expectDomainError(b.journeys.listTriggers(a.journey.id), "NOT_FOUND");
      expect(await b.journeys.triggers(a.journey.id)).toEqual([]);
      expect(await b.journeys.activeByDeeplink(a.bot.botId, a.startParam)).toBeNull();
      expect(await b.journeys.steps(a.journey.id)).toEqual([]);
      expect(await b.journeys.stepsByIds(a.steps.map((s) => s.id))).toEqual([]);
      await expectDomainError(b.listSteps(a.journey.id), "NOT_FOUND");
      expect((await b.sessions.journey(a.journey)).steps).toEqual([]);
    }));

  it("sessions, scheduled and outbox rows", () =>
    asOtherTenant(async (b, a) => {
      await expectDomainError(b.sessions.get(a.session.id), "NOT_FOUND");
      expect(await b.sessions.peekLive(a.bot.botId, 1, a.user)).toEqual({ seen: false, live: [] });
      expect(await b.sessions.recent(50)).toEqual([]);
      for (const forUpdate of ["wait", "skipLocked", undefined] as const) {
        expect(await b.scheduled.get(a.scheduled.id, { forUpdate })).toBeNull();
      }
    }));

  it("sessions, read under lock", () =>
    asOtherTenant((b, a) =>
      b.transaction(async (r) => {
        expect(await r.sessions.lock(a.session.id)).toBeNull();
        expect(await r.sessions.lockLiveInJourney(a.journey.id, a.user)).toBeNull();
        expect(await r.sessions.lockLiveOnBot(a.bot.botId, a.user)).toEqual([]);
      }),
    ));

  it("bots", () =>
    asOtherTenant(async (b, a) => {
      expect((await b.bots.list()).map((x) => x.botId)).not.toContain(a.bot.botId);
      await expectDomainError(b.bots.get(a.bot.botId), "NOT_FOUND");
      await expectDomainError(b.bots.credentials(a.bot.botId), "NOT_FOUND");
    }));
});

describe("another tenant changes nothing", () => {
  it("journeys, triggers and steps", () =>
    asOtherTenant(async (b, a) => {
      await expectDomainError(b.journeys.create({ botId: a.bot.botId, name: "x" }), "VALIDATION");
      await expectDomainError(b.journeys.update(a.journey.id, { name: "hijacked", status: "paused" }), "NOT_FOUND");
      await expectDomainError(
        b.journeys.upsertTrigger(a.journey.id, { triggerType: "manual", triggerConfig: {} }),
        "NOT_FOUND",
      );
      await expectDomainError(b.setSteps(a.journey.id, [{ step_type: "message", config: { text: "x" } }]), "NOT_FOUND");
    }));

  it("sessions: results applied to A's session, journey or delay row write nothing", () =>
    asOtherTenant(async (b, a) => {
      // What transition() decides for A's rows (read with A's repository), applied by B.
      const journey = await a.repo.sessions.journey(a.journey);
      const state = stateOf(a.session);
      const answered = transition(journey, state, { type: "text", text: "33" }, clock);
      expect(answered.outcome).toBe("accepted");
      await expectDomainError(b.sessions.apply(answered, { botId: a.bot.botId }), "NOT_FOUND");
      expect(await b.sessions.apply(answered, { botId: a.bot.botId, version: "1", updateId: 7 })).toEqual({
        applied: false,
        reason: "stale",
      });
      const blocked = transition(journey, state, { type: "user_blocked", source: "kicked" }, clock);
      await expectDomainError(b.sessions.apply(blocked, { botId: a.bot.botId }), "NOT_FOUND");
      // A fired delay row of A's: the session does not wait on it, so the row alone would be failed.
      const delay = { ...a.scheduled, scheduledFor: new Date(clock.now.getTime() - 1000) };
      const fired = transition(journey, state, { type: "delay_fired", delay }, clock);
      expect(fired.firedDelay).toMatchObject({ id: a.scheduled.id, status: "failed" });
      await b.sessions.apply(fired, { botId: a.bot.botId });
      // A new session in A's journey.
      const user = { id: a.user + 1, chatId: a.user + 1 };
      const started = transition(journey, null, { type: "start", param: a.startParam, user }, clock);
      expect(await b.sessions.apply(started, { botId: a.bot.botId })).toEqual({
        applied: false,
        reason: "live_session_exists",
      });
      // The update claimed with the lock: not B's bot, nothing claimed, nothing locked.
      expect(await b.sessions.claimUpdateLockingLive(a.bot.botId, 7, a.user)).toEqual({ claimed: false, live: [] });
    }));

  it("scheduled and outbox rows", () =>
    asOtherTenant(async (b, a) => {
      expect(await b.outbox.markSent(a.outbox.id)).toBe(false);
      expect(await b.outbox.markFailed(a.outbox.id, "attack")).toBe(false);
      await b.outbox.recordAttempt(a.outbox.id, "attack");
      await b.transaction(async (r) => {
        expect(await r.scheduled.get(a.scheduled.id, { forUpdate: "wait" })).toBeNull();
      });
    }));

  it("bots and update claims", () =>
    asOtherTenant(async (b, a) => {
      const fields = { username: "x_bot", firstName: "x", token: "1:stolen" };
      await expectDomainError(
        b.bots.save({ ...fields, botId: a.bot.botId, telegramBotId: a.bot.telegramBotId + 99_999 }),
        "CONFLICT",
      );
      await expectDomainError(
        b.bots.save({ ...fields, botId: `b_${randomUUID().slice(0, 8)}`, telegramBotId: a.bot.telegramBotId }),
        "CONFLICT",
      );
      await expectDomainError(b.updates.claim(a.bot.botId, 1), "NOT_FOUND");
    }));

  it("B's session moves on through B's steps only, even when A's journey has the same id shape", async () => {
    const a = await world(env);
    const b = await world(env);
    const before = await snapshot(env, a.tenantId);
    // The journey B's transition reads is B's, by the session's own journey, whatever A holds.
    const read = await b.repo.transaction((r) => r.sessions.lock(b.session.id));
    expect((await b.repo.sessions.journeyOf(read!)).steps.map((s) => s.id)).toEqual(b.steps.map((s) => s.id));
    const { result } = await transitionLocked(b.repo, b.session.id, { type: "text", text: "33" });
    expect(result.outcome).toBe("accepted");
    expect(await snapshot(env, a.tenantId)).toEqual(before);
    expect((await b.repo.sessions.get(b.session.id)).currentStepId).toBe(b.steps[2]!.id);
  });

  it("A can still claim the update B tried to claim", async () => {
    const a = await world(env);
    await expectDomainError(repoFor(env, newTenant()).updates.claim(a.bot.botId, 42), "NOT_FOUND");
    expect(await a.repo.updates.claim(a.bot.botId, 42)).toBe(true);
  });
});

describe("transaction and lock", () => {
  it("transaction binds the same tenant, commits on success and rolls back on throw", async () => {
    const a = await world(env);
    const seen = await a.repo.transaction(async (r) => {
      await r.journeys.update(a.journey.id, { name: "committed" });
      return r.tenantId;
    });
    expect(seen).toBe(a.tenantId);
    const boom = new Error("boom");
    await expect(
      a.repo.transaction(async (r) => {
        await r.journeys.update(a.journey.id, { name: "rolled back" });
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect((await a.repo.journeys.get(a.journey.id)).name).toBe("committed");
  });

  it("a nested transaction is a savepoint: its failure leaves the outer work", async () => {
    const a = await world(env);
    await a.repo.transaction(async (r) => {
      await r.journeys.update(a.journey.id, { name: "outer" });
      await r
        .transaction(async (inner) => {
          await inner.journeys.update(a.journey.id, { description: "inner" });
          throw new Error("inner fails");
        })
        .catch(() => undefined);
    });
    const j = await a.repo.journeys.get(a.journey.id);
    expect([j.name, j.description]).toEqual(["outer", null]);
  });

  it("lock serialises one tenant's holders of a key and never blocks another tenant", async () => {
    const tenant = newTenant();
    const key = `k_${randomUUID()}`;
    const locked = gate();
    const held = gate();
    const order: string[] = [];
    const first = repoFor(env, tenant).transaction(async (r) => {
      await r.lock(key);
      order.push("first locked");
      locked.open();
      await held.wait;
      order.push("first done");
    });
    await locked.wait;

    // Another tenant with the same key gets its lock while the first transaction still holds its own.
    const other = repoFor(env, newTenant()).transaction((r) => r.lock(key));
    const otherState = await acquiredOrBlocked(env, other);

    const second = repoFor(env, tenant).transaction(async (r) => {
      await r.lock(key);
      order.push("second locked");
    });
    const state = await acquiredOrBlocked(env, second);
    held.open();
    await Promise.all([first, second, other]);
    expect(otherState).toBe("acquired");
    expect(state).toBe("blocked");
    expect(order).toEqual(["first locked", "first done", "second locked"]);
  });
});
