import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { ApiDeps } from "../../deps.ts";
import { HttpError } from "../../plugins/errors.ts";
import { DASHBOARD_RATE_LIMIT } from "../../plugins/rate-limit.ts";
import { ADMIN_COOKIE, adminClaims, BOARD_PATH, LOGIN_PATH, LOGOUT_PATH } from "./guard.ts";
import type { DashboardSessions } from "./sessions.ts";

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

function loginPage(problem?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Journeys admin login</title>
<style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem}
textarea{width:100%;font-family:monospace}.problem{color:#b00020}</style></head>
<body><h1>Queue dashboard login</h1>
${problem ? `<p class="problem" role="alert">${escapeHtml(problem)}</p>` : ""}
<p>Paste an admin JWT (<code>npm run token -- --tenant &lt;id&gt; --role admin</code>).</p>
<form method="post" action="${LOGIN_PATH}">
<label for="token">Token</label><br>
<textarea id="token" name="token" rows="6" required autocomplete="off" spellcheck="false"></textarea><br>
<button type="submit">Log in</button></form></body></html>`;
}

const Html = (description: string) => ({ description, content: { "text/html": { schema: Type.String() } } });
const Redirect = (description: string) => ({ description, type: "null" });
const LoginBody = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 4096 }) },
  { additionalProperties: false },
);

/**
 * Login CSRF: another site must not log a browser in with the attacker's token. A browser names the
 * page a POST comes from in Origin; only this server's own host (or PUBLIC_BASE_URL) may log in,
 * and a POST without Origin (no browser omits it) is refused too.
 */
function checkOrigin(req: FastifyRequest, publicBaseUrl: string): void {
  const origin = req.headers.origin;
  let host: string | null = null;
  try {
    host = origin ? new URL(origin).host.toLowerCase() : null;
  } catch {
    host = null;
  }
  const own = [req.host.toLowerCase(), new URL(publicBaseUrl).host.toLowerCase()];
  if (!host || !own.includes(host)) {
    throw new HttpError(
      403,
      "log in from this site's own login form (the request's Origin is missing or another site)",
    );
  }
}

/** GET/POST /admin/login and POST /admin/logout: how a browser gets and drops its dashboard session. */
export function dashboardLogin(deps: ApiDeps, sessions: DashboardSessions): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.addHook("onRequest", app.rateLimit(DASHBOARD_RATE_LIMIT));
    // The form posts application/x-www-form-urlencoded; only this scope needs to read it.
    app.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: 16 * 1024 },
      (_req, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    const headers = {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
      "x-frame-options": "DENY",
      "cache-control": "no-store",
    };

    app.get(
      LOGIN_PATH,
      {
        schema: { tags: ["dashboard"], summary: "Login form for the queue dashboard", response: { 200: Html("form") } },
      },
      async (_req, reply) => reply.headers(headers).send(loginPage()),
    );

    app.post(
      LOGIN_PATH,
      {
        schema: {
          tags: ["dashboard"],
          summary: "Verify an admin JWT, open a dashboard session (cookie), then redirect to /admin/queues",
          description:
            "The session lives server-side (at most 8 h, never past the token's exp); the cookie holds only its " +
            "random id. A POST whose Origin is missing or another site's is refused (login CSRF).",
          consumes: ["application/x-www-form-urlencoded", "application/json"],
          body: LoginBody,
          response: {
            303: Redirect("logged in: to /admin/queues"),
            401: Html("bad or expired token"),
            403: Html("not an admin, not an admin host, or a cross-site (or Origin-less) post"),
          },
        },
      },
      async (req, reply) => {
        const token = req.body.token.trim();
        try {
          checkOrigin(req, deps.config.publicBaseUrl);
          const claims = adminClaims(app, deps, req, token);
          const { id, maxAge } = await sessions.create(claims);
          reply.setCookie(ADMIN_COOKIE, id, {
            path: "/admin",
            httpOnly: true,
            sameSite: "strict",
            secure: req.protocol === "https",
            maxAge,
          });
          return reply.redirect(BOARD_PATH, 303);
        } catch (err) {
          if (!(err instanceof HttpError) || err.statusCode >= 500) throw err;
          return reply
            .status(err.statusCode as 401 | 403)
            .headers(headers)
            .send(loginPage(err.message));
        }
      },
    );

    app.post(
      LOGOUT_PATH,
      {
        schema: {
          tags: ["dashboard"],
          summary: "End the dashboard session (deleted server-side) and clear its cookie",
          response: { 303: Redirect("to login") },
        },
      },
      async (req, reply) => {
        const id = req.cookies[ADMIN_COOKIE];
        if (id) await sessions.delete(id);
        return reply.clearCookie(ADMIN_COOKIE, { path: "/admin" }).redirect(LOGIN_PATH, 303);
      },
    );
  };
}
