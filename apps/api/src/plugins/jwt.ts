/**
 * What a token is: its claims and how it is signed and verified. Kept free of heavy imports, since
 * `npm run token` loads it too, so the signer and the verifier cannot drift apart.
 */
import type { FastifyJWTOptions } from "@fastify/jwt";

export const ROLES = ["admin", "member"] as const;
export type Role = (typeof ROLES)[number];

/** What a verified token says: who (`sub`), which tenant every query is scoped to, and the role. */
export interface Claims {
  sub: string;
  tenant_id: string;
  role: Role;
  iat?: number;
  exp?: number;
}

declare module "@fastify/jwt" {
  interface FastifyJWT {
    payload: Claims;
    user: Claims;
  }
}

export function jwtOptions(secret: string): FastifyJWTOptions {
  return {
    secret,
    sign: { algorithm: "HS256" },
    // Pinned: a token naming any other algorithm (including "none") is refused, and one without
    // an expiry is refused too, so no token lives forever.
    verify: { algorithms: ["HS256"], requiredClaims: ["exp", "sub", "tenant_id", "role"] },
  };
}
