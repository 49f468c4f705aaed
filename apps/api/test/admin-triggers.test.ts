import { describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { createJourney as journeyOf, tenantWithBot } from "./admin-support.ts";

const env = await createTestEnv();
const { app } = await startTestApi(env);

describe("POST /api/journeys/:id/triggers", () => {
  it("upserts by trigger_type", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const j = await journeyOf(as, bot.botId);
    const url = `/api/journeys/${j.id}/triggers`;
    const first = await as.post(url, { trigger_type: "telegram_deeplink", trigger_config: { start_param: "go_1" } });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({
      id: expect.any(String),
      journey_id: j.id,
      trigger_type: "telegram_deeplink",
      trigger_config: { start_param: "go_1" },
      is_active: true,
    });
    const again = await as.post(url, {
      trigger_type: "telegram_deeplink",
      trigger_config: { start_param: "go-2" },
      is_active: false,
    });
    expect(again.json()).toMatchObject({
      id: first.json().id,
      trigger_config: { start_param: "go-2" },
      is_active: false,
    });
    await as.post(url, { trigger_type: "manual", trigger_config: {} });
    const triggers = (await as.get(`/api/journeys/${j.id}`)).json().triggers;
    expect(triggers.map((t: { trigger_type: string }) => t.trigger_type)).toEqual(["manual", "telegram_deeplink"]);
  });

  it("refuses invalid triggers with 400 and the reason", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const j = await journeyOf(as, bot.botId);
    const deeplink = (start_param: unknown) => ({ trigger_type: "telegram_deeplink", trigger_config: { start_param } });
    const cases: [unknown, RegExp][] = [
      [deeplink("has space"), /start_param must match \[A-Za-z0-9_-\]\{1,64\}/],
      [deeplink("x".repeat(65)), /start_param must match/],
      [deeplink(""), /start_param must match/],
      [deeplink(42), /start_param must match/],
      [{ trigger_type: "telegram_deeplink", trigger_config: {} }, /start_param must match/],
      [
        { trigger_type: "webhook", trigger_config: {} },
        /trigger_type must be one of: telegram_deeplink, stripe_event, manual/,
      ],
      [{ trigger_type: "manual", trigger_config: "x" }, /trigger_config must be object/],
      [{ trigger_type: "manual", trigger_config: {}, is_active: "yes" }, /is_active must be boolean/],
      [{ ...deeplink("ok"), journey_id: "x" }, /unknown field "journey_id"/],
      ['{"trigger_type": "manual", ', /JSON/],
    ];
    for (const [body, reason] of cases) {
      const res = await as.post(`/api/journeys/${j.id}/triggers`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().message).toMatch(reason);
    }
    expect((await as.get(`/api/journeys/${j.id}`)).json().triggers).toEqual([]);
  });

  it("answers 409 when another active journey of the bot uses the start_param", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const a = await journeyOf(as, bot.botId, { status: "active" });
    const b = await journeyOf(as, bot.botId, { status: "active" });
    const draft = await journeyOf(as, bot.botId);
    const link = { trigger_type: "telegram_deeplink", trigger_config: { start_param: "promo" } };
    expect((await as.post(`/api/journeys/${a.id}/triggers`, link)).statusCode).toBe(200);
    const clash = await as.post(`/api/journeys/${b.id}/triggers`, link);
    expect(clash.statusCode).toBe(409);
    expect(clash.json()).toEqual({ error: "conflict", message: expect.stringContaining('start_param "promo"') });
    // A draft may hold it; activating that draft is the conflict.
    expect((await as.post(`/api/journeys/${draft.id}/triggers`, link)).statusCode).toBe(200);
    const activate = await as.put(`/api/journeys/${draft.id}`, { status: "active" });
    expect(activate.statusCode).toBe(409);
    expect((await as.get(`/api/journeys/${draft.id}`)).json().status).toBe("draft");
  });
});
