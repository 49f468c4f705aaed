import { describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { client, newTenant, tokenFor } from "./admin-support.ts";

const env = await createTestEnv();
const { app } = await startTestApi(env);
const LIMIT = 300;

describe("rate limits", () => {
  it("limits the admin API per tenant: the request after the budget answers 429", async () => {
    const as = client(app, tokenFor(newTenant()));
    // An id that is not a uuid is answered without touching Postgres: cheap requests.
    const first = await as.get("/api/journeys/not-a-uuid");
    expect(first.statusCode).toBe(404);
    expect(first.headers["x-ratelimit-limit"]).toBe(String(LIMIT));
    for (let i = 1; i < LIMIT; i++) expect((await as.get("/api/journeys/not-a-uuid")).statusCode).toBe(404);
    const over = await as.get("/api/journeys/not-a-uuid");
    expect(over.statusCode).toBe(429);
    expect(over.json()).toEqual({ error: "rate_limited", message: expect.stringMatching(/Rate limit exceeded/) });
    expect(Number(over.headers["retry-after"])).toBeGreaterThan(0);
    // Another tenant has its own budget.
    expect((await client(app, tokenFor(newTenant())).get("/api/journeys/not-a-uuid")).statusCode).toBe(404);
  });

  it("never limits the health routes; the admin budget does not apply to the webhook", async () => {
    // No Redis limiter runs there: no rate-limit headers, and no 429 past the admin budget (the
    // webhook's own, in-process budgets are tested in rate-limit-keys.test.ts).
    for (let i = 0; i < LIMIT + 1; i++) {
      const live = await app.inject({ method: "GET", url: "/health/live" });
      expect(live.statusCode).toBe(200);
      expect(live.headers["x-ratelimit-limit"]).toBeUndefined();
    }
    for (let i = 0; i < 20; i++) {
      const hook = await app.inject({
        method: "POST",
        url: "/telegram/webhook/no_such_bot",
        headers: { "x-telegram-bot-api-secret-token": "x" },
        payload: { update_id: i },
      });
      expect(hook.statusCode).toBe(404);
      expect(hook.headers["x-ratelimit-limit"]).toBeUndefined();
    }
  });
});
