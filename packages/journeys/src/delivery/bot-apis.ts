import { AsyncLocalStorage } from "node:async_hooks";
import type { Api } from "grammy";
import type { TenantRepository } from "../repo/index.ts";
import { createApi } from "../telegram/api.ts";
import type { SendRateLimiter } from "./send-rate.ts";

/** How long an Api instance (and the token it holds) is reused before the next one is built. */
const API_TTL_MS = 60_000;
/**
 * How long a bot's decrypted token is reused before tenant_bots is read again: a send then costs
 * no SELECT + decrypt, and a rotated token still applies within seconds.
 */
const CREDENTIALS_TTL_MS = 5_000;
/** Bots whose token is kept at once (a bound, not a working-set guess: past it the oldest go). */
const CREDENTIALS_MAX = 10_000;

/**
 * The methods that take a place in the bot's send limit: every message, and the callback answers
 * and keyboard edits a conversation sends between them (an outbox row each, in the chat's order).
 */
const LIMITED = /^(send|copy|forward|answerCallbackQuery$|editMessageReplyMarkup$)/;

/**
 * The bot's token was refused by Telegram (401) and it has not been connected again since: its sends
 * are paused, rows kept pending. Thrown before any request is made with the token.
 */
export class BotPausedError extends Error {
  constructor(readonly botId: string) {
    super(`bot ${botId} is unauthorized (Telegram refused its token): sends paused until it is connected again`);
    this.name = "BotPausedError";
  }
}

/** A send place taken before the work that sends: `run` lets that work's first send use it. */
export type SendSlot = { ok: true; run<T>(fn: () => Promise<T>): Promise<T> } | { ok: false; waitMs: number };

export interface BotApis {
  /**
   * The Bot API client for a bot, with the token read from tenant_bots (at most a few seconds old);
   * BotPausedError when the bot is marked unauthorized.
   */
  forBot(repo: TenantRepository, botId: string): Promise<Api>;
  /**
   * A place in the bot's send limit if one is free within `maxWaitMs`, else how long to stay away.
   * Taken before a send's transaction opens, so no row lock or connection waits for the limit.
   */
  reserve(botId: string, maxWaitMs: number): Promise<SendSlot>;
}

interface Place {
  botId: string;
  done: () => Promise<void>;
  cancel: () => Promise<void>;
  used: boolean;
}

/**
 * grammY clients on TELEGRAM_API_ROOT, cached briefly per bot and token. Every limited method holds a
 * place in the bot's shared rate limit from before the request until its answer (a retried send
 * takes a new place) — the place reserved for the running `SendSlot.run` if it is still unused.
 * No auto-retry transformer: the sender decides what to wait out, so each retry is logged with
 * its outbox row.
 */
export function botApis(apiRoot: string, limiter: SendRateLimiter): BotApis {
  const cache = new Map<string, { token: string; api: Api; until: number }>();
  const tokens = new Map<string, { token: string; paused: boolean; until: number }>();
  const reserved = new AsyncLocalStorage<Place>();

  async function tokenFor(repo: TenantRepository, botId: string): Promise<string> {
    const key = `${repo.tenantId}\u0000${botId}`; // the tenant in the key: a hit never crosses tenants
    let hit = tokens.get(key);
    if (!hit || hit.until <= Date.now()) {
      const { token, unauthorizedAt } = await repo.bots.credentials(botId);
      hit = { token, paused: unauthorizedAt !== null, until: Date.now() + CREDENTIALS_TTL_MS };
      tokens.delete(key);
      if (tokens.size >= CREDENTIALS_MAX) tokens.delete(tokens.keys().next().value as string);
      tokens.set(key, hit);
    }
    if (hit.paused) throw new BotPausedError(botId);
    return hit.token;
  }

  return {
    async forBot(repo, botId) {
      const token = await tokenFor(repo, botId);
      const hit = cache.get(botId);
      if (hit && hit.token === token && hit.until > Date.now()) return hit.api;
      const api = createApi(token, apiRoot, { retry: false });
      api.config.use(async (prev, method, payload, signal) => {
        if (!LIMITED.test(method)) return prev(method, payload, signal);
        const place = reserved.getStore();
        let done: () => Promise<void>;
        if (place && !place.used && place.botId === botId) {
          place.used = true;
          done = place.done;
        } else {
          done = await limiter.acquire(botId);
        }
        try {
          return await prev(method, payload, signal);
        } finally {
          await done();
        }
      });
      cache.set(botId, { token, api, until: Date.now() + API_TTL_MS });
      return api;
    },
    async reserve(botId, maxWaitMs) {
      const r = await limiter.reserve(botId, maxWaitMs);
      if (!r.ok) return r;
      const place: Place = { botId, done: r.done, cancel: r.cancel, used: false };
      return {
        ok: true,
        async run(fn) {
          try {
            return await reserved.run(place, fn);
          } finally {
            if (!place.used) await place.cancel(); // nothing was sent: the place leaves the window
          }
        },
      };
    },
  };
}
