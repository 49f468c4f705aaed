import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../packages/journeys/src/config.ts";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { call, newTenant, tokenFor } from "./admin-support.ts";

const env = await createTestEnv();
const ADMIN_HOST = "admin.local";
// app.inject connects from 127.0.0.1: the first app trusts nobody, the second trusts loopback.
const { app: direct } = await startTestApi(env, { ADMIN_HOSTS: ADMIN_HOST });
const { app: proxied } = await startTestApi(env, { ADMIN_HOSTS: ADMIN_HOST, TRUSTED_PROXIES: "127.0.0.1/32" });

const admin = tokenFor(newTenant(), "admin");
const ADMIN_ROUTES = ["/api/journeys/debug/sessions", "/admin/queues/api/queues"];

describe("ADMIN_HOSTS and forwarded headers (TRUSTED_PROXIES)", () => {
  it("without TRUSTED_PROXIES the raw Host decides: X-Forwarded-Host cannot open admin routes", async () => {
    for (const url of ADMIN_ROUTES) {
      for (const forwarded of [ADMIN_HOST, `evil, ${ADMIN_HOST}`, `${ADMIN_HOST}:443`, "ADMIN.LOCAL"]) {
        const res = await call(direct, {
          method: "GET",
          url,
          token: admin,
          headers: { host: "api.public.test", "x-forwarded-host": forwarded },
        });
        expect(res.statusCode, `${url} X-Forwarded-Host: ${forwarded}`).toBe(403);
      }
      const onAdminHost = await call(direct, { method: "GET", url, token: admin, headers: { host: ADMIN_HOST } });
      expect(onAdminHost.statusCode, url).toBe(200);
    }
    // The login form too: it verifies the token against the same host rule.
    const login = await call(direct, {
      method: "POST",
      url: "/admin/login",
      headers: { host: "api.public.test", "x-forwarded-host": ADMIN_HOST, origin: "http://api.public.test" },
      body: { token: admin },
    });
    expect(login.statusCode).toBe(403);
  });

  it("behind a trusted proxy the proxy's X-Forwarded-Host (its last entry) decides", async () => {
    for (const url of ADMIN_ROUTES) {
      const via = (forwarded: string) =>
        call(proxied, {
          method: "GET",
          url,
          token: admin,
          headers: { host: "10.0.0.5", "x-forwarded-host": forwarded },
        });
      expect((await via(ADMIN_HOST)).statusCode, url).toBe(200);
      expect((await via(`evil, ${ADMIN_HOST}`)).statusCode, url).toBe(200);
      expect((await via(`${ADMIN_HOST}, evil`)).statusCode, url).toBe(403);
      expect((await via("api.public.test")).statusCode, url).toBe(403);
    }
  });
});

describe("TRUSTED_PROXIES setting", () => {
  const base = { JWT_SECRET: "x".repeat(32), BOT_TOKEN_ENCRYPTION_KEY: "00".repeat(32) };
  it("is empty by default", () => {
    expect(loadConfig(base).trustedProxies).toEqual([]);
  });
  it("takes IPs, CIDRs and proxy-addr's names", () => {
    const cfg = loadConfig({ ...base, TRUSTED_PROXIES: " 10.0.0.1, 10.1.0.0/16,::1, fd00::/8, loopback " });
    expect(cfg.trustedProxies).toEqual(["10.0.0.1", "10.1.0.0/16", "::1", "fd00::/8", "loopback"]);
  });
  it("refuses anything else, naming it", () => {
    for (const bad of ["true", "*", "10.0.0.0/33", "example.com", "10.0.0.1/8/1", "::1/129"]) {
      expect(() => loadConfig({ ...base, TRUSTED_PROXIES: bad }), bad).toThrow(/TRUSTED_PROXIES/);
    }
  });
});
