/**
 * Finishing touches on the generated OpenAPI document, applied once to the whole object (rather
 * than repeated in every route): an operationId for each operation, `security: []` on the public
 * ones, the rate-limit headers of the admin API, and the statuses every operation can answer
 * before its handler runs (rate limit, oversized or unreadable body, timeouts), all in the error
 * shape. `npm run lint:openapi` lints the result with Redocly's recommended rules.
 */

import { CONFIG_SCHEMAS, describeConfigs } from "../schemas/openapi-configs.ts";

type Json = Record<string, unknown>;
type Operation = Json & { responses?: Record<string, Json>; security?: unknown[]; requestBody?: unknown };

/** Named by hand: clients generate method names from these, so they must stay stable. */
const OPERATION_IDS: Record<string, string> = {
  "post /api/bots": "connectBot",
  "get /api/bots": "listBots",
  "delete /api/bots/{botId}": "disconnectBot",
  "get /api/journeys": "listJourneys",
  "post /api/journeys": "createJourney",
  "get /api/journeys/{id}": "getJourney",
  "put /api/journeys/{id}": "updateJourney",
  "delete /api/journeys/{id}": "archiveJourney",
  "post /api/journeys/{id}/triggers": "upsertTrigger",
  "delete /api/journeys/{id}/triggers/{triggerId}": "deleteTrigger",
  "get /api/journeys/{id}/steps": "listSteps",
  "put /api/journeys/{id}/steps": "replaceSteps",
  "get /api/journeys/debug/sessions": "listRecentSessions",
  "get /health/live": "liveness",
  "get /health/ready": "readiness",
  "post /telegram/webhook/{botId}": "telegramWebhook",
  "get /admin/login": "loginForm",
  "post /admin/login": "login",
  "post /admin/logout": "logout",
};

const errorRef = (description: string) => ({
  description,
  content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
});

const RATE_HEADERS = {
  "x-ratelimit-limit": { description: "requests allowed per minute", schema: { type: "integer" } },
  "x-ratelimit-remaining": { description: "requests left in this minute", schema: { type: "integer" } },
  "x-ratelimit-reset": { description: "seconds until the budget refills", schema: { type: "integer" } },
};
const RETRY_AFTER = { "retry-after": { description: "seconds to wait", schema: { type: "integer" } } };

/** Statuses by what they mean, for operations that can answer them. */
const STATUS_TEXT: Record<string, string> = {
  "400": "invalid request: the message names the field and the rule",
  "401": "missing, invalid or expired credentials",
  "403": "not allowed (role, admin host or origin)",
  "404": "not found (or another tenant's)",
  "408": "the request did not arrive within REQUEST_TIMEOUT_MS",
  "409": "conflicts with the current state",
  "413": "body larger than 1 MiB",
  "414": "a path segment is too long",
  "415": "unsupported Content-Type",
  "429": "rate limited: wait Retry-After seconds",
  "500": "internal error (the message says nothing internal)",
  "503": "a backing service is unavailable",
};

export function polishOpenApi(doc: Json): Json {
  const paths = (doc.paths ?? {}) as Record<string, Record<string, Operation>>;
  for (const [path, ops] of Object.entries(paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const key = `${method} ${path}`;
      op.operationId ??=
        OPERATION_IDS[key] ?? key.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string) => c?.toUpperCase() ?? "");
      op.security ??= [];
      op.responses ??= {};
      const responses = op.responses;
      const add = (status: string) => {
        responses[status] ??= errorRef(STATUS_TEXT[status] ?? "error");
      };
      // Any request can be too slow to arrive (Node answers it before any route), and can meet an
      // unexpected failure.
      add("408");
      add("500");
      // A path parameter longer than the router allows is refused by the router itself.
      if (path.includes("{")) add("414");
      // A body can come with any method but GET (even where none is expected: an empty JSON body is
      // a 400), so those can be refused before the handler.
      if (op.requestBody || method !== "get") for (const s of ["400", "413", "415"]) add(s);
      if (path.startsWith("/api/") || path.startsWith("/admin/") || path.startsWith("/telegram/")) add("429");
      for (const [status, response] of Object.entries(responses)) {
        // Every JSON error body is the project's Error object, named once in components.
        const content = response.content as Record<string, { schema?: Json }> | undefined;
        const schema = content?.["application/json"]?.schema;
        if (Number(status) >= 400 && schema && isErrorShape(schema))
          responses[status] = errorRef(String(response.description ?? STATUS_TEXT[status] ?? "error"));
        if (status === "429") (responses[status] as Json).headers = { ...RETRY_AFTER };
        else if (path.startsWith("/api/") && Number(status) < 300) response.headers = { ...RATE_HEADERS };
      }
    }
  }
  describeConfigs(doc);
  doc.components ??= {};
  const components = doc.components as Json;
  components.schemas = {
    ...(components.schemas as Json | undefined),
    ...CONFIG_SCHEMAS,
    Error: {
      type: "object",
      required: ["error", "message"],
      properties: {
        error: { type: "string", description: "short machine-readable name", example: "validation" },
        message: {
          type: "string",
          description: "what is wrong, naming the field (5xx: nothing internal)",
          example: "body/name must NOT have fewer than 1 characters",
        },
      },
    },
  };
  return doc;
}

function isErrorShape(schema: Json): boolean {
  const props = schema.properties as Record<string, unknown> | undefined;
  return !!props && Object.keys(props).sort().join(",") === "error,message";
}
