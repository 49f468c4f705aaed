import { createHash, randomBytes } from "node:crypto";
import type { RedisClient } from "@journeys/core";
import type { Claims } from "../../plugins/auth.ts";
import { HttpError } from "../../plugins/errors.ts";

/** A dashboard login lasts at most this long, and never past its token's own expiry. */
export const SESSION_MAX_SECONDS = 8 * 3600;

type SessionClaims = Pick<Claims, "sub" | "tenant_id" | "role">;

/**
 * Dashboard sessions, server-side in Redis (the app's own connection, keys under QUEUE_PREFIX):
 * the browser's cookie holds only a random id, so logout revokes it at once and a stolen cookie
 * is no bearer token for the API. Keys are the id's SHA-256, so whoever reads Redis cannot log in.
 */
export class DashboardSessions {
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
  ) {}

  private key(id: string): string {
    return `${this.prefix}:dashboard-session:${createHash("sha256").update(id).digest("hex")}`;
  }

  /** A new session for verified admin claims; returns its id and lifetime in seconds. */
  async create(claims: Claims): Promise<{ id: string; maxAge: number }> {
    const untilExp = (claims.exp ?? 0) - Math.floor(Date.now() / 1000);
    const maxAge = Math.min(SESSION_MAX_SECONDS, untilExp);
    if (maxAge <= 0) throw new HttpError(401, "token expired");
    const id = randomBytes(32).toString("base64url");
    const value: SessionClaims = { sub: claims.sub, tenant_id: claims.tenant_id, role: claims.role };
    await this.unavailableOnError(this.redis.set(this.key(id), JSON.stringify(value), "EX", maxAge));
    return { id, maxAge };
  }

  /** The claims of a live session, or null (unknown, expired, logged out, or not an id at all). */
  async get(id: string): Promise<SessionClaims | null> {
    if (!/^[A-Za-z0-9_-]{43}$/.test(id)) return null;
    const raw = await this.unavailableOnError(this.redis.get(this.key(id)));
    return raw ? (JSON.parse(raw) as SessionClaims) : null;
  }

  async delete(id: string): Promise<void> {
    if (/^[A-Za-z0-9_-]{43}$/.test(id)) await this.unavailableOnError(this.redis.del(this.key(id)));
  }

  /** Without Redis no session can be checked: a 503 that says so, not a 500. */
  private async unavailableOnError<T>(p: Promise<T>): Promise<T> {
    try {
      return await p;
    } catch {
      throw new HttpError(503, "the dashboard's session store (Redis) is unavailable");
    }
  }
}
