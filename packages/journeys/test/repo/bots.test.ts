/** Tenant bots: the token encrypted at rest, never exposed by list/get; update claims (at most once). */
import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { addBot, repoFor } from "../../../../test/support/fixtures.ts";
import { decryptSecret } from "../../src/crypto.ts";
import { expectDomainError, gate, newTenant } from "./helpers.ts";

const env = await createTestEnv();

let nextTelegramId = 8_000_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
const botInput = (botId = `b_${randomUUID().slice(0, 8)}`) => {
  const telegramBotId = nextTelegramId++;
  return {
    botId,
    telegramBotId,
    username: `${botId}_bot`,
    firstName: "First",
    token: `${telegramBotId}:AA${randomBytes(24).toString("base64url")}`,
  };
};

const rawRow = async (botId: string) =>
  (await env.handle.pool.query("SELECT * FROM tenant_bots WHERE bot_id = $1", [botId])).rows[0];

describe("bots.save and credentials", () => {
  it("the token round-trips through credentials() and is stored encrypted", async () => {
    const tenantId = newTenant();
    const repo = repoFor(env, tenantId);
    const input = botInput();
    const saved = await repo.bots.save(input);
    expect(saved).toMatchObject({ botId: input.botId, tenantId, token: input.token, username: input.username });
    expect(saved.webhookSecret.length).toBeGreaterThanOrEqual(32);
    const creds = await repo.bots.credentials(input.botId);
    expect(creds.token).toBe(input.token);
    expect(creds.webhookSecret).toBe(saved.webhookSecret);

    const row = await rawRow(input.botId);
    const [secretPart] = input.token.split(":").slice(1);
    for (const plain of [input.token, secretPart!, Buffer.from(input.token).toString("base64")]) {
      expect(row.token_encrypted).not.toContain(plain);
    }
    expect(row.token_encrypted).toMatch(/^[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+\.[A-Za-z0-9+/=]+$/);
    expect(decryptSecret(row.token_encrypted, env.config.botTokenEncryptionKey)).toBe(input.token);
    expect(() => decryptSecret(row.token_encrypted, randomBytes(32))).toThrow();
  });

  it("two saves of the same token give different ciphertexts (random IV)", async () => {
    const repo = repoFor(env, newTenant());
    const input = botInput();
    await repo.bots.save(input);
    const first = (await rawRow(input.botId)).token_encrypted;
    await repo.bots.save(input);
    const second = (await rawRow(input.botId)).token_encrypted;
    expect(second).not.toBe(first);
    expect(second.split(".")[0]).not.toBe(first.split(".")[0]);
    expect((await repo.bots.credentials(input.botId)).token).toBe(input.token);
  });

  it("re-saving keeps the webhook secret and stores the rotated token", async () => {
    const repo = repoFor(env, newTenant());
    const input = botInput();
    const first = await repo.bots.save(input);
    const rotated = { ...input, username: "renamed_bot", token: `${input.telegramBotId}:rotated` };
    const second = await repo.bots.save(rotated);
    expect(second.webhookSecret).toBe(first.webhookSecret);
    const creds = await repo.bots.credentials(input.botId);
    expect([creds.token, creds.username, creds.webhookSecret]).toEqual([
      rotated.token,
      "renamed_bot",
      first.webhookSecret,
    ]);
    expect(await repo.bots.list()).toHaveLength(1);
  });

  it("list() and get() never expose token, tokenEncrypted or webhookSecret", async () => {
    const tenantId = newTenant();
    const repo = repoFor(env, tenantId);
    const a = await addBot(env, tenantId);
    const b = await addBot(env, tenantId);
    const list = await repo.bots.list();
    expect(list.map((x) => x.botId).sort()).toEqual([a.botId, b.botId].sort());
    for (const summary of [...list, await repo.bots.get(a.botId)]) {
      expect(Object.keys(summary).sort()).toEqual(
        [
          "botId",
          "createdAt",
          "firstName",
          "telegramBotId",
          "tenantId",
          "unauthorizedAt",
          "updatedAt",
          "username",
        ].sort(),
      );
      expect(JSON.stringify(summary)).not.toContain(a.token);
      expect(JSON.stringify(summary)).not.toContain(a.webhookSecret);
    }
    await expectDomainError(repo.bots.get("nope"), "NOT_FOUND");
    await expectDomainError(repo.bots.credentials("nope"), "NOT_FOUND");
  });

  it("a bot id or Telegram bot of another tenant is a CONFLICT and the owner's row is unchanged", async () => {
    const owner = newTenant();
    const input = botInput();
    await repoFor(env, owner).bots.save(input);
    const before = await rawRow(input.botId);
    const thief = repoFor(env, newTenant());
    await expectDomainError(thief.bots.save({ ...botInput(input.botId), token: "1:x" }), "CONFLICT");
    await expectDomainError(thief.bots.save({ ...botInput(), telegramBotId: input.telegramBotId }), "CONFLICT");
    // The same Telegram bot under a second bot_id of the same tenant is refused too.
    await expectDomainError(
      repoFor(env, owner).bots.save({ ...botInput(), telegramBotId: input.telegramBotId }),
      "CONFLICT",
    );
    expect(await rawRow(input.botId)).toEqual(before);
    expect(await thief.bots.list()).toEqual([]);
  });
});

describe("bots.claimUpdate", () => {
  it("returns true once, then false for the same (bot, update_id)", async () => {
    const tenantId = newTenant();
    const repo = repoFor(env, tenantId);
    const a = await addBot(env, tenantId);
    const b = await addBot(env, tenantId);
    expect(await repo.updates.claim(a.botId, 1)).toBe(true);
    expect(await repo.updates.claim(a.botId, 1)).toBe(false);
    expect(await repo.updates.claim(a.botId, 2)).toBe(true);
    expect(await repo.updates.claim(b.botId, 1)).toBe(true);
    expect(await repo.updates.claim(a.botId, 2 ** 40)).toBe(true);
    await expectDomainError(repo.updates.claim("nope", 1), "NOT_FOUND");
  });

  it("concurrent claims of one update in separate transactions: exactly one wins", async () => {
    const tenantId = newTenant();
    const bot = await addBot(env, tenantId);
    const claim = () => repoFor(env, tenantId).transaction((r) => r.updates.claim(bot.botId, 7));
    const results = await Promise.all([claim(), claim(), claim(), claim(), claim()]);
    expect(results.filter(Boolean)).toHaveLength(1);
  });

  it("a waiting duplicate sees the first claim once it commits, and wins if it rolls back", async () => {
    const tenantId = newTenant();
    const repo = repoFor(env, tenantId);
    const bot = await addBot(env, tenantId);
    const claimed = gate();
    const held = gate();
    const first = repo
      .transaction(async (r) => {
        expect(await r.updates.claim(bot.botId, 9)).toBe(true);
        claimed.open();
        await held.wait;
        throw new Error("handler failed");
      })
      .catch((e: Error) => e.message);
    await claimed.wait;
    const second = repo.transaction((r) => r.updates.claim(bot.botId, 9));
    held.open();
    expect(await first).toBe("handler failed");
    expect(await second).toBe(true);
    expect(await repo.updates.claim(bot.botId, 9)).toBe(false);
  });
});
