import { randomBytes } from "node:crypto";
import { TenantRepository } from "../../packages/journeys/src/repo/index.ts";
import type { TestEnv } from "./context.ts";

let nextTelegramId = 7_000_000_000 + Math.floor(Math.random() * 1_000_000) * 100;

/** A tenant repository on the test database. */
export function repoFor(env: TestEnv, tenantId: string): TenantRepository {
  return new TenantRepository(env.handle.db, tenantId, env.config.botTokenEncryptionKey);
}

/** Store a bot for a tenant directly (no Telegram round trip): for repository and engine tests. */
export async function addBot(env: TestEnv, tenantId: string, botId = `bot_${randomBytes(3).toString("hex")}`) {
  const telegramBotId = nextTelegramId++;
  const token = `${telegramBotId}:${randomBytes(24).toString("base64url")}`;
  const saved = await repoFor(env, tenantId).bots.save({
    botId,
    telegramBotId,
    username: `${botId}_bot`,
    firstName: botId,
    token,
  });
  return { ...saved, token };
}
