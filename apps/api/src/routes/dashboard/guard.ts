import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ApiDeps } from "../../deps.ts";
import { adminCheck, type Claims, requestHost, verifyRawToken } from "../../plugins/auth.ts";
import { HttpError } from "../../plugins/errors.ts";

/**
 * bull-board's page loads its scripts, styles and API without any header we could add, so the
 * browser proves itself with a cookie: the admin JWT itself (HttpOnly, SameSite=Strict, Path=/admin),
 * verified on every request exactly like a Bearer token. A Bearer header works too (scripts, curl).
 */
export const ADMIN_COOKIE = "journeys_admin";
export const LOGIN_PATH = "/admin/login";
export const BOARD_PATH = "/admin/queues";

function presentedToken(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  if (auth && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, "").trim();
  return req.cookies[ADMIN_COOKIE] || undefined;
}

/** The verified admin claims of a token, or an HttpError (401 bad token, 403 not admin / wrong host). */
export function adminClaims(app: FastifyInstance, deps: ApiDeps, req: FastifyRequest, token: string): Claims {
  const claims = verifyRawToken(app, token);
  adminCheck(deps.config, claims, requestHost(req));
  return claims;
}

const wantsPage = (req: FastifyRequest) => req.method === "GET" && (req.headers.accept ?? "").includes("text/html");

/** onRequest hook for everything under /admin/queues: page, its API and its static assets. */
export function dashboardGuard(app: FastifyInstance, deps: ApiDeps) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    try {
      const token = presentedToken(req);
      if (!token) throw new HttpError(401, `not logged in: open ${LOGIN_PATH}`);
      adminClaims(app, deps, req, token);
    } catch (err) {
      const e = err instanceof HttpError ? err : new HttpError(401, "not logged in");
      // A person opening the page is sent to the login form; assets and API calls are just refused.
      if (e.statusCode === 401 && wantsPage(req)) return reply.redirect(LOGIN_PATH, 303);
      return reply
        .status(e.statusCode)
        .send({ error: e.statusCode === 403 ? "forbidden" : "unauthorized", message: e.message });
    }
  };
}
