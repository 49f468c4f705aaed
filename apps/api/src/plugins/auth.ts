import fastifyAuth from "@fastify/auth";
import fastifyJwt from "@fastify/jwt";
import type { Config } from "@journeys/core";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpError } from "./errors.ts";
import { type Claims, jwtOptions, ROLES } from "./jwt.ts";

export type { Claims, Role } from "./jwt.ts";

const isNonEmptyString = (v: unknown): v is string => typeof v === "string" && v.trim() !== "" && v.length <= 128;

/** A signature proves who issued a token, not that its claims have the shape the API relies on. */
export function checkClaims(payload: unknown): Claims {
  const p = (payload ?? {}) as Record<string, unknown>;
  if (!isNonEmptyString(p.tenant_id)) throw new HttpError(401, "token claim tenant_id must be a non-empty string");
  if (!isNonEmptyString(p.sub)) throw new HttpError(401, "token claim sub must be a non-empty string");
  if (!(ROLES as readonly unknown[]).includes(p.role)) {
    throw new HttpError(401, `token claim role must be one of ${ROLES.join(", ")}`);
  }
  return p as unknown as Claims;
}

/** @fastify/jwt's errors, reworded: every way a token can fail is a 401 that says why. */
function tokenError(err: unknown): HttpError {
  if (err instanceof HttpError) return err;
  const code = (err as { code?: string }).code ?? "";
  if (code === "FST_JWT_NO_AUTHORIZATION_IN_HEADER" || code === "FST_JWT_BAD_REQUEST") {
    return new HttpError(401, "missing Authorization: Bearer <token> header");
  }
  if (code === "FST_JWT_AUTHORIZATION_TOKEN_EXPIRED" || code === "FAST_JWT_EXPIRED") {
    return new HttpError(401, "token expired");
  }
  return new HttpError(401, "token is invalid (bad signature, algorithm, format or missing claims)");
}

/** Verifies a raw token (e.g. from the dashboard cookie) the same way as a Bearer header. */
export function verifyRawToken(app: FastifyInstance, token: string): Claims {
  try {
    return checkClaims(app.jwt.verify(token));
  } catch (err) {
    throw tokenError(err);
  }
}

const verified = new WeakSet<FastifyRequest>();

/** Authentication: a valid Bearer JWT. Idempotent, so routes can list it again next to requireAdmin. */
export async function verifyJwt(req: FastifyRequest): Promise<void> {
  if (verified.has(req)) return;
  try {
    checkClaims(await req.jwtVerify());
  } catch (err) {
    throw tokenError(err);
  }
  verified.add(req);
}

/** The request's hostname without port, lowercased (X-Forwarded-Host only from a TRUSTED_PROXIES address). */
export const requestHost = (req: FastifyRequest) => req.hostname.toLowerCase();

/** Authorization for admin-only routes: role admin and, when ADMIN_HOSTS is set, an admin host. */
export function adminCheck(config: Config, claims: Claims, host: string): void {
  if (claims.role !== "admin") throw new HttpError(403, `role "${claims.role}" may not use admin-only routes`);
  if (config.adminHosts.length > 0 && !config.adminHosts.includes(host)) {
    throw new HttpError(403, `admin-only routes are served only on ${config.adminHosts.join(", ")}`);
  }
}

/** @fastify/jwt and @fastify/auth on the root instance; routes compose `app.auth([...])`. */
export async function registerAuth(app: FastifyInstance, config: Config): Promise<void> {
  await app.register(fastifyJwt, jwtOptions(config.jwtSecret));
  await app.register(fastifyAuth);
  app.decorate("requireAdmin", async (req: FastifyRequest) => adminCheck(config, req.user, requestHost(req)));
}

declare module "fastify" {
  interface FastifyInstance {
    /** Use after verifyJwt in `app.auth([verifyJwt, app.requireAdmin], { relation: "and" })`. */
    requireAdmin(req: FastifyRequest): Promise<void>;
  }
}
