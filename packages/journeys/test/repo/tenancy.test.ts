/**
 * Tenant isolation: tenant B's repository, handed tenant A's ids, reads nothing and changes
 * nothing. Every case re-reads all of A's rows (and rows pointing at them) before and after.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { addBot, repoFor } from "../../../../test/support/fixtures.ts";
import type { TenantRepository } from "../../src/repo/index.ts";
import { acquiredOrBlocked, expectDomainError, gate, newTenant, snapshot, world } from "./helpers.ts";

const env = await createTestEnv();

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
      expect(await b.firstStep(a.journey.id)).toBeNull();
      expect(await b.nextStepAfter(a.journey.id, 1)).toBeNull();
      expect(await b.getStep(a.steps[0]!.id)).toBeNull();
    }));

  it("sessions, scheduled and outbox rows", () =>
    asOtherTenant(async (b, a) => {
      await expectDomainError(b.sessions.get(a.session.id), "NOT_FOUND");
      expect(await b.sessions.getActive(a.journey.id, a.user)).toBeNull();
      expect(await b.sessions.liveForUserOnBot(a.bot.botId, a.user)).toEqual([]);
      expect(await b.sessions.getScheduled(a.scheduled.id)).toBeNull();
      expect(await b.sessions.listScheduled(a.session.id)).toEqual([]);
      expect(await b.sessions.listOutbox(a.session.id)).toEqual([]);
      expect(await b.sessions.recent(50)).toEqual([]);
    }));

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

  it("sessions", () =>
    asOtherTenant(async (b, a) => {
      await expectDomainError(b.sessions.insertLive(a.journey.id, a.user + 1, a.user + 1), "NOT_FOUND");
      await expectDomainError(b.sessions.update(a.session.id, { status: "completed" }), "NOT_FOUND");
      await expectDomainError(b.sessions.updateStatus(a.session.id, "cancelled"), "NOT_FOUND");
      await expectDomainError(b.sessions.updateCurrentStep(a.session.id, null), "NOT_FOUND");
      await expectDomainError(b.sessions.storeAnswerAndAdvance(a.session.id, "k", 1, null), "NOT_FOUND");
      await b.sessions.cancel(a.session.id, "attack");
    }));

  it("scheduled and outbox rows", () =>
    asOtherTenant(async (b, a) => {
      await expectDomainError(
        b.sessions.scheduleMessage({
          sessionId: a.session.id,
          stepId: a.steps[0]!.id,
          telegramChatId: a.user,
          payload: { text: "x" },
          scheduledFor: new Date(),
        }),
        "NOT_FOUND",
      );
      await b.sessions.markScheduledSent(a.scheduled.id);
      await b.sessions.markScheduledFailed(a.scheduled.id, "attack");
      await expectDomainError(
        b.sessions.addOutbox({ sessionId: a.session.id, botId: a.bot.botId, telegramChatId: a.user, text: "x" }),
        "NOT_FOUND",
      );
      await expectDomainError(
        b.sessions.addOutbox({ sessionId: null, botId: a.bot.botId, telegramChatId: a.user, text: "x" }),
        "NOT_FOUND",
      );
      const [ownBot] = await b.bots.list();
      await expectDomainError(
        b.sessions.addOutbox({ sessionId: a.session.id, botId: ownBot!.botId, telegramChatId: a.user, text: "x" }),
        "NOT_FOUND",
      );
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

  it("B's own session cannot be pointed at A's steps", async () => {
    const a = await world(env);
    const b = await world(env);
    const before = await snapshot(env, a.tenantId);
    await expectDomainError(b.repo.sessions.updateCurrentStep(b.session.id, a.steps[1]!.id), "NOT_FOUND");
    await expectDomainError(b.repo.sessions.storeAnswerAndAdvance(b.session.id, "k", 1, a.steps[1]!.id), "NOT_FOUND");
    expect(await snapshot(env, a.tenantId)).toEqual(before);
    expect((await b.repo.sessions.get(b.session.id)).currentStepId).toBe(b.steps[0]!.id);
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
