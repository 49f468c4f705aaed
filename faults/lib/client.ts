/**
 * Talking to the API as its users do: the admin REST API with a tenant's JWT (to set up bots and
 * journeys), and Telegram's side of the webhook — including Telegram's redelivery of anything
 * not answered 2xx.
 */
import { randomBytes } from "node:crypto";
import { webhookPath } from "../../packages/journeys/src/telegram/api.ts";
import { signToken } from "../../scripts/lib/jwt.ts";
import { inParallel } from "../../scripts/lib/parallel.ts";
import type { Stack } from "./stack.ts";

export interface HttpResult {
  /** 0 when no HTTP answer came (connection refused or reset, timeout). */
  status: number;
  body: string;
  error?: string;
}

export async function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: string | Uint8Array; timeoutMs?: number } = {},
): Promise<HttpResult> {
  try {
    const res = await fetch(url, {
      method: init.method ?? "GET",
      headers: init.headers,
      body: init.body,
      signal: AbortSignal.timeout(init.timeoutMs ?? 15_000),
    });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    return { status: 0, body: "", error: e.cause?.code ?? e.cause?.message ?? e.message };
  }
}

export class AdminClient {
  readonly token: string;
  constructor(
    private readonly stack: Stack,
    readonly tenantId: string,
    role: "admin" | "member" = "admin",
  ) {
    this.token = signToken(stack.jwtSecret, { tenant_id: tenantId, role, sub: `faults-${tenantId}` });
  }

  async call(method: string, path: string, body?: unknown): Promise<HttpResult> {
    return request(`${this.stack.apiUrl}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  }

  async ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.call(method, path, body);
    if (res.status < 200 || res.status >= 300) {
      throw new Error(`${method} ${path} → ${res.status || res.error} ${res.body.slice(0, 300)}`);
    }
    return JSON.parse(res.body) as T;
  }
}

export interface Bot {
  tenantId: string;
  botId: string;
  telegramBotId: number;
  username: string;
  /** The secret_token our API registered with (fake) Telegram: what Telegram sends back. */
  secret: string;
  path: string;
}

let nextTelegramBotId = 6_200_000_000 + Math.floor(Math.random() * 1_000_000) * 100;

/** Connect a bot through POST /api/bots (getMe + setWebhook on the fake Bot API). */
export async function connectBot(stack: Stack, admin: AdminClient): Promise<Bot> {
  const token = `${nextTelegramBotId++}:${randomBytes(26).toString("base64url")}`;
  const bot = await admin.ok<{ bot_id: string; telegram_bot_id: number; username: string }>("POST", "/api/bots", {
    token,
  });
  const hook = stack.fake.webhookOf(bot.telegram_bot_id);
  if (!hook?.secretToken) throw new Error(`bot ${bot.bot_id}: no webhook with a secret was set`);
  return {
    tenantId: admin.tenantId,
    botId: bot.bot_id,
    telegramBotId: bot.telegram_bot_id,
    username: bot.username,
    secret: hook.secretToken,
    path: webhookPath(bot.bot_id),
  };
}

export type StepSpec = { step_type: string; config: Record<string, unknown> };

/** An active journey with `steps`, started by the deep link `startParam`; returns its id. */
export async function createJourney(
  admin: AdminClient,
  bot: Bot,
  startParam: string,
  steps: StepSpec[],
  name = `faults ${startParam}`,
): Promise<string> {
  const j = await admin.ok<{ id: string }>("POST", "/api/journeys", { bot_id: bot.botId, name, status: "active" });
  await admin.ok("PUT", `/api/journeys/${j.id}/steps`, { steps });
  await admin.ok("POST", `/api/journeys/${j.id}/triggers`, {
    trigger_type: "telegram_deeplink",
    trigger_config: { start_param: startParam },
  });
  return j.id;
}

/**
 * A scenario's tenant set-up: `count` bots connected through the admin API, each with the same
 * active journey of `steps` behind the deep link `startParam`.
 */
export async function botsWithJourney(
  stack: Stack,
  tenantId: string,
  count: number,
  startParam: string,
  steps: StepSpec[],
): Promise<{ bots: Bot[]; telegramIds: number[] }> {
  const admin = new AdminClient(stack, tenantId);
  const bots: Bot[] = [];
  for (let i = 0; i < count; i++) bots.push(await connectBot(stack, admin));
  for (const bot of bots) await createJourney(admin, bot, startParam, steps);
  return { bots, telegramIds: bots.map((b) => b.telegramBotId) };
}

// ---- Telegram's side ----

let lastUpdateId = 10_000_000;
export const nextUpdateId = () => ++lastUpdateId;

export function textUpdate(userId: number, text: string, updateId = nextUpdateId()) {
  const from = { id: userId, is_bot: false, first_name: "Fault", language_code: "en" };
  const chat = { id: userId, type: "private", first_name: "Fault" };
  const entities = text.startsWith("/start") ? [{ type: "bot_command", offset: 0, length: 6 }] : undefined;
  return {
    update_id: updateId,
    message: { message_id: updateId, from, chat, date: Math.floor(Date.now() / 1000), text, entities },
  };
}

export type Update = { update_id: number } & Record<string, unknown>;

/** One webhook delivery as Telegram makes it. */
export function deliver(stack: Stack, bot: Bot, body: unknown, timeoutMs = 15_000): Promise<HttpResult> {
  return request(`${stack.apiUrl}${bot.path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": bot.secret },
    body: typeof body === "string" ? body : JSON.stringify(body),
    timeoutMs,
  });
}

export interface Acked {
  updateId: number;
  /** When the 2xx came (epoch ms). */
  at: number;
  attempts: number;
  /** The API's `status` field: "processed" or "duplicate" (already committed by an earlier try). */
  outcome: string;
  /** Every answer before the 2xx: HTTP statuses, 0 for no answer. */
  failures: number[];
}

/**
 * Telegram's redelivery: anything not answered 2xx (an error status, a reset connection, a refused
 * one, a timeout) is sent again, until it is acknowledged or `deadline` (epoch ms) passes.
 */
export async function deliverUntilAcked(
  stack: Stack,
  bot: Bot,
  update: Update,
  deadline: number,
  onAnswer?: (status: number, at: number) => void,
  /** Checked before each redelivery: throw (a Fatal) to stop, e.g. when the API died for good. */
  guard?: () => void,
): Promise<Acked> {
  const failures: number[] = [];
  for (let attempt = 1; ; attempt++) {
    guard?.();
    const res = await deliver(stack, bot, update, 10_000);
    const at = Date.now();
    onAnswer?.(res.status, at);
    if (res.status >= 200 && res.status < 300) {
      let outcome = "?";
      try {
        outcome = String((JSON.parse(res.body) as { status?: string }).status);
      } catch {
        // counted as "?"
      }
      return { updateId: update.update_id, at, attempts: attempt, outcome, failures };
    }
    failures.push(res.status);
    if (res.status >= 400 && res.status < 500) {
      throw new Error(`update ${update.update_id} answered ${res.status} (${res.body.slice(0, 200)}): not retryable`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `update ${update.update_id} not acknowledged after ${attempt} tries (last ${res.status || res.error})`,
      );
    }
    // Telegram backs off too; short here so a run stays within its budget.
    await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 500) + Math.random() * 50));
  }
}

export { inParallel };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** An error no waiting can cure (a process under test died): ends waits and redelivery at once. */
export class Fatal extends Error {}

/** Poll `check` until it returns something other than undefined/false, or throw after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof Fatal) throw err;
      // A failed look (e.g. the shared Postgres briefly out of connections) is "not yet".
      lastError = ` (last check failed: ${(err as Error).message})`;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError}`);
    await sleep(everyMs);
  }
}

/** A small seeded PRNG (mulberry32), so a run's random choices can be replayed from its seed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    shuffle<T>(xs: T[]): T[] {
      const a2 = [...xs];
      for (let i = a2.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [a2[i], a2[j]] = [a2[j]!, a2[i]!];
      }
      return a2;
    },
  };
}
