import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { FastifyPluginAsync } from "fastify";
import type { ApiDeps } from "../../deps.ts";
import { DASHBOARD_RATE_LIMIT } from "../../plugins/rate-limit.ts";
import { BOARD_PATH, dashboardGuard } from "./guard.ts";

/**
 * bull-board over the product's queues (delays, outbox, maintenance), behind the admin guard.
 * Read-only: the queues are shared by every tenant (payloads are row ids only), so one tenant's
 * admin may watch them but must not retry, clean or obliterate other tenants' jobs.
 */
export function queueDashboard(deps: ApiDeps): FastifyPluginAsync {
  return async (app) => {
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(BOARD_PATH);
    const { delays, outbox, maintenance } = deps.queues;
    createBullBoard({
      queues: [delays, outbox, maintenance].map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
      serverAdapter,
      options: { uiConfig: { boardTitle: "Journeys queues" } },
    });
    // Both hooks are added to this scope before bull-board registers, so they cover every route it
    // adds; the limit first, so that requests with bad cookies are limited too.
    app.addHook("onRequest", app.rateLimit(DASHBOARD_RATE_LIMIT));
    app.addHook("onRequest", dashboardGuard(app, deps));
    await app.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
  };
}
