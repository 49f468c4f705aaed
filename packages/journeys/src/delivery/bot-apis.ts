import type { Api } from "grammy";
import type { TenantRepository } from "../repo/index.ts";
import { createApi } from "../telegram/api.ts";
import type { SendRateLimiter } from "./send-rate.ts";

/** How long an Api instance (and the token it holds) is reused before the next one is built. */
const API_TTL_MS = 60_000;

export interface BotApis {
  /** The Bot API client for a bot, with the token read from tenant_bots now (rotations apply at once). */
  forBot(repo: TenantRepository, botId: string): Promise<Api>;
}

/**
 * grammY clients on TELEGRAM_API_ROOT, cached briefly per bot and token. Every send method holds a
 * place in the bot's shared rate limit from before the request until its answer (a retried send
 * takes a new place). No auto-retry transformer: the sender decides what to wait out, so each
 * retry is logged with its outbox row.
 */
export function botApis(apiRoot: string, limiter: SendRateLimiter): BotApis {
  const cache = new Map<string, { token: string; api: Api; until: number }>();
  return {
    async forBot(repo, botId) {
      const { token } = await repo.bots.credentials(botId);
      const hit = cache.get(botId);
      if (hit && hit.token === token && hit.until > Date.now()) return hit.api;
      const api = createApi(token, apiRoot, { retry: false });
      api.config.use(async (prev, method, payload, signal) => {
        if (!/^(send|copy|forward)/.test(method)) return prev(method, payload, signal);
        const done = await limiter.acquire(botId);
        try {
          return await prev(method, payload, signal);
        } finally {
          await done();
        }
      });
      cache.set(botId, { token, api, until: Date.now() + API_TTL_MS });
      return api;
    },
  };
}
