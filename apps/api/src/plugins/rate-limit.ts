import { isIPv6 } from "node:net";
import fastifyRateLimit, { type CreateRateLimitOptions, type RateLimitOptions } from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApiDeps } from "../deps.ts";
import { HttpError } from "./errors.ts";
import type { Claims } from "./jwt.ts";

/**
 * Counters live in Redis so every API replica shares them. A Redis outage must not take the admin
 * API down with it: the limiter then lets requests through (skipOnError) rather than failing them.
 * Nothing is limited globally; scopes opt in with `app.rateLimit(...)` as a hook (the health routes
 * never do: probes must not be throttled; the webhook has its own in-process limiter, webhook-limit.ts).
 */
export async function registerRateLimit(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  await app.register(fastifyRateLimit, {
    global: false,
    redis: deps.redis,
    nameSpace: `${deps.config.queuePrefix}:rate-limit:`,
    skipOnError: true,
  });
}

/**
 * The client's address as a rate-limit key: `req.ip` is the socket's peer, or the client a
 * TRUSTED_PROXIES proxy names. An IPv6 client owns a whole /64, so that is the key: otherwise it
 * could take a fresh budget with every address of its prefix.
 */
export function clientKey(req: FastifyRequest): string {
  const ip = req.ip ?? "unknown";
  if (!isIPv6(ip) || ip.includes(".")) return ip;
  const [head = "", tail = ""] = ip.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const groups = ip.includes("::") ? [...left, ...Array(8 - left.length - right.length).fill("0"), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(":")}::/64`;
}

/**
 * Admin API, first gate: per client address, before the token is verified, so requests with a
 * forged or expired token are limited too (they never reach the per-tenant counter).
 */
export const API_IP_RATE_LIMIT: CreateRateLimitOptions = {
  max: 1200,
  timeWindow: 60_000,
  keyGenerator: (req: FastifyRequest) => `api:ip:${clientKey(req)}`,
};

/** Admin API, second gate: per tenant once the token is verified (the hook runs after auth). */
export const API_RATE_LIMIT: RateLimitOptions = {
  max: 300,
  timeWindow: 60_000,
  keyGenerator: (req: FastifyRequest) => `api:tenant:${(req.user as Claims).tenant_id}`,
};

/** Dashboard: per client address; bull-board polls its API and loads assets, so the budget is larger. */
export const DASHBOARD_RATE_LIMIT: RateLimitOptions = {
  max: 600,
  timeWindow: 60_000,
  keyGenerator: (req: FastifyRequest) => `dashboard:ip:${clientKey(req)}`,
};

/**
 * A limit that answers 429 (with Retry-After) once exceeded and otherwise stays silent: a second
 * limiter in front of `app.rateLimit(...)`, whose X-RateLimit-* headers are the ones documented.
 * (Two `app.rateLimit` hooks cannot be stacked: the plugin runs only the first on a request.)
 */
export function silentRateLimit(app: Pick<FastifyInstance, "createRateLimit">, options: CreateRateLimitOptions) {
  const check = app.createRateLimit(options);
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const result = await check(req);
    if (!result.isAllowed && result.isExceeded) {
      reply.header("retry-after", result.ttlInSeconds);
      throw new HttpError(429, `Rate limit exceeded, retry in ${result.ttlInSeconds} seconds`);
    }
  };
}
