import { describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { repoFor } from "../../../test/support/fixtures.ts";
import { liveSession, updateSession } from "../../../test/support/rows.ts";
import { activeJourney, type Client, DELAY, MESSAGE, QUESTION, tenantWithBot, userStarts } from "./admin-support.ts";

const env = await createTestEnv();
const { app } = await startTestApi(env);
let nextUser = 5_000_000 + Math.floor(Math.random() * 1_000_000);

async function draftJourney(as: Client, botId: string): Promise<string> {
  return (await as.post("/api/journeys", { bot_id: botId, name: "Steps" })).json().id;
}

describe("PUT and GET /api/journeys/:id/steps", () => {
  it("stores the steps in order and lists them", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const id = await draftJourney(as, bot.botId);
    const conditional = { step_type: "conditional", config: { branches: [{ when: { "==": [1, 1] }, goto: "end" }] } };
    const put = await as.put(`/api/journeys/${id}/steps`, { steps: [QUESTION, MESSAGE, DELAY, conditional] });
    expect(put.statusCode).toBe(200);
    const body = put.json();
    expect(body.journey_id).toBe(id);
    expect(body.cancelled_session_ids).toEqual([]);
    expect(body.steps.map((s: { step_order: number; step_type: string }) => [s.step_order, s.step_type])).toEqual([
      [1, "question"],
      [2, "message"],
      [3, "delay"],
      [4, "conditional"],
    ]);
    expect(Object.keys(body.steps[0]).sort()).toEqual([
      "config",
      "created_at",
      "id",
      "journey_id",
      "key",
      "step_order",
      "step_type",
    ]);
    expect(body.steps[0].config).toEqual(QUESTION.config);

    const got = await as.get(`/api/journeys/${id}/steps`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual({ journey_id: id, steps: body.steps });
  });

  it("keeps step ids stable by position and drops the tail", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const id = await draftJourney(as, bot.botId);
    const before = (await as.put(`/api/journeys/${id}/steps`, { steps: [MESSAGE, QUESTION, DELAY] })).json().steps;
    const edited = { step_type: "message", config: { text: "Edited" } };
    const after = (await as.put(`/api/journeys/${id}/steps`, { steps: [edited, QUESTION] })).json().steps;
    expect(after.map((s: { id: string }) => s.id)).toEqual([before[0].id, before[1].id]);
    expect(after[0].config).toEqual({ text: "Edited" });
    expect((await as.put(`/api/journeys/${id}/steps`, { steps: [] })).json().steps).toEqual([]);
  });

  it("refuses invalid steps with 400 and the reason, changing nothing", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const id = await draftJourney(as, bot.botId);
    await as.put(`/api/journeys/${id}/steps`, { steps: [MESSAGE] });
    const q = (config: object) => ({ steps: [MESSAGE, { step_type: "question", config }] });
    const delay = (config: object) => ({ steps: [{ step_type: "delay", config }] });
    const cases: [unknown, RegExp][] = [
      [{ steps: [{ step_type: "message", config: {} }] }, /steps\[0\]: config.text must be a non-empty string/],
      [
        { steps: [{ step_type: "message", config: { text: "x".repeat(4097) } }] },
        /4097 characters; Telegram allows at most 4096/,
      ],
      [q({ text: "Age?", validation: "number" }), /steps\[1\]: config.answer_key must match/],
      [
        q({ text: "Age?", answer_key: "age", validation: "telepathy" }),
        /config.validation must be one of number, text, country, money, choice, phone, email/,
      ],
      [q({ answer_key: "age", validation: "number" }), /steps\[1\]: config.text must be a non-empty string/],
      [delay({ min_minutes: 10, max_minutes: 5 }), /min_minutes \(10\) must not exceed max_minutes \(5\)/],
      [delay({ min_minutes: -1, max_minutes: 5 }), /config.min_minutes must be a non-negative number/],
      [delay({ min_minutes: 1, max_minutes: 50_000 }), /at most 43200 \(30 days\)/],
      [delay({ min_minutes: "1", max_minutes: 5 }), /config.min_minutes must be a non-negative number/],
      [
        { steps: [{ step_type: "wait", config: {} }] },
        /step_type must be one of: message, question, delay, conditional/,
      ],
      [{ steps: [{ step_type: "message", config: { text: "x" }, order: 1 }] }, /unknown field "order"/],
      [{ steps: [{ step_type: "message" }] }, /required properties config/],
      [{ steps: [{ step_type: "message", config: "hi" }] }, /config must be object/],
      [{ steps: "all of them" }, /body\/steps must be array/],
      [{ steps: Array.from({ length: 201 }, () => MESSAGE) }, /body\/steps must not have more than 200 items/],
      [{ steps: [], replace: true }, /unknown field "replace"/],
      ['{"steps": [', /JSON/],
    ];
    for (const [body, reason] of cases) {
      const res = await as.put(`/api/journeys/${id}/steps`, body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 200)).toBe(400);
      expect(res.json().message).toMatch(reason);
    }
    const steps = (await as.get(`/api/journeys/${id}/steps`)).json().steps;
    expect(steps.map((s: { config: unknown }) => s.config)).toEqual([MESSAGE.config]);
  });

  it("cancels a session standing on a removed or retyped step, and keeps one on a kept step", async () => {
    const { tenant, bot, as } = await tenantWithBot(app, env);
    const q2 = { step_type: "question", config: { text: "Country?", answer_key: "country", validation: "country" } };
    const id = await activeJourney(as, bot.botId, "steps_live", [QUESTION, q2, MESSAGE]);
    const [onKept, onRemoved] = [nextUser++, nextUser++];
    await userStarts(app, bot, "steps_live", onKept);
    await userStarts(app, bot, "steps_live", onRemoved);
    const repo = repoFor(env, tenant);
    const [second] = (await repo.listSteps(id)).filter((s) => s.stepOrder === 2);
    const live = await liveSession(env, id, onRemoved);
    await updateSession(env, live!.id, { currentStepId: second!.id });

    // Step 1 changes text only (kept); step 2 disappears.
    const reworded = { step_type: "question", config: { ...QUESTION.config, text: "How old are you?" } };
    const res = await as.put(`/api/journeys/${id}/steps`, { steps: [reworded] });
    expect(res.statusCode).toBe(200);
    expect(res.json().cancelled_session_ids).toEqual([live!.id]);
    expect((await repo.sessions.get(live!.id)).status).toBe("cancelled");
    expect((await liveSession(env, id, onKept))?.status).toBe("active");

    // Retyping the step a session stands on cancels it too.
    const kept = await liveSession(env, id, onKept);
    const retyped = await as.put(`/api/journeys/${id}/steps`, { steps: [MESSAGE] });
    expect(retyped.json().cancelled_session_ids).toEqual([kept!.id]);
  });
});

describe("PUT …/steps: the flow language's write-time checks", () => {
  const ask = (key: string, answer: string) => ({
    step_type: "question",
    key,
    config: { text: `${answer}?`, answer_key: answer, validation: "number" },
  });

  it("stores step keys, answers 400 naming the step for a bad goto, and lists answers set on some paths only", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const id = await draftJourney(as, bot.botId);
    const jump = (goto: string) => ({
      step_type: "conditional",
      config: { branches: [{ when: { "<": [{ var: "answers.age" }, 18] }, goto }] },
    });
    const bad = await as.put(`/api/journeys/${id}/steps`, { steps: [ask("age", "age"), jump("nowhere")] });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().message).toMatch(/^steps\[1\]\.config\.branches\[0\]\.goto: .*nowhere/);

    const unknownAnswer = await as.put(`/api/journeys/${id}/steps`, {
      steps: [{ step_type: "message", config: { text: "Hi {{ answers.nope }}" } }],
    });
    expect(unknownAnswer.statusCode).toBe(400);
    expect(unknownAnswer.json().message).toMatch(/^steps\[0\]\.config\.text: .*nope/);

    const ok = await as.put(`/api/journeys/${id}/steps`, {
      steps: [
        ask("age", "age"),
        jump("minor"),
        ask("deposit", "deposit"),
        { step_type: "message", key: "minor", config: { text: "Deposit {{ answers.deposit }}" } },
      ],
    });
    expect(ok.statusCode, ok.body).toBe(200);
    const body = ok.json();
    expect(body.steps.map((s: { key: string | null }) => s.key)).toEqual(["age", null, "deposit", "minor"]);
    expect(body.warnings).toEqual([expect.objectContaining({ step_index: 3, field: "config.text" })]);
  });

  it("refuses a loop with no question or delay on it", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const id = await draftJourney(as, bot.botId);
    const spin = await as.put(`/api/journeys/${id}/steps`, {
      steps: [
        { step_type: "message", key: "top", config: { text: "again" } },
        { step_type: "conditional", config: { else: "top" } },
      ],
    });
    expect(spin.statusCode).toBe(400);
    expect(spin.json().message).toMatch(/steps\[\d\]/);
  });
});
