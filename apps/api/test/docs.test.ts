import { describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";

const env = await createTestEnv();
const { app } = await startTestApi(env);

/** "METHOD /path" for every route the app serves, rebuilt from the printRoutes() tree. */
function servedRoutes(): Set<string> {
  const served = new Set<string>();
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split("\n")) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.+?)(?: \(([^)]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    const path = (stack[depth - 1] ?? "") + m[2]!;
    stack.push(path);
    for (const method of (m[3] ?? "").split(", ").filter((x) => x && x !== "HEAD")) {
      served.add(`${method} ${path.replace(/:(\w+)/g, "{$1}")}`);
    }
  }
  return served;
}

describe("OpenAPI", () => {
  it("serves Swagger UI at /docs", async () => {
    const res = await app.inject({ method: "GET", url: "/docs" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/text\/html/);
    expect(res.body).toMatch(/swagger/i);
  });

  it("documents every route the app serves (bull-board's own and the docs' own routes aside)", async () => {
    const doc = (await app.inject({ method: "GET", url: "/docs/json" })).json();
    const documented = new Set(
      Object.entries(doc.paths as Record<string, object>).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`),
      ),
    );
    const served = [...servedRoutes()].filter((r) => !/ \/(docs|admin\/queues)(\/|$)/.test(r));
    expect([...documented].sort()).toEqual(served.sort());
    // And the list the spec names, so a route cannot vanish from both at once.
    expect([...documented].sort()).toEqual(
      [
        "POST /api/bots",
        "GET /api/bots",
        "GET /api/bots/{botId}",
        "PATCH /api/bots/{botId}",
        "POST /api/bots/{botId}/webhook-secret",
        "DELETE /api/bots/{botId}",
        "DELETE /api/journeys/{id}",
        "DELETE /api/journeys/{id}/triggers/{triggerId}",
        "GET /api/journeys",
        "POST /api/journeys",
        "GET /api/journeys/{id}",
        "PUT /api/journeys/{id}",
        "POST /api/journeys/{id}/triggers",
        "GET /api/journeys/{id}/steps",
        "PUT /api/journeys/{id}/steps",
        "GET /api/journeys/debug/sessions",
        "GET /health/live",
        "GET /health/ready",
        "POST /telegram/webhook/{botId}",
        "GET /admin/login",
        "POST /admin/login",
        "POST /admin/logout",
      ].sort(),
    );
  });

  it("is OpenAPI 3 with a bearer scheme that every /api operation requires, and tags on everything", async () => {
    const doc = (await app.inject({ method: "GET", url: "/docs/json" })).json();
    expect(doc.openapi).toMatch(/^3\./);
    expect(doc.components.securitySchemes.bearerAuth).toMatchObject({
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
    });
    const tagNames = doc.tags.map((t: { name: string }) => t.name);
    for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, Record<string, unknown>>>)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        expect(
          (op.tags as string[]).every((t) => tagNames.includes(t)),
          where,
        ).toBe(true);
        if (path.startsWith("/api/")) {
          expect(op.security, where).toEqual([{ bearerAuth: [] }]);
          const responses = op.responses as Record<string, unknown>;
          for (const status of ["401", "429", "500"]) expect(responses[status], `${where} ${status}`).toBeDefined();
        }
      }
    }
    const put = doc.paths["/api/journeys/{id}"].put;
    const body = put.requestBody.content["application/json"].schema;
    expect(body.additionalProperties).toBe(false);
    expect(body.properties.status.enum).toEqual(["draft", "active", "paused", "archived"]);
    expect(put.responses["404"]).toBeDefined();
    const admin = doc.paths["/api/journeys/debug/sessions"].get;
    expect(admin.responses["403"]).toBeDefined();
    expect(admin.parameters).toContainEqual(expect.objectContaining({ in: "query", name: "limit" }));
  });

  it("describes step configs (oneOf per step type), trigger configs and answers with examples, and names every operation", async () => {
    const doc = (await app.inject({ method: "GET", url: "/docs/json" })).json();
    const schemas = doc.components.schemas;
    const steps = doc.paths["/api/journeys/{id}/steps"].put.requestBody.content["application/json"].schema;
    expect(steps.properties.steps.items).toEqual({ $ref: "#/components/schemas/StepInput" });
    expect(schemas.StepInput.oneOf).toHaveLength(4);
    expect(schemas.StepInput.discriminator.propertyName).toBe("step_type");
    for (const name of [
      "MessageConfig",
      "QuestionConfig",
      "DelayConfig",
      "DeeplinkTriggerConfig",
      "Answers",
      "Error",
    ]) {
      expect(schemas[name].example ?? schemas[name].properties?.message?.example, name).toBeDefined();
    }
    expect(schemas.QuestionConfig.properties.validation.enum).toEqual([
      "number",
      "text",
      "country",
      "money",
      "choice",
      "phone",
      "email",
    ]);
    expect(schemas.QuestionConfig.properties.options.items).toEqual({ $ref: "#/components/schemas/ChoiceOption" });
    expect(schemas.ChoiceOption.additionalProperties).toBe(false);
    const ids = Object.values(doc.paths as Record<string, Record<string, { operationId?: string }>>).flatMap((ops) =>
      Object.values(ops).map((op) => op.operationId),
    );
    expect(ids.every(Boolean)).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(doc.servers).toHaveLength(1);
    expect(doc.paths["/health/live"].get.security).toEqual([]);
  });
});
