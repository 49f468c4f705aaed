/**
 * The admin REST API as a tenant's operator uses it, for verify, bench and faults: a JWT for the
 * tenant, bots connected through POST /api/bots (getMe + setWebhook on the fake Bot API), journeys
 * with their steps and a deep-link trigger.
 */
import { randomBytes } from "node:crypto";
import { webhookPath } from "../../../packages/journeys/src/telegram/api.ts";
import { signToken } from "../jwt.ts";
import { type HttpResult, jsonBody, request } from "./http.ts";

type ListedBot = { bot_id: string; telegram_bot_id: number; username: string };

export type StepSpec = { step_type: string; config: Record<string, unknown> };

/** A connected bot, with what Telegram needs to call its webhook. */
export interface Bot {
  tenantId: string;
  botId: string;
  telegramBotId: number;
  username: string;
  /** The secret_token the API registered its webhook with: what Telegram sends back. */
  secret: string;
  /** The webhook's path on the API. */
  path: string;
}

/** Where the API runs and how to sign for it; a scratch stack is one. */
export interface AdminTarget {
  apiUrl: string;
  jwtSecret?: string;
  /** The webhook secret the API registered for a bot at Telegram (without it a Bot's `secret` stays empty). */
  webhookSecret?(bot: { botId: string; telegramBotId: number }): Promise<string>;
}

export interface AdminOptions {
  role?: "admin" | "member";
  sub?: string;
  /** A token minted elsewhere (verify uses `npm run token`) instead of one signed here. */
  token?: string;
}

// Telegram bot ids (the token's prefix) from a random base, so runs against one database never clash.
let nextTelegramBotId = 6_000_000_000 + Math.floor(Math.random() * 1_000_000) * 1000;

export class AdminClient {
  readonly token: string;

  constructor(
    private readonly target: AdminTarget,
    readonly tenantId: string,
    opts: AdminOptions = {},
  ) {
    if (opts.token) this.token = opts.token;
    else if (target.jwtSecret) {
      const sub = opts.sub ?? `harness-${tenantId}`;
      this.token = signToken(target.jwtSecret, { tenant_id: tenantId, role: opts.role ?? "admin", sub });
    } else throw new Error("AdminClient needs a token or the JWT secret to sign one");
  }

  call(method: string, path: string, body?: unknown): Promise<HttpResult> {
    const json = jsonBody(body);
    return request(`${this.target.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...json.headers },
      body: json.body,
    });
  }

  async ok<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.call(method, path, body);
    if (res.status < 200 || res.status >= 300) {
      throw new Error(`${method} ${path} → ${res.status || res.error} ${res.body.slice(0, 300)}`);
    }
    return JSON.parse(res.body) as T;
  }

  /** The tenant's bots as GET /api/bots lists them (their webhook secrets are not listed). */
  async bots(): Promise<Omit<Bot, "secret">[]> {
    const listed = await this.ok<ListedBot[] | { bots: ListedBot[] }>("GET", "/api/bots");
    return (Array.isArray(listed) ? listed : listed.bots).map((b) => this.asBot(b));
  }

  /** Connect a new fake bot through POST /api/bots. */
  async connectBot(): Promise<Bot> {
    const token = `${nextTelegramBotId++}:${randomBytes(26).toString("base64url")}`;
    const bot = this.asBot(await this.ok<ListedBot>("POST", "/api/bots", { token }));
    return { ...bot, secret: (await this.target.webhookSecret?.(bot)) ?? "" };
  }

  /** An active journey of `steps` on the bot, started by the deep link `startParam`; returns its id. */
  async createJourney(bot: Bot, opts: { startParam: string; steps: StepSpec[]; name?: string }): Promise<string> {
    const name = opts.name ?? `journey ${opts.startParam}`;
    // Draft first: a journey is activated only once it has steps.
    const j = await this.ok<{ id: string }>("POST", "/api/journeys", { bot_id: bot.botId, name });
    await this.ok("PUT", `/api/journeys/${j.id}/steps`, { steps: opts.steps });
    await this.ok("POST", `/api/journeys/${j.id}/triggers`, {
      trigger_type: "telegram_deeplink",
      trigger_config: { start_param: opts.startParam },
    });
    await this.ok("PUT", `/api/journeys/${j.id}`, { status: "active" });
    return j.id;
  }

  private asBot(b: ListedBot): Omit<Bot, "secret"> {
    const { bot_id: botId, telegram_bot_id: telegramBotId, username } = b;
    return { tenantId: this.tenantId, botId, telegramBotId, username, path: webhookPath(botId) };
  }
}
