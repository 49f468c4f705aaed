/**
 * Tenant bots: the token encrypted at rest, the webhook secret stored as its hash, neither exposed
 * by list/get; the bot's texts; update claims (at most once).
 */
import { randomBytes, randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { addBot, repoFor } from "../../../../test/support/fixtures.ts";
import { decryptSecret, hashSecret } from "../../src/crypto.ts";
import { DEFAULT_BOT_TEXTS } from "../../src/engine/bot-texts.ts";
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
    expect(saved.webhookSecret).toMatch(/^[A-Za-z0-9_-]{32,256}$/);
    const creds = await repo.bots.credentials(input.botId);
    expect(creds.token).toBe(input.token);
    expect(creds).not.toHaveProperty("webhookSecret");

    const row = await rawRow(input.botId);
    // Only the secret's SHA-256 is kept: what Telegram sends back cannot be read from the database.
    expect(row.webhook_secret).toBe(hashSecret(saved.webhookSecret));
    expect(row.webhook_secret).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(saved.webhookSecret);
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

  it("re-saving stores the rotated token and a new webhook secret (the old one is not known to send again)", async () => {
    const repo = repoFor(env, newTenant());
    const input = botInput();
    const first = await repo.bots.save(input);
    const rotated = { ...input, username: "renamed_bot", token: `${input.telegramBotId}:rotated` };
    const second = await repo.bots.save(rotated);
    expect(second.webhookSecret).not.toBe(first.webhookSecret);
    expect((await rawRow(input.botId)).webhook_secret).toBe(hashSecret(second.webhookSecret));
    const creds = await repo.bots.credentials(input.botId);
    expect([creds.token, creds.username]).toEqual([rotated.token, "renamed_bot"]);
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
          "texts",
          "unauthorizedAt",
          "updatedAt",
          "username",
        ].sort(),
      );
      expect(JSON.stringify(summary)).not.toContain(a.token);
      expect(JSON.stringify(summary)).not.toContain(a.webhookSecret);
      expect(JSON.stringify(summary)).not.toContain(hashSecret(a.webhookSecret));
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

describe("bots.newWebhookSecret", () => {
  it("stores the hash of a new secret and returns the secret once; another tenant's bot is NOT_FOUND", async () => {
    const tenantId = newTenant();
    const bot = await addBot(env, tenantId);
    const { bot: summary, webhookSecret } = await repoFor(env, tenantId).bots.newWebhookSecret(bot.botId);
    expect(webhookSecret).toMatch(/^[A-Za-z0-9_-]{32,256}$/);
    expect(webhookSecret).not.toBe(bot.webhookSecret);
    expect((await rawRow(bot.botId)).webhook_secret).toBe(hashSecret(webhookSecret));
    expect(summary.botId).toBe(bot.botId);
    expect(JSON.stringify(summary)).not.toContain(webhookSecret);

    const before = await rawRow(bot.botId);
    await expectDomainError(repoFor(env, newTenant()).bots.newWebhookSecret(bot.botId), "NOT_FOUND");
    await expectDomainError(repoFor(env, tenantId).bots.newWebhookSecret("nope"), "NOT_FOUND");
    expect(await rawRow(bot.botId)).toEqual(before);
  });
});

describe("bot texts", () => {
  it("are the defaults until set; a subset changes only those, null restores the default", async () => {
    const tenantId = newTenant();
    const repo = repoFor(env, tenantId);
    const bot = await addBot(env, tenantId);
    expect((await repo.bots.get(bot.botId)).texts).toEqual(DEFAULT_BOT_TEXTS);

    const set = await repo.bots.setTexts(bot.botId, { welcome_text: "Hello!", help_text: "Ask us." });
    expect(set.texts).toEqual({ ...DEFAULT_BOT_TEXTS, welcome_text: "Hello!", help_text: "Ask us." });
    const reset = await repo.bots.setTexts(bot.botId, { welcome_text: null, waiting_text: "Hold on." });
    expect(reset.texts).toEqual({ ...DEFAULT_BOT_TEXTS, help_text: "Ask us.", waiting_text: "Hold on." });
    expect((await repo.bots.list())[0]!.texts).toEqual(reset.texts);
    const row = await rawRow(bot.botId);
    expect([row.welcome_text, row.help_text, row.waiting_text]).toEqual([null, "Ask us.", "Hold on."]);
    // Nothing to change: the bot as it is.
    expect((await repo.bots.setTexts(bot.botId, {})).texts).toEqual(reset.texts);
  });

  it("save() sets the texts it is given and keeps the others when connecting again", async () => {
    const repo = repoFor(env, newTenant());
    const input = botInput();
    const first = await repo.bots.save({ ...input, texts: { unknown_link_text: "Old link.", help_text: "Help!" } });
    expect(first.texts).toEqual({ ...DEFAULT_BOT_TEXTS, unknown_link_text: "Old link.", help_text: "Help!" });
    const again = await repo.bots.save({ ...input, texts: { help_text: null } });
    expect(again.texts).toEqual({ ...DEFAULT_BOT_TEXTS, unknown_link_text: "Old link." });
    expect((await repo.bots.save(input)).texts).toEqual(again.texts);
  });

  it("a text must be 1–4096 characters and not blank: VALIDATION naming the field, nothing stored", async () => {
    const tenantId = newTenant();
    const repo = repoFor(env, tenantId);
    const bot = await addBot(env, tenantId);
    const before = await rawRow(bot.botId);
    const cases: [Record<string, string>, RegExp][] = [
      [{ welcome_text: "" }, /^welcome_text must be 1–4096 characters/],
      [{ help_text: "x".repeat(4097) }, /^help_text must be 1–4096 characters/],
      [{ waiting_text: "🙂".repeat(4097) }, /^waiting_text must be 1–4096 characters/],
      [{ unavailable_text: " \n\t " }, /^unavailable_text must not be blank/],
      [{ help_text: "fine", unknown_link_text: "" }, /^unknown_link_text/],
    ];
    for (const [input, message] of cases) {
      await expectDomainError(repo.bots.setTexts(bot.botId, input), "VALIDATION", message);
      await expectDomainError(repo.bots.save({ ...botInput(), texts: input }), "VALIDATION", message);
    }
    expect(await rawRow(bot.botId)).toEqual(before);
    // The limits themselves are fine (4096 code points, even outside the BMP).
    const long = await repo.bots.setTexts(bot.botId, { help_text: "x".repeat(4096), waiting_text: "🙂".repeat(4096) });
    expect(long.texts.help_text).toHaveLength(4096);
    expect([...long.texts.waiting_text]).toHaveLength(4096);
  });

  it("another tenant's bot: NOT_FOUND and its texts unchanged", async () => {
    const owner = newTenant();
    const bot = await addBot(env, owner);
    await repoFor(env, owner).bots.setTexts(bot.botId, { help_text: "Owner's help." });
    const before = await rawRow(bot.botId);
    await expectDomainError(
      repoFor(env, newTenant()).bots.setTexts(bot.botId, { help_text: "Mine now." }),
      "NOT_FOUND",
    );
    await expectDomainError(repoFor(env, newTenant()).bots.setTexts(bot.botId, {}), "NOT_FOUND");
    expect(await rawRow(bot.botId)).toEqual(before);
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
