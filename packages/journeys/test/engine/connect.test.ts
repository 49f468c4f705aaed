/**
 * connectBot against the fake Bot API: getMe, store the token encrypted with a webhook secret,
 * setWebhook with that secret — and nothing stored when Telegram refuses either call.
 */
import { randomBytes } from "node:crypto";
import { startFakeTelegram } from "@journeys/fake-telegram";
import { eq, sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { repoFor } from "../../../../test/support/fixtures.ts";
import { tenantBots } from "../../src/db/schema.ts";
import { DomainError } from "../../src/errors.ts";
import { createLogger } from "../../src/logger.ts";
import { connectBot } from "../../src/telegram/connect.ts";

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

  it("a good token: stored encrypted, webhook set with the stored secret", async () => {
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
    expect(fake.webhookOf(idOf(token))).toEqual({ url: webhookUrl, secretToken: creds.webhookSecret });
    expect(creds.webhookSecret).toMatch(/^[A-Za-z0-9_-]{32,256}$/);
    const setWebhook = fake.calls.filter((c) => c.method === "setWebhook" && c.botId === idOf(token)).at(-1);
    expect(setWebhook?.params.allowed_updates).toEqual(expect.arrayContaining(["message", "my_chat_member"]));
  });

  it("reconnecting (token rotation) keeps the bot and its webhook secret", async () => {
    const id = nextId++;
    const first = `${id}:${randomBytes(18).toString("base64url")}`;
    const rotated = `${id}:${randomBytes(18).toString("base64url")}`;
    const { bot } = await connectBot(deps, "acme", { token: first });
    const before = await repoFor(env, "acme").bots.credentials(bot.botId);
    await connectBot(deps, "acme", { token: rotated });
    const after = await repoFor(env, "acme").bots.credentials(bot.botId);
    expect(after.token).toBe(rotated);
    expect(after.webhookSecret).toBe(before.webhookSecret);
    expect(fake.webhookOf(id)?.secretToken).toBe(before.webhookSecret);
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
