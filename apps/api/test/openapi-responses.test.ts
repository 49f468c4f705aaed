/**
 * Every operation of the OpenAPI document is called at least once (successes and the usual
 * refusals), and every answer must be documented for its operation — status and content type —
 * and, when JSON, valid against the documented schema (Ajv).
 */
import { startFakeTelegram } from "@journeys/fake-telegram";
import { Ajv } from "ajv";
import addFormats from "ajv-formats";
import { afterAll, describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { addBot } from "../../../test/support/fixtures.ts";
import { MESSAGE, newTenant, tokenFor } from "./admin-support.ts";

const env = await createTestEnv();
const fake = await startFakeTelegram();
afterAll(() => fake.close());
const { app, url } = await startTestApi(env, { TELEGRAM_API_ROOT: fake.apiRoot });
type Json = Record<string, unknown>;
const doc = (await app.inject({ method: "GET", url: "/docs/json" })).json() as Json & {
  paths: Record<string, Record<string, Json & { responses: Record<string, Json> }>>;
  components: { schemas: Record<string, Json> };
};

/** Local $refs replaced by what they name, so each schema compiles on its own. */
function inline(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(inline);
  if (!schema || typeof schema !== "object") return schema;
  const ref = (schema as Json).$ref;
  if (typeof ref === "string" && ref.startsWith("#/components/schemas/")) {
    return inline(doc.components.schemas[ref.slice("#/components/schemas/".length)]);
  }
  return Object.fromEntries(Object.entries(schema).map(([k, v]) => [k, inline(v)]));
}

const ajv = new Ajv({ strict: false, allErrors: true });
addFormats.default(ajv);

const tenant = newTenant();
const member = tokenFor(tenant);
const admin = tokenFor(tenant, "admin");
const exercised = new Set<string>();
const problems: string[] = [];

/** Call, then check the answer against the document's operation `op` ("METHOD /template"). */
async function check(op: string, req: { method: string; url: string; token?: string; body?: unknown; headers?: Json }) {
  const [method, template] = op.split(" ") as [string, string];
  const headers: Record<string, string> = { ...(req.headers as Record<string, string>) };
  if (req.token) headers.authorization = `Bearer ${req.token}`;
  const res = await app.inject({
    method: req.method as "GET",
    url: req.url,
    headers,
    ...(req.body === undefined ? {} : { payload: req.body as string }),
  });
  exercised.add(op);
  const operation = doc.paths[template]?.[method.toLowerCase()];
  if (!operation) {
    problems.push(`${op}: not in the document`);
    return res;
  }
  const documented = operation.responses[String(res.statusCode)];
  if (!documented) {
    problems.push(`${op}: status ${res.statusCode} not documented`);
    return res;
  }
  const content = documented.content as Record<string, { schema?: Json }> | undefined;
  const type = String(res.headers["content-type"] ?? "").split(";")[0]!;
  if (!content) {
    if (res.body !== "") problems.push(`${op} ${res.statusCode}: a body where none is documented`);
    return res;
  }
  if (!content[type]) {
    problems.push(`${op} ${res.statusCode}: ${type} not documented`);
    return res;
  }
  const schema = content[type]?.schema;
  if (type === "application/json" && schema) {
    const validate = ajv.compile(inline(schema) as Json);
    if (!validate(res.json())) {
      problems.push(`${op} ${res.statusCode}: ${ajv.errorsText(validate.errors)} in ${res.body.slice(0, 200)}`);
    }
  }
  return res;
}

describe("every operation's answers match the OpenAPI document", () => {
  it("calls each operation and validates what comes back", async () => {
    const botToken = `${660_000_000 + Math.floor(Math.random() * 1e6)}:ABCdefGHIjklMNOpqr`;
    const bot = (
      await check("POST /api/bots", { method: "POST", url: "/api/bots", token: member, body: { token: botToken } })
    ).json();
    await check("POST /api/bots", { method: "POST", url: "/api/bots", token: member, body: { token: "x" } });
    await check("GET /api/bots", { method: "GET", url: "/api/bots", token: member });
    await check("GET /api/bots", { method: "GET", url: "/api/bots" });
    const botUrl = `/api/bots/${bot.bot_id}`;
    await check("GET /api/bots/{botId}", { method: "GET", url: botUrl, token: member });
    await check("GET /api/bots/{botId}", { method: "GET", url: "/api/bots/nobot", token: member });
    await check("PATCH /api/bots/{botId}", {
      method: "PATCH",
      url: botUrl,
      token: member,
      body: { welcome_text: "Hi!", help_text: null },
    });
    await check("PATCH /api/bots/{botId}", { method: "PATCH", url: botUrl, token: member, body: { help_text: "" } });
    await check("PATCH /api/bots/{botId}", { method: "PATCH", url: "/api/bots/nobot", token: member, body: {} });
    await check("POST /api/bots/{botId}/webhook-secret", {
      method: "POST",
      url: `${botUrl}/webhook-secret`,
      token: member,
    });
    await check("POST /api/bots/{botId}/webhook-secret", {
      method: "POST",
      url: "/api/bots/nobot/webhook-secret",
      token: member,
    });
    fake.failNext("setWebhook", { status: 400, description: "Bad Request: bad webhook" });
    await check("POST /api/bots/{botId}/webhook-secret", {
      method: "POST",
      url: `${botUrl}/webhook-secret`,
      token: member,
    });
    const j = (
      await check("POST /api/journeys", {
        method: "POST",
        url: "/api/journeys",
        token: member,
        body: { bot_id: bot.bot_id, name: "Doc" },
      })
    ).json();
    await check("POST /api/journeys", { method: "POST", url: "/api/journeys", token: member, body: { name: "" } });
    await check("POST /api/journeys", {
      method: "POST",
      url: "/api/journeys",
      token: member,
      body: JSON.stringify({ bot_id: bot.bot_id, name: "x".repeat(1_100_000) }),
      headers: { "content-type": "application/json" },
    });
    await check("POST /api/journeys", {
      method: "POST",
      url: "/api/journeys",
      token: member,
      body: "x",
      headers: { "content-type": "text/plain" },
    });
    await check("GET /api/journeys", { method: "GET", url: "/api/journeys?limit=1", token: member });
    await check("GET /api/journeys", { method: "GET", url: "/api/journeys?limit=1.5", token: member });
    const id = j.id as string;
    await check("GET /api/journeys/{id}", { method: "GET", url: `/api/journeys/${id}`, token: member });
    await check("GET /api/journeys/{id}", { method: "GET", url: "/api/journeys/unknown", token: member });
    await check("GET /api/journeys/{id}", { method: "GET", url: `/api/journeys/${"a".repeat(200)}`, token: member });
    await check("PUT /api/journeys/{id}/steps", {
      method: "PUT",
      url: `/api/journeys/${id}/steps`,
      token: member,
      body: { steps: [MESSAGE] },
    });
    await check("PUT /api/journeys/{id}/steps", {
      method: "PUT",
      url: `/api/journeys/${id}/steps`,
      token: member,
      body: { steps: [{ step_type: "message", config: {} }] },
    });
    await check("GET /api/journeys/{id}/steps", { method: "GET", url: `/api/journeys/${id}/steps`, token: member });
    await check("PUT /api/journeys/{id}", {
      method: "PUT",
      url: `/api/journeys/${id}`,
      token: member,
      body: { status: "active" },
    });
    const trigger = (
      await check("POST /api/journeys/{id}/triggers", {
        method: "POST",
        url: `/api/journeys/${id}/triggers`,
        token: member,
        body: { trigger_type: "telegram_deeplink", trigger_config: { start_param: "doc" } },
      })
    ).json();
    const webhookBot = await addBot(env, tenant);
    await check("POST /telegram/webhook/{botId}", {
      method: "POST",
      url: `/telegram/webhook/${webhookBot.botId}`,
      headers: { "x-telegram-bot-api-secret-token": webhookBot.webhookSecret },
      body: { update_id: 1 },
    });
    await check("POST /telegram/webhook/{botId}", {
      method: "POST",
      url: "/telegram/webhook/nobot",
      body: { update_id: 1 },
    });
    await check("POST /telegram/webhook/{botId}", {
      method: "POST",
      url: `/telegram/webhook/${webhookBot.botId}`,
      headers: { "x-telegram-bot-api-secret-token": "wrong" },
      body: { update_id: 2 },
    });
    await check("GET /api/journeys/debug/sessions", {
      method: "GET",
      url: "/api/journeys/debug/sessions",
      token: admin,
    });
    await check("GET /api/journeys/debug/sessions", {
      method: "GET",
      url: "/api/journeys/debug/sessions",
      token: member,
    });
    await check("DELETE /api/journeys/{id}/triggers/{triggerId}", {
      method: "DELETE",
      url: `/api/journeys/${id}/triggers/${trigger.id}`,
      token: member,
    });
    await check("DELETE /api/bots/{botId}", { method: "DELETE", url: `/api/bots/${bot.bot_id}`, token: member });
    await check("DELETE /api/journeys/{id}", { method: "DELETE", url: `/api/journeys/${id}`, token: member });
    await check("DELETE /api/bots/{botId}", { method: "DELETE", url: `/api/bots/${bot.bot_id}`, token: member });
    await check("GET /health/live", { method: "GET", url: "/health/live" });
    await check("GET /health/ready", { method: "GET", url: "/health/ready" });
    await check("GET /admin/login", { method: "GET", url: "/admin/login" });
    await check("POST /admin/login", {
      method: "POST",
      url: "/admin/login",
      body: { token: admin },
      headers: { origin: url },
    });
    await check("POST /admin/login", {
      method: "POST",
      url: "/admin/login",
      body: { token: member },
      headers: { origin: url },
    });
    await check("POST /admin/login", {
      method: "POST",
      url: "/admin/login",
      body: { nope: 1 },
      headers: { origin: url },
    });
    await check("POST /admin/logout", { method: "POST", url: "/admin/logout" });

    expect(problems).toEqual([]);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
    );
    expect(documented.filter((op) => !exercised.has(op))).toEqual([]);
  });
});
