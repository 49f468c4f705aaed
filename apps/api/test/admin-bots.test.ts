import { startFakeTelegram } from "@journeys/fake-telegram";
import { afterAll, describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { repoFor } from "../../../test/support/fixtures.ts";
import { call, client, newTenant, tokenFor } from "./admin-support.ts";

const env = await createTestEnv();
const fake = await startFakeTelegram();
afterAll(() => fake.close());
const { app, url } = await startTestApi(env, { TELEGRAM_API_ROOT: fake.apiRoot });

let nextBot = 880_000_000 + Math.floor(Math.random() * 1_000_000);
const newToken = () => `${nextBot++}:ABCdefGHIjklMNOpqr${Math.random().toString(36).slice(2, 8)}`;

describe("POST /api/bots", () => {
  it("connects a bot: getMe and setWebhook through the Bot API, then 201 with the webhook URL", async () => {
    const token = newToken();
    const telegramId = Number(token.split(":")[0]);
    const as = client(app, tokenFor(newTenant()));
    const res = await as.post("/api/bots", { token, bot_id: "sales_bot-1" });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({
      bot_id: "sales_bot-1",
      username: `bot${telegramId}_bot`,
      telegram_bot_id: telegramId,
      webhook_url: `${url}/telegram/webhook/sales_bot-1`,
    });
    const calls = fake.calls.filter((c) => c.botId === telegramId).map((c) => c.method);
    expect(calls).toEqual(["getMe", "setWebhook"]);
    const hook = fake.webhookOf(telegramId);
    expect(hook?.url).toBe(`${url}/telegram/webhook/sales_bot-1`);
    expect(hook?.secretToken).toMatch(/^[A-Za-z0-9_-]{16,}$/);
  });

  it("defaults bot_id to the bot's numeric Telegram id, which no other tenant can take first", async () => {
    const token = newToken();
    const telegramId = token.split(":")[0]!;
    // Another tenant tries to squat the owner's default ids with a bot of its own.
    const squatter = client(app, tokenFor(newTenant()));
    const squat = await squatter.post("/api/bots", { token: newToken(), bot_id: telegramId });
    expect(squat.statusCode).toBe(400);
    expect(squat.json().message).toMatch(/digits only is reserved for the bot's own Telegram id/);
    expect((await squatter.post("/api/bots", { token: newToken(), bot_id: `bot${telegramId}_bot` })).statusCode).toBe(
      201,
    );
    const res = await client(app, tokenFor(newTenant())).post("/api/bots", { token });
    expect(res.statusCode).toBe(201);
    expect(res.json().bot_id).toBe(telegramId);
    expect(res.json().webhook_url).toBe(`${url}/telegram/webhook/${telegramId}`);
  });

  it("answers 400 with Telegram's description when Telegram refuses the token", async () => {
    const res = await client(app, tokenFor(newTenant())).post("/api/bots", { token: "123456:invalidTokenXYZ" });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: "telegram_rejected",
      message: "getMe failed: Telegram answered 401: Unauthorized",
    });
  });

  it("answers 409 when another tenant already connected that Telegram bot", async () => {
    const token = newToken();
    expect((await client(app, tokenFor(newTenant())).post("/api/bots", { token })).statusCode).toBe(201);
    const res = await client(app, tokenFor(newTenant())).post("/api/bots", { token, bot_id: "mine" });
    expect(res.statusCode).toBe(409);
    expect(res.json().message).toMatch(/already connected by another tenant/);
  });

  it("refuses invalid bodies with 400 and the reason", async () => {
    const as = client(app, tokenFor(newTenant()));
    const cases: [unknown, RegExp][] = [
      [{ token: newToken(), extra: 1 }, /unknown field "extra"/],
      [{ token: newToken(), tenant_id: "someone-else" }, /unknown field "tenant_id"/],
      [{ token: 123456 }, /token must be string/],
      [{}, /must have required properties token/],
      [{ token: newToken(), bot_id: "has space" }, /bot_id must match pattern/],
      [{ token: "not-a-token" }, /does not look like a Telegram bot token/],
      ['{"token": "123:abc"', /JSON/],
    ];
    for (const [body, reason] of cases) {
      const res = await as.post("/api/bots", body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().message).toMatch(reason);
    }
  });

  it("answers 413 to a body over 1 MiB", async () => {
    const res = await call(app, {
      method: "POST",
      url: "/api/bots",
      token: tokenFor(newTenant()),
      body: JSON.stringify({ token: "x".repeat(1024 * 1024) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().error).toBe("payload_too_large");
  });
});

describe("GET /api/bots", () => {
  it("lists only the tenant's own bots, never a token or webhook secret", async () => {
    const tenant = newTenant();
    const as = client(app, tokenFor(tenant));
    const tokens = [newToken(), newToken()];
    for (const token of tokens) expect((await as.post("/api/bots", { token })).statusCode).toBe(201);
    await client(app, tokenFor(newTenant())).post("/api/bots", { token: newToken(), bot_id: "other_tenant_bot" });

    const res = await as.get("/api/bots");
    expect(res.statusCode).toBe(200);
    const { bots } = res.json();
    expect(bots.map((b: { telegram_bot_id: number }) => b.telegram_bot_id).sort()).toEqual(
      tokens.map((t) => Number(t.split(":")[0])).sort(),
    );
    for (const b of bots) {
      expect(Object.keys(b).sort()).toEqual(
        [
          "bot_id",
          "created_at",
          "first_name",
          "status",
          "telegram_bot_id",
          "tenant_id",
          "unauthorized_at",
          "updated_at",
          "username",
          "webhook_url",
        ].sort(),
      );
      expect(b.tenant_id).toBe(tenant);
    }
    for (const token of tokens) {
      const secret = fake.webhookOf(Number(token.split(":")[0]))?.secretToken;
      expect(secret).toBeTruthy();
      expect(res.body).not.toContain(token);
      expect(res.body).not.toContain(token.split(":")[1]);
      expect(res.body).not.toContain(secret);
    }
    expect(res.body).not.toMatch(/token|secret/i);
  });
});

describe("a bot Telegram stopped accepting (401)", () => {
  it("is listed as unauthorized until it is connected again with a valid token", async () => {
    const tenant = newTenant();
    const as = client(app, tokenFor(tenant));
    const token = newToken();
    const { bot_id } = (await as.post("/api/bots", { token })).json();
    const listed = async () => (await as.get("/api/bots")).json().bots[0];
    expect(await listed()).toMatchObject({ status: "connected", unauthorized_at: null });
    expect(await repoFor(env, tenant).bots.markUnauthorized(bot_id)).toBe(true);
    expect(await repoFor(env, tenant).bots.markUnauthorized(bot_id)).toBe(false); // marked once
    expect(await listed()).toMatchObject({ status: "unauthorized", unauthorized_at: expect.any(String) });
    expect((await as.post("/api/bots", { token, bot_id })).statusCode).toBe(201);
    expect(await listed()).toMatchObject({ status: "connected", unauthorized_at: null });
  });
});
