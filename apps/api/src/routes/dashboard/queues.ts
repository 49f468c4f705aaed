import { createBullBoard } from "@bull-board/api";
import { BullMQAdapter } from "@bull-board/api/bullMQAdapter";
import { FastifyAdapter } from "@bull-board/fastify";
import type { FastifyPluginAsync } from "fastify";
import type { ApiDeps } from "../../deps.ts";
import { DASHBOARD_RATE_LIMIT } from "../../plugins/rate-limit.ts";
import { BOARD_PATH, dashboardGuard } from "./guard.ts";
import type { DashboardSessions } from "./sessions.ts";

const THIRD_PARTY_STYLESHEET = /<link href="https:\/\/fonts\.googleapis\.com\/[^"]*" rel="stylesheet">\s*/g;

/**
 * bull-board over the product's queues (delays, outbox, maintenance), behind the admin guard.
 * Read-only: the queues are shared by every tenant (payloads are row ids only), so one tenant's
 * admin may watch them but must not retry, clean or obliterate other tenants' jobs.
 */
export function queueDashboard(deps: ApiDeps, sessions: DashboardSessions): FastifyPluginAsync {
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
    app.addHook("onRequest", dashboardGuard(app, deps, sessions));
    // bull-board's page links its font from Google Fonts: an admin page calls no third party (the CSP
    // allows this server only, security-headers.ts), so the link goes and the page uses system fonts.
    app.addHook("onSend", async (_req, reply, payload) => {
      const html = String(reply.getHeader("content-type") ?? "").startsWith("text/html");
      return html && typeof payload === "string" ? payload.replace(THIRD_PARTY_STYLESHEET, "") : payload;
    });
    await app.register(serverAdapter.registerPlugin(), { prefix: BOARD_PATH });
  };
}
