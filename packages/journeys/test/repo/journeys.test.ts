/** Journeys and their triggers: create/list/get/update, trigger upserts, deep-link uniqueness and lookup. */
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { addBot, repoFor } from "../../../../test/support/fixtures.ts";
import type { JourneyFields, TenantRepository } from "../../src/repo/index.ts";
import { expectDomainError, newTenant } from "./helpers.ts";

const env = await createTestEnv();

async function tenantWithBot() {
  const tenantId = newTenant();
  const repo = repoFor(env, tenantId);
  const bot = await addBot(env, tenantId);
  return { tenantId, repo, bot };
}

/** A journey becomes active only with steps: created as draft, one step, then activated. */
async function createActive(repo: TenantRepository, fields: JourneyFields) {
  const j = await repo.journeys.create(fields);
  await repo.setSteps(j.id, [{ step_type: "message", config: { text: "hi" } }]);
  return repo.journeys.update(j.id, { status: "active" });
}

const deeplink = (start_param: string, isActive = true) => ({
  triggerType: "telegram_deeplink",
  triggerConfig: { start_param },
  isActive,
});

describe("journeys", () => {
  it("create applies the seed defaults and binds the tenant", async () => {
    const { tenantId, repo, bot } = await tenantWithBot();
    const j = await repo.journeys.create({ botId: bot.botId, name: "Sign up" });
    expect(j).toMatchObject({ tenantId, botId: bot.botId, name: "Sign up", description: null });
    expect([j.status, j.reEntryPolicy]).toEqual(["draft", "block"]);
    expect(j.createdAt).toBeInstanceOf(Date);
    const full = await repo.journeys.create({
      botId: bot.botId,
      name: "Full",
      description: "d",
      status: "paused",
      reEntryPolicy: "restart",
    });
    expect(full).toMatchObject({ description: "d", status: "paused", reEntryPolicy: "restart" });
  });

  it("create refuses a bot of another tenant or an unknown bot", async () => {
    const { repo } = await tenantWithBot();
    const other = await tenantWithBot();
    await expectDomainError(repo.journeys.create({ botId: other.bot.botId, name: "x" }), "VALIDATION", /bot_id/);
    await expectDomainError(repo.journeys.create({ botId: "no_such_bot", name: "x" }), "VALIDATION");
    expect(await repo.journeys.list()).toEqual([]);
  });

  it("list shows only this tenant's journeys, newest first; get finds one, NOT_FOUND otherwise", async () => {
    const { repo, bot } = await tenantWithBot();
    const first = await repo.journeys.create({ botId: bot.botId, name: "first" });
    const second = await repo.journeys.create({ botId: bot.botId, name: "second" });
    expect((await repo.journeys.list()).map((j) => j.id)).toEqual([second.id, first.id]);
    expect(await repo.journeys.get(first.id)).toEqual(first);
    await expectDomainError(repo.journeys.get("00000000-0000-4000-8000-000000000000"), "NOT_FOUND");
    await expectDomainError(repo.journeys.get("not-a-uuid"), "NOT_FOUND");
  });

  it("update is partial and moves updated_at only", async () => {
    const { repo, bot } = await tenantWithBot();
    const j = await repo.journeys.create({ botId: bot.botId, name: "n", description: "keep me" });
    await env.handle.pool.query("UPDATE journeys SET updated_at = updated_at - interval '1 hour' WHERE id = $1", [
      j.id,
    ]);
    const before = await repo.journeys.get(j.id);
    const after = await repo.journeys.update(j.id, { name: "renamed" });
    expect(after).toEqual({ ...before, name: "renamed", updatedAt: after.updatedAt });
    expect(after.updatedAt!.getTime()).toBeGreaterThan(before.updatedAt!.getTime());
    expect(await repo.journeys.update(j.id, { description: null })).toMatchObject({
      name: "renamed",
      description: null,
    });
    expect(await repo.journeys.get(j.id)).toMatchObject({ status: "draft", reEntryPolicy: "block", botId: bot.botId });
  });

  it("update ignores columns that are not updatable and checks a new bot", async () => {
    const { tenantId, repo, bot } = await tenantWithBot();
    const other = await tenantWithBot();
    const j = await repo.journeys.create({ botId: bot.botId, name: "n" });
    const sneaky = { name: "m", tenantId: other.tenantId, id: crypto.randomUUID() } as Partial<JourneyFields>;
    expect(await repo.journeys.update(j.id, sneaky)).toMatchObject({ id: j.id, tenantId, name: "m" });
    await expectDomainError(repo.journeys.update(j.id, { botId: other.bot.botId }), "VALIDATION");
    const bot2 = await addBot(env, tenantId);
    expect((await repo.journeys.update(j.id, { botId: bot2.botId })).botId).toBe(bot2.botId);
  });

  it("update of an unknown journey is NOT_FOUND", async () => {
    const { repo } = await tenantWithBot();
    await expectDomainError(repo.journeys.update(crypto.randomUUID(), { name: "x" }), "NOT_FOUND");
  });
});

describe("triggers", () => {
  it("upsert keeps one row per trigger_type and replaces its config and is_active", async () => {
    const { repo, bot } = await tenantWithBot();
    const j = await repo.journeys.create({ botId: bot.botId, name: "n" });
    const t1 = await repo.journeys.upsertTrigger(j.id, deeplink("one"));
    expect(t1).toMatchObject({ journeyId: j.id, triggerType: "telegram_deeplink", isActive: true });
    const t2 = await repo.journeys.upsertTrigger(j.id, deeplink("two", false));
    expect(t2).toMatchObject({ id: t1.id, triggerConfig: { start_param: "two" }, isActive: false });
    await repo.journeys.upsertTrigger(j.id, { triggerType: "manual", triggerConfig: {} });
    const list = await repo.journeys.listTriggers(j.id);
    expect(list.map((t) => [t.triggerType, t.id === t1.id])).toEqual([
      ["manual", false],
      ["telegram_deeplink", true],
    ]);
    await expectDomainError(repo.journeys.listTriggers(crypto.randomUUID()), "NOT_FOUND");
  });

  it("refuses invalid trigger input", async () => {
    const { repo, bot } = await tenantWithBot();
    const j = await repo.journeys.create({ botId: bot.botId, name: "n" });
    for (const bad of ["bad param!", "x".repeat(65), "", 42, undefined]) {
      await expectDomainError(
        repo.journeys.upsertTrigger(j.id, { triggerType: "telegram_deeplink", triggerConfig: { start_param: bad } }),
        "VALIDATION",
        /start_param/,
      );
    }
    await expectDomainError(repo.journeys.upsertTrigger(j.id, { triggerType: "sms", triggerConfig: {} }), "VALIDATION");
    await expectDomainError(
      repo.journeys.upsertTrigger(j.id, { triggerType: "manual", triggerConfig: [] }),
      "VALIDATION",
    );
    expect(await repo.journeys.listTriggers(j.id)).toEqual([]);
    expect((await repo.journeys.upsertTrigger(j.id, deeplink("x".repeat(64)))).triggerConfig).toEqual({
      start_param: "x".repeat(64),
    });
  });

  it("a start_param used by an active journey of the same bot is a CONFLICT", async () => {
    const { tenantId, repo, bot } = await tenantWithBot();
    const active = await createActive(repo, { botId: bot.botId, name: "active" });
    await repo.journeys.upsertTrigger(active.id, deeplink("promo"));
    const rival = await createActive(repo, { botId: bot.botId, name: "rival" });
    await expectDomainError(repo.journeys.upsertTrigger(rival.id, deeplink("promo")), "CONFLICT", /promo/);
    // An inactive trigger or another param is fine.
    await repo.journeys.upsertTrigger(rival.id, deeplink("promo", false));
    await repo.journeys.upsertTrigger(rival.id, deeplink("other"));

    // A draft journey may hold the param, but activating it clashes.
    const draft = await repo.journeys.create({ botId: bot.botId, name: "draft" });
    await repo.setSteps(draft.id, [{ step_type: "message", config: { text: "hi" } }]);
    await repo.journeys.upsertTrigger(draft.id, deeplink("promo"));
    await expectDomainError(repo.journeys.update(draft.id, { status: "active" }), "CONFLICT");
    expect((await repo.journeys.get(draft.id)).status).toBe("draft");

    // Once the first journey is paused the param is free again.
    await repo.journeys.update(active.id, { status: "paused" });
    expect((await repo.journeys.update(draft.id, { status: "active" })).status).toBe("active");

    // Another bot of the same tenant, or another tenant's bot, may use the same param.
    const bot2 = await addBot(env, tenantId);
    const onBot2 = await createActive(repo, { botId: bot2.botId, name: "bot2" });
    await repo.journeys.upsertTrigger(onBot2.id, deeplink("promo"));
    const other = await tenantWithBot();
    const theirs = await createActive(other.repo, { botId: other.bot.botId, name: "t" });
    await other.repo.journeys.upsertTrigger(theirs.id, deeplink("promo"));
  });

  it("moving an active journey to a bot whose param is taken is a CONFLICT", async () => {
    const { tenantId, repo, bot } = await tenantWithBot();
    const bot2 = await addBot(env, tenantId);
    const a = await createActive(repo, { botId: bot.botId, name: "a" });
    await repo.journeys.upsertTrigger(a.id, deeplink("same"));
    const b = await createActive(repo, { botId: bot2.botId, name: "b" });
    await repo.journeys.upsertTrigger(b.id, deeplink("same"));
    await expectDomainError(repo.journeys.update(b.id, { botId: bot.botId }), "CONFLICT");
  });
});

describe("activeByDeeplink", () => {
  it("finds only this tenant's active journey with an active trigger on this bot", async () => {
    const { tenantId, repo, bot } = await tenantWithBot();
    const bot2 = await addBot(env, tenantId);
    const j = await createActive(repo, { botId: bot.botId, name: "j" });
    await repo.journeys.upsertTrigger(j.id, deeplink("go"));
    expect((await repo.journeys.activeByDeeplink(bot.botId, "go"))?.id).toBe(j.id);
    expect(await repo.journeys.activeByDeeplink(bot.botId, "GO")).toBeNull();
    expect(await repo.journeys.activeByDeeplink(bot2.botId, "go")).toBeNull();
    expect(await repoFor(env, newTenant()).journeys.activeByDeeplink(bot.botId, "go")).toBeNull();

    await repo.journeys.upsertTrigger(j.id, deeplink("go", false));
    expect(await repo.journeys.activeByDeeplink(bot.botId, "go")).toBeNull();
    await repo.journeys.upsertTrigger(j.id, deeplink("go"));
    for (const status of ["draft", "paused", "archived"] as const) {
      await repo.journeys.update(j.id, { status });
      expect(await repo.journeys.activeByDeeplink(bot.botId, "go")).toBeNull();
    }
    await repo.journeys.update(j.id, { status: "active" });
    expect((await repo.journeys.activeByDeeplink(bot.botId, "go"))?.id).toBe(j.id);
  });

  it("a manual trigger whose config carries a start_param does not match", async () => {
    const { repo, bot } = await tenantWithBot();
    const j = await createActive(repo, { botId: bot.botId, name: "j" });
    await repo.journeys.upsertTrigger(j.id, { triggerType: "manual", triggerConfig: { start_param: "m" } });
    expect(await repo.journeys.activeByDeeplink(bot.botId, "m")).toBeNull();
  });
});
