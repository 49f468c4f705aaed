/**
 * A deep link must lead to one journey: a start_param already used by another active journey of
 * the same bot is a CONFLICT when a trigger is written or a journey activated (SPEC §4).
 */
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { addBot, repoFor, tenantWithJourney } from "../../../../test/support/fixtures.ts";
import { DomainError } from "../../src/errors.ts";

const env = await createTestEnv();
const repo = repoFor(env, "acme");
const bot = await addBot(env, "acme");
const otherBot = await addBot(env, "acme");
const steps = [{ step_type: "message", config: { text: "hi" } }];

async function journey(name: string, opts: { botId?: string; status?: "active" | "draft"; param?: string } = {}) {
  const on = { botId: opts.botId ?? bot.botId, tenantId: "acme" };
  const status = opts.status ?? "draft";
  return (await tenantWithJourney(env, { bot: on, name, steps, startParam: opts.param ?? null, status })).journey;
}

const deeplink = (startParam: string, isActive?: boolean) => ({
  triggerType: "telegram_deeplink",
  triggerConfig: { start_param: startParam },
  ...(isActive === undefined ? {} : { isActive }),
});

async function expectConflict(p: Promise<unknown>, startParam: string) {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  expect(err).toMatchObject({ code: "CONFLICT" });
  expect((err as Error).message).toContain(`"${startParam}"`);
}

describe("deep-link uniqueness per bot", () => {
  it("a second active journey cannot take a used start_param", async () => {
    const first = await journey("first", { status: "active", param: "promo" });
    const second = await journey("second", { status: "active" });
    await expectConflict(repo.journeys.upsertTrigger(second.id, deeplink("promo")), "promo");
    expect(await repo.journeys.listTriggers(second.id)).toEqual([]);
    // the deep link still leads to the first journey
    expect((await repo.journeys.activeByDeeplink(bot.botId, "promo"))?.id).toBe(first.id);
  });

  it("a draft may hold the param, but activating it conflicts", async () => {
    await journey("owner", { status: "active", param: "spring" });
    const draft = await journey("draft", { param: "spring" });
    await expectConflict(repo.journeys.update(draft.id, { status: "active" }), "spring");
    expect((await repo.journeys.get(draft.id)).status).toBe("draft");
  });

  it("frees the param when the owner is paused", async () => {
    const owner = await journey("owner2", { status: "active", param: "summer" });
    const next = await journey("next", { param: "summer" });
    await repo.journeys.update(owner.id, { status: "paused" });
    await repo.journeys.update(next.id, { status: "active" });
    expect((await repo.journeys.activeByDeeplink(bot.botId, "summer"))?.id).toBe(next.id);
  });

  it("an inactive trigger, another bot, or the same journey do not conflict", async () => {
    const owner = await journey("owner3", { status: "active", param: "autumn" });
    const idle = await journey("idle", { status: "active" });
    await repo.journeys.upsertTrigger(idle.id, deeplink("autumn", false));
    await journey("elsewhere", { botId: otherBot.botId, status: "active", param: "autumn" });
    await repo.journeys.upsertTrigger(owner.id, deeplink("autumn")); // re-writing its own trigger
    expect((await repo.journeys.activeByDeeplink(bot.botId, "autumn"))?.id).toBe(owner.id);
    // switching the idle trigger on is a conflict
    await expectConflict(repo.journeys.upsertTrigger(idle.id, deeplink("autumn", true)), "autumn");
  });

  it("another tenant's bot may use the same param", async () => {
    const theirs = await addBot(env, "other-tenant");
    const other = repoFor(env, "other-tenant");
    const j = await other.journeys.create({ botId: theirs.botId, name: "theirs" });
    await other.setSteps(j.id, steps);
    await other.journeys.update(j.id, { status: "active" });
    await other.journeys.upsertTrigger(j.id, deeplink("promo"));
    expect((await other.journeys.activeByDeeplink(theirs.botId, "promo"))?.id).toBe(j.id);
  });

  // The per-bot advisory lock is transaction-scoped: writers must run inside repo.transaction.
  it("two concurrent writers of one param (each in a transaction): exactly one wins", async () => {
    const [x, y] = await Promise.all([journey("x", { status: "active" }), journey("y", { status: "active" })]);
    const results = await Promise.allSettled([
      repo.transaction((r) => r.journeys.upsertTrigger(x.id, deeplink("race"))),
      repo.transaction((r) => r.journeys.upsertTrigger(y.id, deeplink("race"))),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect(rejected.reason).toMatchObject({ code: "CONFLICT" });
  });
});
