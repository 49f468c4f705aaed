import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { ApiDeps } from "../../deps.ts";
import { verifyJwt } from "../../plugins/auth.ts";
import { refuseLoneSurrogates } from "../../plugins/json-body.ts";
import { API_IP_RATE_LIMIT, API_RATE_LIMIT, silentRateLimit } from "../../plugins/rate-limit.ts";
import { strictIntegerQuery } from "../../plugins/strict-query.ts";
import { botRoutes } from "./bots.ts";
import { debugRoutes } from "./debug.ts";
import { journeyRoutes } from "./journeys.ts";
import { stepRoutes } from "./steps.ts";

/**
 * The admin REST API under /api. A per-address limit comes first, so that requests with forged
 * tokens are limited too; then every route needs a valid Bearer JWT (checked in this scope's hooks,
 * so no route can forget it); then the per-tenant limit applies.
 */
export function apiRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook("onRequest", silentRateLimit(app, API_IP_RATE_LIMIT));
    app.addHook("onRequest", app.auth([verifyJwt]));
    app.addHook("onRequest", app.rateLimit(API_RATE_LIMIT));
    app.addHook("preValidation", refuseLoneSurrogates);
    app.addHook("preValidation", strictIntegerQuery);
    await app.register(botRoutes(deps));
    // Registered before /journeys/:id only for readability: find-my-way ranks the static
    // segment "debug" above the ":id" parameter whatever the order.
    await app.register(debugRoutes(deps));
    await app.register(journeyRoutes(deps));
    await app.register(stepRoutes(deps));
  };
}
