import { describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { MAX_JSON_DEPTH } from "../src/plugins/json-body.ts";
import { call, createJourney, tenantWithBot, tokenFor } from "./admin-support.ts";

const env = await createTestEnv();
const { app } = await startTestApi(env);
const { bot, as, tenant } = await tenantWithBot(app, env);
const journey = await createJourney(as, bot.botId);
const token = tokenFor(tenant);

const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
const deepArray = (depth: number) => `${"[".repeat(depth)}${"]".repeat(depth)}`;

describe("JSON nesting depth", () => {
  it("refuses a 5,000-deep step config or trigger config with 400 (was a 500)", async () => {
    const steps = await as.put(
      `/api/journeys/${journey.id}/steps`,
      `{"steps":[{"step_type":"conditional","config":${nested(5000)}}]}`,
    );
    expect(steps.statusCode).toBe(400);
    expect(steps.json()).toEqual({
      error: "bad_request",
      message: `body nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`,
    });
    const trigger = await as.post(
      `/api/journeys/${journey.id}/triggers`,
      `{"trigger_type":"manual","trigger_config":{"x":${deepArray(5000)}}}`,
    );
    expect(trigger.statusCode).toBe(400);
    expect(trigger.json().message).toMatch(/nests deeper/);
  });

  it("counts only brackets outside strings, and accepts nesting up to the limit", async () => {
    // The steps body itself takes 3 levels ({ steps: [ { config: … } ] }).
    const ok = await as.put(
      `/api/journeys/${journey.id}/steps`,
      `{"steps":[{"step_type":"message","config":{"text":"${"[{".repeat(500)}","n":${nested(MAX_JSON_DEPTH - 4)}}}]}`,
    );
    expect(ok.statusCode, ok.body).toBe(200);
    const over = await as.put(
      `/api/journeys/${journey.id}/steps`,
      `{"steps":[{"step_type":"message","config":{"text":"x","n":${nested(MAX_JSON_DEPTH - 3)}}}]}`,
    );
    expect(over.statusCode).toBe(400);
  });

  it("refuses a deep webhook body with 400 too", async () => {
    const res = await app.inject({
      method: "POST",
      url: `/telegram/webhook/${bot.botId}`,
      headers: { "x-telegram-bot-api-secret-token": bot.webhookSecret, "content-type": "application/json" },
      payload: `{"update_id":1,"message":${nested(20_000)}}`,
    });
    expect(res.statusCode).toBe(400);
  });
});

describe("unpaired UTF-16 surrogates", () => {
  const lone = "\\ud800";
  it("are refused alike in a journey name, a description, a step text and a trigger config, naming the field", async () => {
    const cases: [string, "POST" | "PUT", string, string][] = [
      ["body/name", "POST", "/api/journeys", `{"bot_id":"${bot.botId}","name":"A ${lone} B"}`],
      ["body/description", "PUT", `/api/journeys/${journey.id}`, `{"description":"x${lone}"}`],
      [
        "body/steps/0/config/text",
        "PUT",
        `/api/journeys/${journey.id}/steps`,
        `{"steps":[{"step_type":"message","config":{"text":"Hi ${lone}"}}]}`,
      ],
      [
        "body/trigger_config/start_param",
        "POST",
        `/api/journeys/${journey.id}/triggers`,
        `{"trigger_type":"telegram_deeplink","trigger_config":{"start_param":"a${lone}"}}`,
      ],
      [
        `body/steps/0/config/\ud800`,
        "PUT",
        `/api/journeys/${journey.id}/steps`,
        `{"steps":[{"step_type":"conditional","config":{"${lone}":1}}]}`,
      ],
    ];
    for (const [field, method, url, body] of cases) {
      const res = await call(app, { method, url, token, body });
      expect(res.statusCode, `${method} ${url}`).toBe(400);
      expect(res.json().message, `${method} ${url}`).toBe(
        `${field} contains an unpaired UTF-16 surrogate, which cannot be stored`,
      );
    }
    // Nothing was stored: the name is not silently "A \uFFFD B".
    const list = (await as.get("/api/journeys")).json().journeys as { name: string }[];
    expect(list.map((j) => j.name)).toEqual([journey.name]);
  });

  it("accepts paired surrogates (emoji), as JSON escapes or raw", async () => {
    const res = await as.post("/api/journeys", `{"bot_id":"${bot.botId}","name":"Hi \\ud83d\\ude00 😀"}`);
    expect(res.statusCode).toBe(201);
    expect(res.json().name).toBe("Hi 😀 😀");
  });

  it("refuses a body that is not valid UTF-8 instead of patching it", async () => {
    const res = await app.inject({
      method: "POST",
      url: "/api/journeys",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      payload: Buffer.concat([
        Buffer.from(`{"bot_id":"${bot.botId}","name":"A `),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: "bad_request", message: "body is not valid UTF-8" });
  });
});
