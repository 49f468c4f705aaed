import { describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { addBot } from "../../../test/support/fixtures.ts";
import { call, createJourney as journeyOf, newTenant, tenantWithBot, tokenFor } from "./admin-support.ts";

const env = await createTestEnv();
const { app } = await startTestApi(env);

const JOURNEY_KEYS = [
  "bot_id",
  "created_at",
  "description",
  "id",
  "name",
  "re_entry_policy",
  "status",
  "tenant_id",
  "updated_at",
];

describe("POST and GET /api/journeys", () => {
  it("creates a journey with the seed's defaults and snake_case fields", async () => {
    const { tenant, bot, as } = await tenantWithBot(app, env);
    const j = await journeyOf(as, bot.botId);
    expect(Object.keys(j).sort()).toEqual(JOURNEY_KEYS);
    expect(j).toMatchObject({ tenant_id: tenant, bot_id: bot.botId, description: null, status: "draft" });
    expect(j.re_entry_policy).toBe("block");
    expect(new Date(j.created_at).getTime()).toBeGreaterThan(Date.now() - 60_000);

    const full = await journeyOf(as, bot.botId, { description: "d", status: "paused", re_entry_policy: "restart" });
    expect(full).toMatchObject({ description: "d", status: "paused", re_entry_policy: "restart" });
  });

  it("lists only the tenant's journeys, whatever the query says", async () => {
    const a = await tenantWithBot(app, env);
    const b = await tenantWithBot(app, env);
    const mine = await journeyOf(a.as, a.bot.botId);
    await journeyOf(b.as, b.bot.botId);
    // A tenant cannot be chosen by query: an unknown parameter is refused outright.
    const res = await a.as.get(`/api/journeys?tenant_id=${b.tenant}`);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toMatch(/unknown field "tenant_id"/);
    const own = await a.as.get("/api/journeys");
    expect(own.json().journeys.map((j: { id: string }) => j.id)).toEqual([mine.id]);
  });

  it("GET /api/journeys/:id returns the journey with its triggers", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const j = await journeyOf(as, bot.botId);
    const res = await as.get(`/api/journeys/${j.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ...j, triggers: [] });
  });

  it("refuses invalid create bodies with 400 and the reason", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const other = await addBot(env, newTenant());
    const ok = { bot_id: bot.botId, name: "n" };
    const cases: [unknown, RegExp][] = [
      [{ ...ok, colour: "red" }, /unknown field "colour"/],
      [{ ...ok, tenant_id: "someone-else" }, /unknown field "tenant_id"/],
      [{ ...ok, name: 5 }, /body\/name must be string/],
      [{ ...ok, name: "" }, /body\/name must not have fewer than 1 characters/],
      [{ bot_id: bot.botId }, /required properties name/],
      [{ ...ok, status: "live" }, /body\/status must be one of: draft, active, paused, archived/],
      [{ ...ok, re_entry_policy: "never" }, /body\/re_entry_policy must be one of: allow, block, restart/],
      [{ ...ok, bot_id: other.botId }, /is not a bot connected by this tenant/],
      [`{"bot_id": "${bot.botId}", "name": }`, /JSON/],
    ];
    for (const [body, reason] of cases) {
      const res = await as.post("/api/journeys", body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().message).toMatch(reason);
    }
    expect((await as.get("/api/journeys")).json().journeys).toEqual([]);
  });
});

describe("PUT /api/journeys/:id", () => {
  it("changes only the fields sent", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const j = await journeyOf(as, bot.botId, { description: "first", re_entry_policy: "restart" });
    const renamed = await as.put(`/api/journeys/${j.id}`, { name: "Renamed" });
    expect(renamed.statusCode).toBe(200);
    expect(renamed.json()).toMatchObject({ ...j, name: "Renamed", updated_at: expect.any(String), triggers: [] });
    expect(new Date(renamed.json().updated_at).getTime()).toBeGreaterThanOrEqual(new Date(j.updated_at).getTime());

    const paused = (await as.put(`/api/journeys/${j.id}`, { status: "paused", description: null })).json();
    expect(paused).toMatchObject({ name: "Renamed", description: null, status: "paused", re_entry_policy: "restart" });
    expect((await as.get(`/api/journeys/${j.id}`)).json()).toMatchObject(paused);
  });

  it("refuses invalid update bodies with 400 and the reason", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const j = await journeyOf(as, bot.botId);
    const cases: [unknown, RegExp][] = [
      [{}, /fewer than 1 properties/],
      [{ name: "x", id: "other" }, /unknown field "id"/],
      [{ name: ["x"] }, /body\/name must be string/],
      [{ status: "deleted" }, /body\/status must be one of/],
      [{ re_entry_policy: "sometimes" }, /body\/re_entry_policy must be one of/],
      [{ bot_id: "not_my_bot" }, /is not a bot connected by this tenant/],
      ['{"name": "x"', /JSON/],
    ];
    for (const [body, reason] of cases) {
      const res = await as.put(`/api/journeys/${j.id}`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().message).toMatch(reason);
    }
    expect((await as.get(`/api/journeys/${j.id}`)).json()).toMatchObject(j);
  });
});

describe("ids", () => {
  it("answers 404 for another tenant's journey, an unknown id and a malformed id, on every :id route", async () => {
    const owner = await tenantWithBot(app, env);
    const theirs = (await journeyOf(owner.as, owner.bot.botId)).id;
    const { as } = await tenantWithBot(app, env);
    const ids = [theirs, "0b0e7a43-6f53-4a8b-9d4e-8b1b1a7c2f10", "not-a-uuid", "1%20OR%201%3D1", theirs.toUpperCase()];
    for (const id of ids) {
      const routes = [
        () => as.get(`/api/journeys/${id}`),
        () => as.put(`/api/journeys/${id}`, { name: "stolen" }),
        () => as.post(`/api/journeys/${id}/triggers`, { trigger_type: "manual", trigger_config: {} }),
        () => as.get(`/api/journeys/${id}/steps`),
        () => as.put(`/api/journeys/${id}/steps`, { steps: [{ step_type: "message", config: { text: "x" } }] }),
      ];
      for (const send of routes) {
        const res = await send();
        expect(res.statusCode, `${id}: ${res.body}`).toBe(404);
        expect(res.json()).toEqual({ error: "not_found", message: "journey not found" });
      }
    }
    const untouched = (await owner.as.get(`/api/journeys/${theirs}`)).json();
    expect(untouched).toMatchObject({ name: "Broker Sign Up", triggers: [] });
    expect((await owner.as.get(`/api/journeys/${theirs}/steps`)).json().steps).toEqual([]);
  });
});

describe("body limits", () => {
  it("answers 413 to any body over 1 MiB", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const j = await journeyOf(as, bot.botId);
    const huge = JSON.stringify({ name: "x".repeat(1024 * 1024 + 10) });
    const token = tokenFor(newTenant());
    for (const [method, url] of [
      ["POST", "/api/journeys"],
      ["PUT", `/api/journeys/${j.id}`],
      ["POST", `/api/journeys/${j.id}/triggers`],
      ["PUT", `/api/journeys/${j.id}/steps`],
    ] as const) {
      const res = await call(app, { method, url, token, body: huge });
      expect(res.statusCode, url).toBe(413);
      expect(res.json()).toMatchObject({ error: "payload_too_large" });
    }
  });

  it("answers 415 to a body that is not JSON", async () => {
    const { tenant, as, bot } = await tenantWithBot(app, env);
    const token = tokenFor(tenant);
    const res = await call(app, {
      method: "POST",
      url: "/api/journeys",
      token,
      body: `bot_id=${bot.botId}&name=n`,
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error).toBe("unsupported_media_type");
    expect((await as.get("/api/journeys")).json().journeys).toEqual([]);
  });
});
