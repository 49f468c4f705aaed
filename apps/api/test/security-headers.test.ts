import { existsSync } from "node:fs";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { newTenant, tokenFor } from "./admin-support.ts";

const CHROMIUM = "/usr/bin/chromium";
const env = await createTestEnv();
const { app, url } = await startTestApi(env);
const admin = tokenFor(newTenant(), "admin");

let browser: Browser;
beforeAll(async () => {
  expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium`).toBe(true);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
  });
});
afterAll(async () => {
  await browser?.close();
});

/** Every console error and uncaught page error while `fn` runs (CSP violations are console errors). */
async function problemsWhile(page: Page, fn: () => Promise<void>): Promise<string[]> {
  const problems: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error" || /Content Security Policy/i.test(m.text())) problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  // Runs in the page (a string, so the DOM's types are not needed here).
  await page.addInitScript(`document.addEventListener("securitypolicyviolation", (e) =>
    console.error("CSP violation: " + e.violatedDirective + " " + e.blockedURI));`);
  await fn();
  return problems;
}

describe("pages under a Content Security Policy, in Chromium", () => {
  it("Swagger UI at /docs renders the API with no CSP violation or console error", async () => {
    const page = await browser.newPage();
    try {
      const problems = await problemsWhile(page, async () => {
        const res = await page.goto(`${url}/docs`);
        expect(res?.headers()["content-security-policy"]).toMatch(/script-src 'self'/);
        await page.getByText("Journeys API").first().waitFor({ timeout: 15_000 });
        await page.locator(".opblock").first().waitFor({ timeout: 15_000 });
      });
      expect(problems).toEqual([]);
    } finally {
      await page.close();
    }
  });

  it("the login form and bull-board at /admin/queues work with no CSP violation or console error", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    try {
      const problems = await problemsWhile(page, async () => {
        await page.goto(`${url}/admin/login`);
        await page.fill("textarea[name=token]", admin);
        const [board] = await Promise.all([
          page.waitForResponse(`${url}/admin/queues`),
          page.click("button[type=submit]"),
        ]);
        expect(board.headers()["content-security-policy"]).toMatch(/default-src 'self'/);
        expect(board.headers()["x-frame-options"]).toBe("DENY");
        for (const name of ["delays", "outbox", "maintenance"]) {
          await page.getByText(name, { exact: true }).first().waitFor({ timeout: 15_000 });
        }
      });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe("X-Content-Type-Options: nosniff and framing refused on every response", () => {
  it("on JSON answers, errors, the docs and the pages", async () => {
    const requests = [
      { method: "GET", url: "/health/live" },
      { method: "GET", url: "/docs/json" },
      { method: "GET", url: "/docs" },
      { method: "GET", url: "/admin/login" },
      { method: "GET", url: "/api/journeys" },
      { method: "GET", url: "/no/such/route" },
      { method: "POST", url: "/telegram/webhook/nobot", payload: { update_id: 1 } },
      { method: "POST", url: "/api/journeys", payload: "{", headers: { authorization: `Bearer ${admin}` } },
    ] as const;
    for (const r of requests) {
      const res = await app.inject({
        method: r.method,
        url: r.url,
        headers: { "content-type": "application/json", ...("headers" in r ? r.headers : {}) },
        ...("payload" in r ? { payload: r.payload } : {}),
      });
      expect(res.headers["x-content-type-options"], `${r.method} ${r.url}`).toBe("nosniff");
      expect(res.headers["x-frame-options"], `${r.method} ${r.url}`).toBe("DENY");
    }
  });
});
