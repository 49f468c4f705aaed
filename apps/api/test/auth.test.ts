import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv, TEST_JWT_SECRET } from "../../../test/support/context.ts";
import { algNone, type Call, call, claims, expiredToken, hs256, newTenant, tokenFor } from "./admin-support.ts";

const env = await createTestEnv();
const { app } = await startTestApi(env);
const ADMIN_HOST = "admin.journeys.test";
const { app: hosted } = await startTestApi(env, { ADMIN_HOSTS: `${ADMIN_HOST},ops.journeys.test` });

const ID = "00000000-0000-4000-8000-000000000000";
/** Every admin API route, with a body that would pass validation. */
const ROUTES: Call[] = [
  { method: "POST", url: "/api/bots", body: { token: "123456:ABCdefGHIjklMNOpqr" } },
  { method: "GET", url: "/api/bots" },
  { method: "GET", url: "/api/journeys" },
  { method: "POST", url: "/api/journeys", body: { bot_id: "b", name: "n" } },
  { method: "GET", url: `/api/journeys/${ID}` },
  { method: "PUT", url: `/api/journeys/${ID}`, body: { name: "n" } },
  { method: "POST", url: `/api/journeys/${ID}/triggers`, body: { trigger_type: "manual", trigger_config: {} } },
  { method: "GET", url: `/api/journeys/${ID}/steps` },
  { method: "PUT", url: `/api/journeys/${ID}/steps`, body: { steps: [] } },
  { method: "GET", url: "/api/journeys/debug/sessions" },
];

/** HS512 with the right secret: a valid signature, but not the pinned algorithm. */
function hs512(payload: object): string {
  const head = `${Buffer.from(JSON.stringify({ alg: "HS512", typ: "JWT" })).toString("base64url")}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}`;
  return `${head}.${createHmac("sha512", TEST_JWT_SECRET).update(head).digest("base64url")}`;
}

const BAD_TOKENS: Record<string, string | undefined> = {
  "no token": undefined,
  "bad signature": hs256(claims("t1", "admin"), "another-secret-that-is-long-enough-0123456789"),
  expired: expiredToken("t1"),
  "alg none": algNone(claims("t1", "admin")),
  "alg HS512": hs512(claims("t1", "admin")),
  "garbage token": "not.a.jwt",
  "no exp claim": hs256({ sub: "u", tenant_id: "t1", role: "admin", iat: 1 }),
  "empty tenant_id": tokenFor("", "admin"),
  "tenant_id not a string": hs256(claims("t1", "admin", { tenant_id: 42 })),
  "no sub": hs256(claims("t1", "admin", { sub: undefined })),
  "unknown role": hs256(claims("t1", "owner")),
};

describe("authentication on every admin API route", () => {
  for (const [why, token] of Object.entries(BAD_TOKENS)) {
    it(`answers 401 with a reason for ${why}`, async () => {
      for (const route of ROUTES) {
        const res = await call(app, { ...route, token });
        expect(res.statusCode, `${route.method} ${route.url}`).toBe(401);
        const body = res.json();
        expect(body.error).toBe("unauthorized");
        expect(body.message).toMatch(/token|Authorization/);
      }
    });
  }

  it("says which problem it is: missing header, expired, invalid", async () => {
    const get = (token?: string, headers?: Record<string, string>) =>
      call(app, { method: "GET", url: "/api/journeys", token, headers });
    expect((await get()).json().message).toMatch(/missing Authorization: Bearer/);
    expect((await get(undefined, { authorization: "Basic dTpw" })).json().message).toMatch(/missing Authorization/);
    expect((await get(expiredToken("t1"))).json().message).toBe("token expired");
    expect((await get(algNone(claims("t1", "admin")))).json().message).toMatch(/invalid/);
    expect((await get(hs256(claims("t1", "owner")))).json().message).toMatch(/role must be one of admin, member/);
  });

  it("accepts a valid token for both roles", async () => {
    for (const role of ["admin", "member"] as const) {
      const res = await call(app, { method: "GET", url: "/api/journeys", token: tokenFor(newTenant(), role) });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ journeys: [], next_offset: null });
    }
  });
});

describe("admin-only routes", () => {
  const debug = (a = app, token?: string, host?: string) =>
    call(a, { method: "GET", url: "/api/journeys/debug/sessions", token, headers: host ? { host } : {} });
  const board = (a = app, token?: string, host?: string) =>
    call(a, { method: "GET", url: "/admin/queues/api/queues", token, headers: host ? { host } : {} });

  it("refuses a member with 403 and admits an admin", async () => {
    const tenant = newTenant();
    for (const send of [debug, board]) {
      const member = await send(app, tokenFor(tenant, "member"));
      expect(member.statusCode).toBe(403);
      expect(member.json()).toMatchObject({ error: "forbidden", message: expect.stringMatching(/role "member"/) });
      expect((await send(app, tokenFor(tenant, "admin"))).statusCode).toBe(200);
    }
  });

  it("with ADMIN_HOSTS set, admits an admin only on a listed host (port and case ignored)", async () => {
    const admin = tokenFor(newTenant(), "admin");
    for (const send of [debug, board]) {
      expect((await send(hosted, admin, `${ADMIN_HOST}:8443`)).statusCode).toBe(200);
      expect((await send(hosted, admin, "OPS.Journeys.TEST")).statusCode).toBe(200);
      const elsewhere = await send(hosted, admin, "api.journeys.test");
      expect(elsewhere.statusCode).toBe(403);
      expect(elsewhere.json().message).toContain(ADMIN_HOST);
      expect((await send(hosted, admin, "localhost:80")).statusCode).toBe(403);
      expect((await send(hosted, tokenFor(newTenant(), "member"), ADMIN_HOST)).statusCode).toBe(403);
      expect((await send(hosted, undefined, ADMIN_HOST)).statusCode).toBe(401);
    }
  });

  it("does not restrict the host of routes that are not admin-only", async () => {
    const res = await call(hosted, {
      method: "GET",
      url: "/api/journeys",
      token: tokenFor(newTenant(), "member"),
      headers: { host: "api.journeys.test" },
    });
    expect(res.statusCode).toBe(200);
  });
});
