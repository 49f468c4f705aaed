import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { ApiDeps } from "../../deps.ts";
import { verifyJwt } from "../../plugins/auth.ts";
import { bearer, errors } from "../../schemas/common.ts";
import { DEFAULT_LIMIT, DebugSessionList, DebugSessionsQuery, debugSessionOut } from "../../schemas/sessions.ts";
import { tenantRepo } from "./tenant-repo.ts";

/** Admin-only troubleshooting (seed section F): the tenant's most recent sessions. */
export function debugRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/journeys/debug/sessions",
      {
        onRequest: app.auth([verifyJwt, app.requireAdmin], { relation: "and" }),
        schema: {
          tags: ["admin"],
          summary: "Most recent sessions with journey name, status, current step and answers (admin only)",
          security: bearer,
          querystring: DebugSessionsQuery,
          response: { 200: DebugSessionList, ...errors(400, 403) },
        },
      },
      async (req) => {
        const rows = await tenantRepo(deps, req).sessions.recent(req.query.limit ?? DEFAULT_LIMIT);
        return { sessions: rows.map(debugSessionOut) };
      },
    );
  };
}
