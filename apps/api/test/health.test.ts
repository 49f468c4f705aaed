import { describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { tokenFor } from "./admin-support.ts";

const env = await createTestEnv();
const { app } = await startTestApi(env);
// Nothing listens on port 1: connections are refused at once.
const { app: noRedis } = await startTestApi(env, { REDIS_URL: "redis://127.0.0.1:1" });
const { app: noPostgres } = await startTestApi(env, { DATABASE_URL: "postgres://postgres@127.0.0.1:1/journeys" });

describe("health", () => {
  it("live answers 200", async () => {
    for (const a of [app, noRedis, noPostgres]) {
      const res = await a.inject({ method: "GET", url: "/health/live" });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: "ok" });
    }
  });

  it("ready answers 200 when Postgres and Redis answer", async () => {
    const res = await app.inject({ method: "GET", url: "/health/ready" });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: "ok", checks: { postgres: { status: "ok" }, redis: { status: "ok" } } });
  });

  it("ready answers 503 when Redis is unreachable", async () => {
    const res = await noRedis.inject({ method: "GET", url: "/health/ready" });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: "unavailable",
      checks: { postgres: { status: "ok" }, redis: { status: "down", error: expect.any(String) } },
    });
  });

  it("ready answers 503 when Postgres is unreachable", async () => {
    const res = await noPostgres.inject({ method: "GET", url: "/health/ready" });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toMatchObject({
      status: "unavailable",
      checks: { postgres: { status: "down", error: expect.any(String) }, redis: { status: "ok" } },
    });
  });

  it("a failing admin request answers 500 without anything internal", async () => {
    const res = await noPostgres.inject({
      method: "GET",
      url: "/api/journeys",
      headers: { authorization: `Bearer ${tokenFor("t-health")}` },
    });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: "internal_error", message: "Internal Server Error" });
  });

  it("the admin API still answers while Redis (queues, rate-limit counters) is down", async () => {
    const res = await noRedis.inject({
      method: "GET",
      url: "/api/journeys",
      headers: { authorization: `Bearer ${tokenFor("t-health")}` },
    });
    expect(res.statusCode).toBe(200);
  });
});
