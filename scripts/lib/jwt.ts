import { createHmac } from "node:crypto";

const b64url = (data: string | Buffer) => Buffer.from(data).toString("base64url");

/** An HS256 JWT for local tools (the API verifies it with @fastify/jwt and the same JWT_SECRET). */
export function signToken(
  secret: string,
  claims: { tenant_id: string; role: "admin" | "member"; sub?: string },
  ttlSeconds = 3600,
): string {
  const now = Math.floor(Date.now() / 1000);
  const header = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const payload = b64url(
    JSON.stringify({ sub: claims.sub ?? "local-tool", ...claims, iat: now, exp: now + ttlSeconds }),
  );
  const signature = createHmac("sha256", secret).update(`${header}.${payload}`).digest("base64url");
  return `${header}.${payload}.${signature}`;
}
