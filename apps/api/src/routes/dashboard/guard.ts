import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApiDeps } from "../../deps.ts";
import { adminCheck, type Claims, requestHost, verifyRawToken } from "../../plugins/auth.ts";
import { HttpError, statusName } from "../../plugins/errors.ts";
import type { DashboardSessions } from "./sessions.ts";

/**
 * bull-board's page loads its scripts, styles and API without any header we could add, so the
 * browser proves itself with a cookie: the id of a server-side session (sessions.ts) that
 * POST /admin/login opened (HttpOnly, SameSite=Strict, Path=/admin). A Bearer header with an
 * admin JWT works too (scripts, curl).
 */
export const ADMIN_COOKIE = "journeys_admin";
export const LOGIN_PATH = "/admin/login";
export const LOGOUT_PATH = "/admin/logout";
export const BOARD_PATH = "/admin/queues";

/** The verified admin claims of a token, or an HttpError (401 bad token, 403 not admin / wrong host). */
export function adminClaims(app: FastifyInstance, deps: ApiDeps, req: FastifyRequest, token: string): Claims {
  const claims = verifyRawToken(app, token);
  adminCheck(deps.config, claims, requestHost(req));
  return claims;
}

/** Who is asking: a Bearer token's admin claims, else the cookie's live session, else a 401. */
async function dashboardClaims(app: FastifyInstance, deps: ApiDeps, sessions: DashboardSessions, req: FastifyRequest) {
  const auth = req.headers.authorization;
  if (auth && /^Bearer\s+/i.test(auth)) return adminClaims(app, deps, req, auth.replace(/^Bearer\s+/i, "").trim());
  const id = req.cookies[ADMIN_COOKIE];
  if (!id) throw new HttpError(401, `not logged in: open ${LOGIN_PATH}`);
  const session = await sessions.get(id);
  if (!session) throw new HttpError(401, `session expired or logged out: open ${LOGIN_PATH}`);
  // The host rule holds for every request, not only at login (ADMIN_HOSTS).
  adminCheck(deps.config, session as Claims, requestHost(req));
  return session;
}

const wantsPage = (req: FastifyRequest) => req.method === "GET" && (req.headers.accept ?? "").includes("text/html");

/** onRequest hook for everything under /admin/queues: page, its API and its static assets. */
export function dashboardGuard(app: FastifyInstance, deps: ApiDeps, sessions: DashboardSessions) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      await dashboardClaims(app, deps, sessions, req);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(401, "not logged in");
      // A person opening the page is sent to the login form; assets and API calls are just refused.
      if (e.statusCode === 401 && wantsPage(req)) return reply.redirect(LOGIN_PATH, 303);
      // Answered here: thrown, it would meet bull-board's own error handler (its routes are its scope).
      return reply.status(e.statusCode).send({ error: statusName(e.statusCode), message: e.message });
    }
  };
}
