import { describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { tenantWithBot } from "./admin-support.ts";

const env = await createTestEnv();
const { app } = await startTestApi(env);
const { bot, as } = await tenantWithBot(app, env, "admin");
const ids: string[] = [];
for (let i = 0; i < 7; i++)
  ids.unshift((await as.post("/api/journeys", { bot_id: bot.botId, name: `j${i}` })).json().id);

describe("GET /api/journeys pages", () => {
  it("pages through every journey, newest first, with next_offset", async () => {
    const seen: string[] = [];
    let offset: number | null = 0;
    const pages: number[] = [];
    while (offset !== null) {
      const res = await as.get(`/api/journeys?limit=3&offset=${offset}`);
      expect(res.statusCode).toBe(200);
      const body = res.json();
      pages.push(body.journeys.length);
      seen.push(...body.journeys.map((j: { id: string }) => j.id));
      offset = body.next_offset;
    }
    expect(pages).toEqual([3, 3, 1]);
    expect(seen).toEqual(ids);
  });

  it("defaults to the first 50", async () => {
    const body = (await as.get("/api/journeys")).json();
    expect(body.journeys.map((j: { id: string }) => j.id)).toEqual(ids);
    expect(body.next_offset).toBeNull();
  });

  it("honours limit (it was ignored)", async () => {
    const body = (await as.get("/api/journeys?limit=2")).json();
    expect(body.journeys).toHaveLength(2);
    expect(body.next_offset).toBe(2);
  });
});

describe("integer query parameters are strict", () => {
  const bad = ["1.5", "true", "0x2", "1e2", " 2", "-1", "", "2abc", "99999999999"];
  for (const url of ["/api/journeys?limit=", "/api/journeys?offset=", "/api/journeys/debug/sessions?limit="]) {
    it(`${url}… takes only decimal digits in range`, async () => {
      for (const value of bad) {
        const res = await as.get(`${url}${encodeURIComponent(value)}`);
        expect(res.statusCode, `${url}${value}`).toBe(400);
        expect(res.json().message, value).toMatch(/querystring\/(limit|offset)/);
      }
      expect((await as.get(`${url}2`)).statusCode).toBe(200);
    });
  }
  it("limit 0 and limits past the maximum are refused", async () => {
    expect((await as.get("/api/journeys?limit=0")).statusCode).toBe(400);
    expect((await as.get("/api/journeys?limit=201")).statusCode).toBe(400);
    expect((await as.get("/api/journeys/debug/sessions?limit=501")).statusCode).toBe(400);
  });
});
