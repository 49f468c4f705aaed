import { describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { MESSAGE, tenantWithBot } from "./admin-support.ts";

const env = await createTestEnv();
const { app } = await startTestApi(env);
const REASON =
  "a journey needs at least one step to be active: create it as draft, PUT its steps, then set status active";

describe("a journey is active only with steps", () => {
  it("refuses to create a journey as active (it has no steps yet), with the reason", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const res = await as.post("/api/journeys", { bot_id: bot.botId, name: "empty", status: "active" });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: "validation", message: REASON });
    expect((await as.get("/api/journeys")).json().journeys).toEqual([]);
  });

  it("refuses to activate a journey without steps, and activates it once it has some", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const id = (await as.post("/api/journeys", { bot_id: bot.botId, name: "later" })).json().id;
    const refused = await as.put(`/api/journeys/${id}`, { status: "active" });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toEqual({ error: "validation", message: REASON });
    expect((await as.get(`/api/journeys/${id}`)).json().status).toBe("draft");
    expect((await as.put(`/api/journeys/${id}/steps`, { steps: [MESSAGE] })).statusCode).toBe(200);
    expect((await as.put(`/api/journeys/${id}`, { status: "active" })).json().status).toBe("active");
    // Other changes to an active journey need no re-check.
    expect((await as.put(`/api/journeys/${id}`, { name: "renamed" })).statusCode).toBe(200);
  });

  it("refuses to empty an active journey's steps; a paused one may be emptied", async () => {
    const { bot, as } = await tenantWithBot(app, env);
    const id = (await as.post("/api/journeys", { bot_id: bot.botId, name: "j" })).json().id;
    await as.put(`/api/journeys/${id}/steps`, { steps: [MESSAGE] });
    await as.put(`/api/journeys/${id}`, { status: "active" });
    const emptied = await as.put(`/api/journeys/${id}/steps`, { steps: [] });
    expect(emptied.statusCode).toBe(400);
    expect(emptied.json().message).toMatch(/active journey needs at least one step/);
    expect((await as.get(`/api/journeys/${id}/steps`)).json().steps).toHaveLength(1);
    await as.put(`/api/journeys/${id}`, { status: "paused" });
    expect((await as.put(`/api/journeys/${id}/steps`, { steps: [] })).statusCode).toBe(200);
    expect((await as.put(`/api/journeys/${id}`, { status: "active" })).statusCode).toBe(400);
  });
});
