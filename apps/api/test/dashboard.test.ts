import { existsSync } from "node:fs";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { expiredToken, newTenant, tokenFor } from "./admin-support.ts";

const CHROMIUM = "/usr/bin/chromium";
const env = await createTestEnv();
const { url, deps } = await startTestApi(env);
const admin = tokenFor(newTenant(), "admin");
const member = tokenFor(newTenant(), "member");

let browser: Browser;
beforeAll(async () => {
  // No skipping: a machine without Chromium fails here, loudly (Debian/Ubuntu package: chromium).
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
});
afterAll(async () => {
  await browser?.close();
});

/** A plain fetch, no cookie jar; the body is read so no socket stays busy (the server's close waits on those). */
async function get(path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${url}${path}`, { headers, redirect: "manual" });
  return { status: res.status, location: res.headers.get("location"), body: await res.text() };
}

/** A static asset the dashboard page loads (read from the page an admin gets). */
async function assetPath(): Promise<string> {
  const html = (await get("/admin/queues", { authorization: `Bearer ${admin}` })).body;
  // Asset URLs are relative to <base href="/admin/queues/">.
  const m = /(?:src|href)="((?:\/admin\/queues\/)?static\/[^"]+\.(?:js|css))"/.exec(html);
  if (!m) throw new Error(`no static asset in the dashboard page: ${html.slice(0, 500)}`);
  return new URL(m[1]!, `${url}/admin/queues/`).pathname;
}

describe("queue dashboard at /admin/queues", () => {
  it("refuses the page, its API and its assets without an admin cookie or Bearer", async () => {
    const page = await get("/admin/queues", { accept: "text/html" });
    expect(page.status).toBe(303);
    expect(page.location).toBe("/admin/login");
    const api = await get("/admin/queues/api/queues");
    expect(api.status).toBe(401);
    expect(JSON.parse(api.body)).toMatchObject({ error: "unauthorized" });
    const asset = await assetPath();
    expect((await get(asset)).status).toBe(401);
    expect((await get(asset, { cookie: "journeys_admin=forged.token.value" })).status).toBe(401);
    expect((await get(asset, { cookie: `journeys_admin=${"A".repeat(43)}` })).status).toBe(401);
    // The cookie is a session id, never a bearer token: even a valid admin JWT there is refused.
    expect((await get(asset, { cookie: `journeys_admin=${admin}` })).status).toBe(401);
    expect((await get("/admin/queues/api/queues", { authorization: `Bearer ${member}` })).status).toBe(403);
    expect((await get(asset, { authorization: `Bearer ${expiredToken("t1")}` })).status).toBe(401);
    expect((await get(asset, { authorization: `Bearer ${admin}` })).status).toBe(200);
  });

  it("opens a session only for a login posted from this site (Origin), never for a cross-site or Origin-less post", async () => {
    const login = (headers: Record<string, string>) =>
      fetch(`${url}/admin/login`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
        body: new URLSearchParams({ token: admin }),
        redirect: "manual",
      });
    for (const origin of ["http://evil.example", "null", `${url}.evil.example`]) {
      const res = await login({ origin });
      expect(res.status, origin).toBe(403);
      expect(await res.text()).toMatch(/Origin is missing or another site/);
      expect(res.headers.get("set-cookie"), origin).toBeNull();
    }
    const none = await login({});
    expect(none.status).toBe(403);
    await none.text();
    const own = await login({ origin: url });
    expect(own.status).toBe(303);
    const cookie = own.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^journeys_admin=[A-Za-z0-9_-]{43};/);
    const out = await fetch(`${url}/admin/logout`, {
      method: "POST",
      headers: { cookie: cookie.split(";")[0]! },
      redirect: "manual",
    });
    expect(out.status).toBe(303);
  });

  it("a browser logs in through the form and sees the product's queues", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      await page.goto(`${url}/admin/queues`);
      expect(new URL(page.url()).pathname).toBe("/admin/login");

      // A member's token and an expired token are refused on the form, with the reason.
      for (const [token, status, reason] of [
        [member, 403, /role "member" may not use admin-only routes/],
        [expiredToken("t1"), 401, /token expired/],
      ] as const) {
        await page.fill("textarea[name=token]", token);
        const [answer] = await Promise.all([
          page.waitForResponse(`${url}/admin/login`),
          page.click("button[type=submit]"),
        ]);
        expect(answer.status()).toBe(status);
        await expect.poll(() => page.textContent("[role=alert]")).toMatch(reason);
      }
      expect(await context.cookies()).toEqual([]);

      await page.fill("textarea[name=token]", admin);
      await Promise.all([page.waitForURL(`${url}/admin/queues`), page.click("button[type=submit]")]);
      const [cookie] = await context.cookies();
      expect(cookie).toMatchObject({ name: "journeys_admin", path: "/admin", httpOnly: true });
      expect(cookie?.sameSite).toBe("Strict");
      // Only an opaque id: the token stays server-side, in Redis under QUEUE_PREFIX.
      expect(cookie?.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
      const sessionKeys = () => deps.redis.keys(`${env.config.queuePrefix}:dashboard-session:*`);
      expect(await sessionKeys()).toHaveLength(1);
      const asCookie = { cookie: `journeys_admin=${cookie?.value}` };
      expect((await get("/admin/queues/api/queues", asCookie)).status).toBe(200);
      for (const name of ["delays", "outbox", "maintenance"]) {
        await page.getByText(name, { exact: true }).first().waitFor({ timeout: 15_000 });
      }

      // Logging out clears the cookie: the page sends the browser back to the form.
      const status = await page.evaluate(async () => (await fetch("/admin/logout", { method: "POST" })).status);
      expect(status).toBe(200); // fetch followed the 303 to the login form
      expect(await context.cookies()).toEqual([]);
      // Logout revoked the session itself: the old cookie, replayed, opens nothing.
      expect(await sessionKeys()).toHaveLength(0);
      expect((await get("/admin/queues/api/queues", asCookie)).status).toBe(401);
      await page.goto(`${url}/admin/queues`);
      expect(new URL(page.url()).pathname).toBe("/admin/login");
    } finally {
      await context.close();
    }
  });
});
