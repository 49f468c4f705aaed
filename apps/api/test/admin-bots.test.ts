import { createHash } from "node:crypto";
import { DEFAULT_BOT_TEXTS } from "@journeys/core/engine/bot-texts";
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
const telegramIdOf = (token: string) => Number(token.split(":")[0]);

/** PATCH through the real app (the shared client has no PATCH). */
const patch = (token: string, path: string, body: unknown) =>
  call(app, { method: "PATCH" as "PUT", url: path, token, body });

/** A tenant with a bot connected through POST /api/bots (getMe and setWebhook at the fake). */
async function connected(body: Record<string, unknown> = {}) {
  const tenant = newTenant();
  const jwt = tokenFor(tenant);
  const token = newToken();
  const res = await client(app, jwt).post("/api/bots", { token, ...body });
  expect(res.statusCode, res.body).toBe(201);
  return {
    tenant,
    jwt,
    as: client(app, jwt),
    token,
    telegramId: telegramIdOf(token),
    botId: res.json().bot_id as string,
  };
}

/** An update through the webhook route with `secret` in the header; the status it answers. */
async function webhookStatus(botId: string, secret: string, updateId: number) {
  const res = await app.inject({
    method: "POST",
    url: `/telegram/webhook/${botId}`,
    headers: { "x-telegram-bot-api-secret-token": secret },
    payload: { update_id: updateId },
  });
  return res.statusCode;
}

const storedHash = async (botId: string) =>
  (await env.handle.pool.query("SELECT webhook_secret FROM tenant_bots WHERE bot_id = $1", [botId])).rows[0]
    ?.webhook_secret as string;
const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

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
      texts: DEFAULT_BOT_TEXTS,
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
          "texts",
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

describe("the webhook secret", () => {
  it("is stored as its SHA-256 only, and the webhook accepts the registered secret and nothing else", async () => {
    const { botId, telegramId } = await connected();
    const secret = fake.webhookOf(telegramId)!.secretToken!;
    expect(await storedHash(botId)).toBe(sha256(secret));
    expect(await webhookStatus(botId, secret, 1)).toBe(200);
    // The hash itself is no key to the webhook.
    expect(await webhookStatus(botId, await storedHash(botId), 2)).toBe(401);
    expect(await webhookStatus(botId, `${secret.slice(0, -1)}x`, 3)).toBe(401);
  });

  it("a reconnect registers a new secret: the old one stops working", async () => {
    const { as, token, botId, telegramId } = await connected();
    const old = fake.webhookOf(telegramId)!.secretToken!;
    expect((await as.post("/api/bots", { token, bot_id: botId })).statusCode).toBe(201);
    const now = fake.webhookOf(telegramId)!.secretToken!;
    expect(now).not.toBe(old);
    expect(await storedHash(botId)).toBe(sha256(now));
  });
});

describe("POST /api/bots/{botId}/webhook-secret", () => {
  it("rotates: setWebhook with a new secret (same URL and updates), its hash stored, 200 with the bot", async () => {
    const { jwt, botId, telegramId } = await connected();
    const old = fake.webhookOf(telegramId)!.secretToken!;
    const res = await client(app, jwt).post(`/api/bots/${botId}/webhook-secret`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ bot_id: botId, status: "connected", texts: DEFAULT_BOT_TEXTS });
    const setWebhooks = fake.calls.filter((c) => c.botId === telegramId && c.method === "setWebhook");
    expect(setWebhooks).toHaveLength(2);
    const [first, second] = setWebhooks.map((c) => c.params);
    const secret = fake.webhookOf(telegramId)!.secretToken!;
    expect(second).toEqual({ ...first, secret_token: secret });
    expect(secret).not.toBe(old);
    expect(await storedHash(botId)).toBe(sha256(secret));
    expect(res.body).not.toContain(secret);
    expect(res.body).not.toContain(sha256(secret));
    expect(res.body).not.toMatch(/secret/i);
    expect(await webhookStatus(botId, old, 1)).toBe(401);
    expect(await webhookStatus(botId, secret, 2)).toBe(200);
  });

  it("Telegram refuses setWebhook: 502 naming Telegram's error, no secret in it, the old secret still works", async () => {
    const { jwt, botId, telegramId } = await connected();
    const old = fake.webhookOf(telegramId)!.secretToken!;
    const hash = await storedHash(botId);
    fake.failNext("setWebhook", { status: 400, description: "Bad Request: bad webhook: HTTPS url must be provided" });
    const res = await client(app, jwt).post(`/api/bots/${botId}/webhook-secret`);
    expect(res.statusCode).toBe(502);
    expect(res.json()).toEqual({
      error: "telegram_rejected",
      message: "setWebhook failed: Telegram answered 400: Bad Request: bad webhook: HTTPS url must be provided",
    });
    const attempted = fake.calls.filter((c) => c.botId === telegramId && c.method === "setWebhook").at(-1);
    expect(res.body).not.toContain(String(attempted?.params.secret_token));
    expect(await storedHash(botId)).toBe(hash);
    expect(fake.webhookOf(telegramId)!.secretToken).toBe(old);
    expect(await webhookStatus(botId, old, 1)).toBe(200);
  });

  it("another tenant's or an unknown bot: 404, and Telegram is not called", async () => {
    const { botId } = await connected();
    const hash = await storedHash(botId);
    const calls = fake.calls.length;
    const other = client(app, tokenFor(newTenant()));
    for (const id of [botId, "no_such_bot"]) {
      const res = await other.post(`/api/bots/${id}/webhook-secret`);
      expect(res.statusCode).toBe(404);
      expect(res.json()).toEqual({ error: "not_found", message: "bot not found" });
    }
    expect(fake.calls.length).toBe(calls);
    expect(await storedHash(botId)).toBe(hash);
  });

  it("needs a token", async () => {
    const { botId } = await connected();
    expect((await call(app, { method: "POST", url: `/api/bots/${botId}/webhook-secret` })).statusCode).toBe(401);
  });
});

describe("bot texts", () => {
  it("POST /api/bots takes texts; GET shows the effective ones (stored, else default)", async () => {
    const { as, botId } = await connected({ welcome_text: "Welcome to Acme!", help_text: null });
    const expected = { ...DEFAULT_BOT_TEXTS, welcome_text: "Welcome to Acme!" };
    const one = await as.get(`/api/bots/${botId}`);
    expect(one.statusCode).toBe(200);
    expect(one.json().texts).toEqual(expected);
    expect((await as.get("/api/bots")).json().bots[0].texts).toEqual(expected);
  });

  it("PATCH sets any subset, null restores the default, absent fields are kept", async () => {
    const { jwt, as, botId } = await connected();
    const first = await patch(jwt, `/api/bots/${botId}`, {
      help_text: "Write /cancel to stop.",
      waiting_text: "Hold on!",
    });
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ bot_id: botId, status: "connected" });
    expect(first.json().texts).toEqual({
      ...DEFAULT_BOT_TEXTS,
      help_text: "Write /cancel to stop.",
      waiting_text: "Hold on!",
    });
    const second = await patch(jwt, `/api/bots/${botId}`, { waiting_text: null, unavailable_text: "Closed today." });
    expect(second.json().texts).toEqual({
      ...DEFAULT_BOT_TEXTS,
      help_text: "Write /cancel to stop.",
      unavailable_text: "Closed today.",
    });
    expect((await patch(jwt, `/api/bots/${botId}`, {})).json().texts).toEqual(second.json().texts);
    expect((await as.get(`/api/bots/${botId}`)).json().texts).toEqual(second.json().texts);
  });

  it("refuses bad values with 400 naming the field, and stores nothing", async () => {
    const { jwt, as, botId } = await connected();
    const before = (await as.get(`/api/bots/${botId}`)).json();
    const cases: [unknown, RegExp][] = [
      [{ welcome_text: "" }, /body\/welcome_text must not have fewer than 1 characters/],
      [{ help_text: "x".repeat(4097) }, /body\/help_text must not have more than 4096 characters/],
      [{ waiting_text: 42 }, /body\/waiting_text must be string/],
      [{ unavailable_text: "   " }, /unavailable_text must not be blank/],
      [{ unknown_link_text: ["a"] }, /body\/unknown_link_text must be string/],
      [{ goodbye_text: "Bye" }, /unknown field "goodbye_text"/],
      [{ token: newToken() }, /unknown field "token"/],
    ];
    for (const [body, reason] of cases) {
      const res = await patch(jwt, `/api/bots/${botId}`, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().message).toMatch(reason);
      if (JSON.stringify(body).includes("token")) continue;
      const posted = await as.post("/api/bots", { token: newToken(), ...(body as object) });
      expect(posted.statusCode, JSON.stringify(body)).toBe(400);
      expect(posted.json().message).toMatch(reason);
    }
    expect((await as.get(`/api/bots/${botId}`)).json()).toEqual(before);
    expect((await as.get("/api/bots")).json().bots).toHaveLength(1);
    expect((await patch(jwt, `/api/bots/${botId}`, { help_text: "x".repeat(4096) })).statusCode).toBe(200);
  });

  it("another tenant's bot: GET and PATCH answer 404 and its texts stay", async () => {
    const { as, botId } = await connected({ help_text: "Owner's help." });
    const intruder = tokenFor(newTenant());
    expect((await client(app, intruder).get(`/api/bots/${botId}`)).statusCode).toBe(404);
    const res = await patch(intruder, `/api/bots/${botId}`, { help_text: "Intruder's help." });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toEqual({ error: "not_found", message: "bot not found" });
    expect((await patch(intruder, `/api/bots/${botId}`, {})).statusCode).toBe(404);
    expect((await as.get(`/api/bots/${botId}`)).json().texts.help_text).toBe("Owner's help.");
    expect((await client(app, intruder).get("/api/bots/no_such_bot")).statusCode).toBe(404);
  });
});
