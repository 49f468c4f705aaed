import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import type { FastifyInstance } from "fastify";
import { polishOpenApi } from "./openapi-polish.ts";

/** Name of the security scheme routes refer to in `schema.security`. */
export const BEARER = "bearerAuth";

/**
 * OpenAPI 3 from the routes' TypeBox schemas (registered before any route, so each is collected),
 * served as JSON at /docs/json and as Swagger UI at /docs.
 */
export async function registerSwagger(app: FastifyInstance, publicBaseUrl: string): Promise<void> {
  await app.register(fastifySwagger, {
    transformObject: (document) =>
      polishOpenApi((document as unknown as { openapiObject: Record<string, unknown> }).openapiObject) as never,
    openapi: {
      openapi: "3.0.3",
      servers: [{ url: publicBaseUrl, description: "this deployment (PUBLIC_BASE_URL)" }],
      info: {
        title: "Journeys API",
        description:
          "Multi-tenant Telegram bot journeys: admin REST API, Telegram webhook, health. The BullMQ " +
          "dashboard (bull-board) lives at /admin/queues for admins: log in at /admin/login.",
        version: "0.1.0",
        license: { name: "Proprietary", url: `${publicBaseUrl}/docs` },
      },
      components: {
        securitySchemes: {
          [BEARER]: {
            type: "http",
            scheme: "bearer",
            bearerFormat: "JWT",
            description: "HS256 JWT with claims sub, tenant_id and role (admin | member); `npm run token` prints one.",
          },
        },
      },
      tags: [
        { name: "bots", description: "The tenant's Telegram bots" },
        { name: "journeys", description: "Journeys, their triggers and steps" },
        { name: "admin", description: "Admin-only routes (role admin, ADMIN_HOSTS)" },
        { name: "dashboard", description: "Login for the queue dashboard at /admin/queues" },
        { name: "telegram", description: "Telegram webhook" },
        { name: "health", description: "Liveness and readiness" },
      ],
    },
  });
  await app.register(fastifySwaggerUi, { routePrefix: "/docs" });
}
