/** Scenario 6, authentication: forged, expired, `alg: none`, other algorithms, tampered — on every route: 401. */
import fc from "fast-check";
import { b64url, type Env, hit, jwt, leaks, property } from "./env.ts";

export async function tokens(env: Env): Promise<void> {
  const { a, b } = env;
  const { stack } = env.ctx;
  const now = Math.floor(Date.now() / 1000);
  const claims = (over: object = {}) => ({
    sub: "x",
    tenant_id: a.admin.tenantId,
    role: "admin",
    iat: now,
    exp: now + 3600,
    ...over,
  });
  const valid = a.admin.token.split(".");
  const badToken = fc.oneof(
    fc.string(),
    fc.string({ unit: "binary-ascii" }),
    fc.jsonValue().map((p) => jwt({ alg: "none", typ: "JWT" }, { ...claims(), p }, null)),
    fc.constantFrom("none", "None", "NONE", "nOnE").map((alg) => jwt({ alg, typ: "JWT" }, claims(), null)),
    fc.string({ minLength: 1 }).map((secret) => jwt({ alg: "HS256", typ: "JWT" }, claims(), secret)),
    fc
      .integer({ min: 1, max: 10 ** 6 })
      .map((ago) => jwt({ alg: "HS256" }, claims({ iat: now - ago - 10, exp: now - ago }), stack.jwtSecret)),
    fc.constant(jwt({ alg: "HS512", typ: "JWT" }, claims(), stack.jwtSecret, "sha512")),
    fc.constant(jwt({ alg: "HS256" }, { sub: "x", tenant_id: a.admin.tenantId, role: "admin" }, stack.jwtSecret)),
    fc.constant(jwt({ alg: "HS256" }, claims({ role: "owner" }), stack.jwtSecret)),
    fc.constant(jwt({ alg: "HS256" }, claims({ tenant_id: "" }), stack.jwtSecret)),
    fc.constant(jwt({ alg: "HS256" }, claims({ tenant_id: { $ne: null } }), stack.jwtSecret)),
    fc.constant(`${valid[0]}.${b64url(claims({ tenant_id: b.admin.tenantId }))}.${valid[2]}`),
    fc.constant(`${b64url({ alg: "none" })}.${valid[1]}.`),
  );
  const allRoutes = [
    ["GET", "/api/bots"],
    ["POST", "/api/bots"],
    ["GET", "/api/journeys"],
    ["POST", "/api/journeys"],
    ["GET", `/api/journeys/${a.journeyId}`],
    ["PUT", `/api/journeys/${a.journeyId}`],
    ["POST", `/api/journeys/${a.journeyId}/triggers`],
    ["GET", `/api/journeys/${a.journeyId}/steps`],
    ["PUT", `/api/journeys/${a.journeyId}/steps`],
    ["GET", "/api/journeys/debug/sessions"],
    ["GET", "/admin/queues/api/queues"],
  ] as const;
  await property(
    env,
    "forged/expired/alg-none tokens on every route",
    fc.tuple(fc.constantFrom(...allRoutes), badToken, fc.boolean()),
    150,
    async ([[method, path], token, asCookie]) => {
      // A header can only carry visible ASCII; anything else goes in the cookie, URL-encoded.
      const headers: Record<string, string> =
        asCookie || !/^[\x21-\x7e]*$/.test(token)
          ? { cookie: `journeys_admin=${encodeURIComponent(token)}` }
          : { authorization: `Bearer ${token}` };
      const body = method === "GET" ? undefined : JSON.stringify({ name: "x" });
      const res = await hit(env, `${method} ${path} (bad token)`, `${stack.apiUrl}${path}`, {
        method,
        headers: { ...headers, ...(body ? { "content-type": "application/json" } : {}) },
        body,
      });
      return res.status === 401 && !leaks(env, res);
    },
  );
}
