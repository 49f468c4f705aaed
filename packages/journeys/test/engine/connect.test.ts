/**
 * connectBot against the fake Bot API: getMe, store the token encrypted and the webhook secret's
 * hash, setWebhook with the secret — and nothing stored when Telegram refuses either call.
 * rotateWebhookSecret: a new secret registered and stored, or, when Telegram refuses, the old one kept.
 */
import { randomBytes } from "node:crypto";
import { startFakeTelegram } from "@journeys/fake-telegram";
import { eq, sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { repoFor } from "../../../../test/support/fixtures.ts";
import { hashSecret } from "../../src/crypto.ts";
import { tenantBots } from "../../src/db/schema.ts";
import { DEFAULT_BOT_TEXTS } from "../../src/engine/bot-texts.ts";
import { DomainError } from "../../src/errors.ts";
import { createLogger } from "../../src/logger.ts";
import { connectBot, rotateWebhookSecret } from "../../src/telegram/connect.ts";

const env = await createTestEnv();
const fake = await startFakeTelegram();
afterAll(() => fake.close());
const deps = {
  db: env.handle.db,
  encryptionKey: env.config.botTokenEncryptionKey,
  telegramApiRoot: fake.apiRoot,
  publicBaseUrl: "https://journeys.example.com",
  log: createLogger("silent"),
};
let nextId = 8_100_000_000 + Math.floor(Math.random() * 100_000);
const newToken = () => `${nextId++}:${randomBytes(18).toString("base64url")}`;
const idOf = (token: string) => Number(token.split(":")[0]);

async function rejection(p: Promise<unknown>): Promise<DomainError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}

async function storedRows() {
  return env.handle.db.select().from(tenantBots);
}

/** The webhook_secret column of a bot: the SHA-256 (hex) of its secret. */
async function storedHash(botId: string) {
  const [row] = await env.handle.db.select().from(tenantBots).where(eq(tenantBots.botId, botId));
  return row?.webhookSecret;
}

/** The secret Telegram holds for the bot: the last setWebhook's secret_token. */
const registered = (telegramId: number) => fake.webhookOf(telegramId)?.secretToken;
const setWebhookCalls = (telegramId: number) =>
  fake.calls.filter((c) => c.method === "setWebhook" && c.botId === telegramId);

describe("connectBot", () => {
  it("a token Telegram refuses: TELEGRAM_REJECTED with Telegram's description, nothing stored", async () => {
    const token = `${nextId++}:invalid_token_${randomBytes(6).toString("hex")}`;
    const err = await rejection(connectBot(deps, "acme", { token }));
    expect(err.code).toBe("TELEGRAM_REJECTED");
    expect(err.message).toContain("401");
    expect(err.message).toContain("Unauthorized");
    expect(err.message).not.toContain(token);
    expect(await storedRows()).toEqual([]);
    expect(fake.webhookOf(idOf(token))).toBeUndefined();
  });

  it("something that is not a token: VALIDATION, and Telegram is not called", async () => {
    const calls = fake.calls.length;
    const err = await rejection(connectBot(deps, "acme", { token: "not a token" }));
    expect(err.code).toBe("VALIDATION");
    expect(fake.calls.length).toBe(calls);
  });

  it("setWebhook refused: TELEGRAM_REJECTED and the bot row is rolled back", async () => {
    const token = newToken();
    const description = "Bad Request: bad webhook: Failed to resolve host";
    fake.failNext("setWebhook", { status: 400, description });
    const err = await rejection(connectBot(deps, "acme", { token }));
    expect(err.code).toBe("TELEGRAM_REJECTED");
    expect(err.message).toContain(description);
    expect(await storedRows()).toEqual([]);
    expect(fake.webhookOf(idOf(token))).toBeUndefined();
  });

  it("a good token: stored encrypted, webhook set with a secret of which only the hash is stored", async () => {
    const token = newToken();
    const { bot, webhookUrl } = await connectBot(deps, "acme", { token });
    expect(bot).toMatchObject({ tenantId: "acme", telegramBotId: idOf(token), username: `bot${idOf(token)}_bot` });
    expect(JSON.stringify(bot)).not.toContain(token.split(":")[1]);
    expect(webhookUrl).toBe(`https://journeys.example.com/telegram/webhook/${bot.botId}`);

    const [row] = await env.handle.db.select().from(tenantBots).where(eq(tenantBots.botId, bot.botId));
    expect(row!.tokenEncrypted).not.toBe(token);
    expect(row!.tokenEncrypted).not.toContain(token.split(":")[1]);
    const raw = await env.handle.db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM tenant_bots WHERE token_encrypted LIKE ${`%${token.split(":")[1]}%`}`,
    );
    expect(raw.rows[0]!.n).toBe(0);
    const creds = await repoFor(env, "acme").bots.credentials(bot.botId);
    expect(creds.token).toBe(token);
    const secret = registered(idOf(token))!;
    expect(fake.webhookOf(idOf(token))).toEqual({ url: webhookUrl, secretToken: secret });
    expect(secret).toMatch(/^[A-Za-z0-9_-]{32,256}$/);
    expect(row!.webhookSecret).toBe(hashSecret(secret));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(JSON.stringify(bot)).not.toContain(secret);
    expect(setWebhookCalls(idOf(token)).at(-1)?.params.allowed_updates).toEqual([
      "message",
      "edited_message",
      "callback_query",
      "my_chat_member",
    ]);
    expect(bot.texts).toEqual(DEFAULT_BOT_TEXTS);
  });

  it("texts given at connect are stored with the bot", async () => {
    const { bot } = await connectBot(deps, "acme", { token: newToken(), texts: { welcome_text: "Welcome!" } });
    expect(bot.texts).toEqual({ ...DEFAULT_BOT_TEXTS, welcome_text: "Welcome!" });
    expect((await repoFor(env, "acme").bots.get(bot.botId)).texts.welcome_text).toBe("Welcome!");
  });

  it("reconnecting (token rotation) keeps the bot and registers a new webhook secret", async () => {
    const id = nextId++;
    const first = `${id}:${randomBytes(18).toString("base64url")}`;
    const rotated = `${id}:${randomBytes(18).toString("base64url")}`;
    const { bot } = await connectBot(deps, "acme", { token: first });
    const before = registered(id)!;
    await connectBot(deps, "acme", { token: rotated });
    const after = registered(id)!;
    expect((await repoFor(env, "acme").bots.credentials(bot.botId)).token).toBe(rotated);
    expect(after).not.toBe(before);
    expect(await storedHash(bot.botId)).toBe(hashSecret(after));
    expect(setWebhookCalls(id).at(-1)?.params.secret_token).toBe(after);
  });

  it("reconnecting when Telegram refuses setWebhook keeps the old token and secret", async () => {
    const id = nextId++;
    const first = `${id}:${randomBytes(18).toString("base64url")}`;
    const { bot } = await connectBot(deps, "acme", { token: first });
    const before = registered(id)!;
    fake.failNext("setWebhook", { status: 400, description: "Bad Request: bad webhook" });
    const err = await rejection(connectBot(deps, "acme", { token: `${id}:${randomBytes(18).toString("base64url")}` }));
    expect(err.code).toBe("TELEGRAM_REJECTED");
    expect((await repoFor(env, "acme").bots.credentials(bot.botId)).token).toBe(first);
    expect(await storedHash(bot.botId)).toBe(hashSecret(before));
  });

  it("a bot connected by one tenant cannot be connected by another", async () => {
    const token = newToken();
    await connectBot(deps, "acme", { token });
    const err = await rejection(connectBot(deps, "intruder", { token }));
    expect(err.code).toBe("CONFLICT");
    expect(await repoFor(env, "intruder").bots.list()).toEqual([]);
    expect((await repoFor(env, "acme").bots.credentials(String(idOf(token)))).token).toBe(token);
  });
});

describe("rotateWebhookSecret", () => {
  it("registers a new secret with the same URL and updates, then stores its hash", async () => {
    const token = newToken();
    const { bot, webhookUrl } = await connectBot(deps, "acme", { token });
    const before = registered(idOf(token))!;
    const rotated = await rotateWebhookSecret(deps, "acme", bot.botId);
    expect(rotated.botId).toBe(bot.botId);
    const after = registered(idOf(token))!;
    expect(after).not.toBe(before);
    expect(after).toMatch(/^[A-Za-z0-9_-]{32,256}$/);
    expect(await storedHash(bot.botId)).toBe(hashSecret(after));
    expect(JSON.stringify(rotated)).not.toContain(after);
    const [connectCall, rotateCall] = setWebhookCalls(idOf(token)).slice(-2);
    expect(rotateCall?.params).toEqual({ ...connectCall?.params, secret_token: after });
    expect(rotateCall?.params.url).toBe(webhookUrl);
  });

  it("Telegram refuses setWebhook: TELEGRAM_REJECTED with its reason, the old secret stays", async () => {
    const token = newToken();
    const { bot } = await connectBot(deps, "acme", { token });
    const before = registered(idOf(token))!;
    const description = "Bad Request: bad webhook: Failed to resolve host";
    fake.failNext("setWebhook", { status: 400, description });
    const err = await rejection(rotateWebhookSecret(deps, "acme", bot.botId));
    expect(err.code).toBe("TELEGRAM_REJECTED");
    expect(err.message).toBe(`setWebhook failed: Telegram answered 400: ${description}`);
    expect(registered(idOf(token))).toBe(before);
    expect(await storedHash(bot.botId)).toBe(hashSecret(before));
  });

  it("another tenant's or an unknown bot: NOT_FOUND, and Telegram is not called", async () => {
    const token = newToken();
    const { bot } = await connectBot(deps, "acme", { token });
    const hash = await storedHash(bot.botId);
    const calls = fake.calls.length;
    expect((await rejection(rotateWebhookSecret(deps, "intruder", bot.botId))).code).toBe("NOT_FOUND");
    expect((await rejection(rotateWebhookSecret(deps, "acme", "no_such_bot"))).code).toBe("NOT_FOUND");
    expect(fake.calls.length).toBe(calls);
    expect(await storedHash(bot.botId)).toBe(hash);
  });

  it("concurrent rotations leave Telegram and the database with the same secret", async () => {
    const token = newToken();
    const { bot } = await connectBot(deps, "acme", { token });
    await Promise.all([1, 2, 3, 4].map(() => rotateWebhookSecret(deps, "acme", bot.botId)));
    expect(setWebhookCalls(idOf(token))).toHaveLength(5);
    expect(await storedHash(bot.botId)).toBe(hashSecret(registered(idOf(token))!));
  });
});
