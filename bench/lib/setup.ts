/**
 * What the phases run against, built through the product's own admin API: tenants' bots connected
 * (getMe + setWebhook on the fake), journeys with steps and a deep-link trigger. The webhook secret
 * each bot registered is read back from tenant_bots, as Telegram would know it.
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { webhookPath } from "../../packages/journeys/src/telegram/api.ts";
import { signToken } from "../../scripts/lib/jwt.ts";
import { inParallel } from "../../scripts/lib/parallel.ts";
import type { Stack } from "./stack.ts";

export interface BenchBot {
  tenantId: string;
  botId: string;
  telegramBotId: number;
  path: string;
  secret: string;
  token: string; // the tenant's admin JWT
}

export type StepSpec = { step_type: string; config: Record<string, unknown> };

async function call<T>(stack: Stack, method: string, path: string, jwt: string, body?: unknown): Promise<T> {
  const res = await fetch(`${stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${jwt}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text}`);
  return JSON.parse(text) as T;
}

/** `count` bots over `tenants` tenants (round-robin), each connected through POST /api/bots. */
export async function connectBots(stack: Stack, count: number, tenants: number): Promise<BenchBot[]> {
  const bots: BenchBot[] = new Array(count);
  await inParallel([...bots.keys()], 5, async (i) => {
    const tenantId = `bench-tenant-${(i % tenants) + 1}`;
    const jwt = signToken(stack.jwtSecret, { tenant_id: tenantId, role: "admin", sub: "bench" });
    const botToken = `${6_100_000_001 + i}:${randomBytes(26).toString("base64url")}`;
    const bot = await call<{ bot_id: string; telegram_bot_id: number }>(stack, "POST", "/api/bots", jwt, {
      token: botToken,
    });
    bots[i] = {
      tenantId,
      botId: bot.bot_id,
      telegramBotId: bot.telegram_bot_id,
      path: webhookPath(bot.bot_id),
      secret: "",
      token: jwt,
    };
  });
  const db = new pg.Client({ connectionString: stack.dbUrl });
  await db.connect();
  const rows = await db.query<{ bot_id: string; webhook_secret: string }>(
    "SELECT bot_id, webhook_secret FROM tenant_bots",
  );
  await db.end();
  const secrets = new Map(rows.rows.map((r) => [r.bot_id, r.webhook_secret]));
  for (const b of bots) b.secret = secrets.get(b.botId) ?? "";
  return bots;
}

/** An active journey of `steps` on the bot, started by /start <startParam>; returns its id. */
export async function createJourney(
  stack: Stack,
  bot: BenchBot,
  name: string,
  steps: StepSpec[],
  startParam: string,
): Promise<string> {
  const j = await call<{ id: string }>(stack, "POST", "/api/journeys", bot.token, {
    bot_id: bot.botId,
    name,
    status: "active",
  });
  await call(stack, "PUT", `/api/journeys/${j.id}/steps`, bot.token, { steps });
  await call(stack, "POST", `/api/journeys/${j.id}/triggers`, bot.token, {
    trigger_type: "telegram_deeplink",
    trigger_config: { start_param: startParam },
  });
  return j.id;
}

/** POST one update to the API's webhook route as Telegram would; returns the HTTP status. */
export async function deliver(stack: Stack, bot: BenchBot, update: object): Promise<number> {
  const res = await fetch(`${stack.apiUrl}${bot.path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": bot.secret },
    body: JSON.stringify(update),
  });
  await res.arrayBuffer();
  return res.status;
}

export function textUpdate(updateId: number, userId: number, text: string) {
  const from = { id: userId, is_bot: false, first_name: "Bench" };
  const chat = { id: userId, type: "private", first_name: "Bench" };
  const entities = text.startsWith("/start") ? [{ type: "bot_command", offset: 0, length: 6 }] : undefined;
  return {
    update_id: updateId,
    message: { message_id: updateId, from, chat, date: Math.floor(Date.now() / 1000), text, entities },
  };
}

export { inParallel };
