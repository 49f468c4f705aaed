import fastifyRateLimit, { type RateLimitOptions } from "@fastify/rate-limit";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import type { Claims } from "./jwt.ts";

/**
 * Counters live in Redis so every API replica shares them. A Redis outage must not take the admin
 * API down with it: the limiter then lets requests through (skipOnError) rather than failing them.
 * Nothing is limited globally; scopes opt in with `app.rateLimit(...)` as a hook (the webhook and
 * health routes never do: Telegram retries and probes must not be throttled).
 */
export async function registerRateLimit(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: false,
    redis: deps.redis,
    nameSpace: `${deps.config.queuePrefix}:rate-limit:`,
    skipOnError: true,
  });
}

/** Admin API: per tenant once the token is verified (the hook runs after auth), else per IP. */
export const API_RATE_LIMIT: RateLimitOptions = {
  max: 300,
  timeWindow: 60_000,
  keyGenerator: (req: FastifyRequest) => {
    const tenant = (req.user as Claims | undefined)?.tenant_id;
    return tenant ? `api:tenant:${tenant}` : `api:ip:${req.ip}`;
  },
};

/** Dashboard: per IP; bull-board polls its API and loads assets, so the budget is larger. */
export const DASHBOARD_RATE_LIMIT: RateLimitOptions = {
  max: 600,
  timeWindow: 60_000,
  keyGenerator: (req: FastifyRequest) => `dashboard:ip:${req.ip}`,
};
