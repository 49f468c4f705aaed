import { updates } from "@journeys/fake-telegram";
import { describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { repoFor } from "../../../test/support/fixtures.ts";
import { insertSession } from "../../../test/support/rows.ts";
import { activeJourney, client, MESSAGE, QUESTION, tenantWithBot, tokenFor, userStarts } from "./admin-support.ts";

const env = await createTestEnv();
const { app } = await startTestApi(env);
let nextUser = 6_000_000 + Math.floor(Math.random() * 1_000_000);

describe("GET /api/journeys/debug/sessions (admin only)", () => {
  it("shows the most recent sessions with journey name, status, current step and answers", async () => {
    const { tenant, bot, as } = await tenantWithBot(app, env, "admin");
    const q2 = { step_type: "question", config: { text: "Country?", answer_key: "country", validation: "country" } };
    const id = await activeJourney(as, bot.botId, "debug_me", [QUESTION, q2, MESSAGE]);
    const [first, second] = [nextUser++, nextUser++];
    await userStarts(app, bot, "debug_me", first);
    await userStarts(app, bot, "debug_me", second);
    const answer = await app.inject({
      method: "POST",
      url: `/telegram/webhook/${bot.botId}`,
      headers: { "x-telegram-bot-api-secret-token": bot.webhookSecret },
      payload: updates.textMessage(" 33 ", { userId: second }),
    });
    expect(answer.statusCode).toBe(200);
    // Someone else's sessions never show.
    const other = await tenantWithBot(app, env, "admin");
    await activeJourney(other.as, other.bot.botId, "debug_me", [QUESTION]);
    await userStarts(app, other.bot, "debug_me", nextUser++);

    const res = await as.get("/api/journeys/debug/sessions?limit=10");
    expect(res.statusCode).toBe(200);
    const { sessions } = res.json();
    expect(sessions).toHaveLength(2);
    const steps = await repoFor(env, tenant).listSteps(id);
    expect(sessions[0]).toEqual({
      id: expect.any(String),
      tenant_id: tenant,
      journey_id: id,
      journey_name: `J debug_me`,
      telegram_chat_id: second,
      telegram_user_id: second,
      current_step_id: steps[1]!.id,
      current_step_order: 2,
      current_step_type: "question",
      status: "active",
      answers: { age: 33 },
      started_at: expect.any(String),
      completed_at: null,
      last_activity_at: expect.any(String),
    });
    expect(sessions[1]).toMatchObject({ telegram_user_id: first, current_step_order: 1, answers: {} });

    const one = (await as.get("/api/journeys/debug/sessions?limit=1")).json().sessions;
    expect(one.map((s: { id: string }) => s.id)).toEqual([sessions[0].id]);
  });

  it("returns 50 sessions by default", async () => {
    const { tenant, bot, as } = await tenantWithBot(app, env, "admin");
    const journeyId = (await as.post("/api/journeys", { bot_id: bot.botId, name: "Many" })).json().id;
    for (let i = 0; i < 51; i++) await insertSession(env, { tenantId: tenant, journeyId, userId: nextUser++ });
    const res = await as.get("/api/journeys/debug/sessions");
    expect(res.statusCode).toBe(200);
    expect(res.json().sessions).toHaveLength(50);
    expect((await as.get("/api/journeys/debug/sessions?limit=500")).json().sessions).toHaveLength(51);
  });

  it("refuses a limit outside 1–500 and unknown parameters with 400", async () => {
    const as = client(app, tokenFor("t-limits", "admin"));
    for (const [query, reason] of [
      ["limit=0", /querystring\/limit must be >= 1/],
      ["limit=501", /querystring\/limit must be <= 500/],
      ["limit=ten", /querystring\/limit must be a whole number/],
      ["tenant_id=other", /querystring: unknown field "tenant_id"/],
    ] as const) {
      const res = await as.get(`/api/journeys/debug/sessions?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().message).toMatch(reason);
    }
  });
});
