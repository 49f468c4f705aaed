import { startFakeTelegram } from "@journeys/fake-telegram";
import { afterAll, describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { call, client, MESSAGE, newTenant, tenantWithBot, tokenFor } from "./admin-support.ts";

const env = await createTestEnv();
const fake = await startFakeTelegram();
afterAll(() => fake.close());
const { app } = await startTestApi(env, { TELEGRAM_API_ROOT: fake.apiRoot });
let nextBot = 770_000_000 + Math.floor(Math.random() * 1_000_000);
const newToken = () => `${nextBot++}:ABCdefGHIjklMNOpqr${Math.random().toString(36).slice(2, 8)}`;
const del = (token: string, url: string) => call(app, { method: "DELETE", url, token });

describe("DELETE /api/bots/:botId", () => {
  it("deletes the webhook at Telegram and forgets the bot", async () => {
    const token = tokenFor(newTenant());
    const as = client(app, token);
    const botToken = newToken();
    const telegramId = Number(botToken.split(":")[0]);
    const botId = (await as.post("/api/bots", { token: botToken })).json().bot_id;
    expect(fake.webhookOf(telegramId)).toBeDefined();
    const res = await del(token, `/api/bots/${botId}`);
    expect(res.statusCode).toBe(204);
    expect(fake.webhookOf(telegramId)).toBeUndefined();
    expect(fake.calls.filter((c) => c.botId === telegramId).map((c) => c.method)).toEqual([
      "getMe",
      "setWebhook",
      "deleteWebhook",
    ]);
    expect((await as.get("/api/bots")).json().bots).toEqual([]);
    expect((await del(token, `/api/bots/${botId}`)).statusCode).toBe(404);
    // Its webhook route no longer knows the bot.
    await new Promise((r) => setTimeout(r, 5100)); // the route caches bot rows for 5 s
    const hook = await app.inject({ method: "POST", url: `/telegram/webhook/${botId}`, payload: { update_id: 1 } });
    expect(hook.statusCode).toBe(404);
  });

  it("refuses while a journey that is not archived uses the bot (409), and another tenant's bot is a 404", async () => {
    const token = tokenFor(newTenant());
    const as = client(app, token);
    const botId = (await as.post("/api/bots", { token: newToken() })).json().bot_id;
    const j = (await as.post("/api/journeys", { bot_id: botId, name: "uses it" })).json();
    const refused = await del(token, `/api/bots/${botId}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().message).toMatch(/archive it or move it/);
    expect((await del(tokenFor(newTenant()), `/api/bots/${botId}`)).statusCode).toBe(404);
    expect((await del(token, `/api/journeys/${j.id}`)).statusCode).toBe(200);
    expect((await del(token, `/api/bots/${botId}`)).statusCode).toBe(204);
  });

  it("answers 400 with Telegram's reason when deleteWebhook is refused, and keeps the bot", async () => {
    const token = tokenFor(newTenant());
    const as = client(app, token);
    const botId = (await as.post("/api/bots", { token: newToken() })).json().bot_id;
    fake.failNext("deleteWebhook", { status: 400, description: "Bad Request: try later" });
    const res = await del(token, `/api/bots/${botId}`);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: "telegram_rejected", message: expect.stringMatching(/deleteWebhook failed/) });
    expect((await as.get("/api/bots")).json().bots).toHaveLength(1);
  });
});

describe("DELETE /api/journeys/:id archives", () => {
  it("archives the journey (200 with it), keeps it readable, and another tenant gets 404", async () => {
    const { bot, as, tenant } = await tenantWithBot(app, env);
    const id = (await as.post("/api/journeys", { bot_id: bot.botId, name: "old" })).json().id;
    await as.put(`/api/journeys/${id}/steps`, { steps: [MESSAGE] });
    await as.put(`/api/journeys/${id}`, { status: "active" });
    expect((await del(tokenFor(newTenant()), `/api/journeys/${id}`)).statusCode).toBe(404);
    const res = await del(tokenFor(tenant), `/api/journeys/${id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ id, status: "archived" });
    expect((await as.get(`/api/journeys/${id}`)).json().status).toBe("archived");
    expect((await del(tokenFor(tenant), "/api/journeys/not-a-uuid")).statusCode).toBe(404);
  });
});

describe("DELETE /api/journeys/:id/triggers/:triggerId", () => {
  it("deletes the trigger; an unknown trigger or another tenant's journey is a 404", async () => {
    const { bot, as, tenant } = await tenantWithBot(app, env);
    const id = (await as.post("/api/journeys", { bot_id: bot.botId, name: "t" })).json().id;
    const trigger = (
      await as.post(`/api/journeys/${id}/triggers`, { trigger_type: "manual", trigger_config: {} })
    ).json();
    expect((await del(tokenFor(newTenant()), `/api/journeys/${id}/triggers/${trigger.id}`)).statusCode).toBe(404);
    expect((await del(tokenFor(tenant), `/api/journeys/${id}/triggers/${trigger.id}`)).statusCode).toBe(204);
    expect((await as.get(`/api/journeys/${id}`)).json().triggers).toEqual([]);
    expect((await del(tokenFor(tenant), `/api/journeys/${id}/triggers/${trigger.id}`)).statusCode).toBe(404);
    expect((await del(tokenFor(tenant), `/api/journeys/${id}/triggers/nope`)).statusCode).toBe(404);
  });
});
