import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { ApiDeps } from "../../deps.ts";
import { HttpError } from "../../plugins/errors.ts";
import { DASHBOARD_RATE_LIMIT } from "../../plugins/rate-limit.ts";
import { ADMIN_COOKIE, adminClaims, BOARD_PATH, LOGIN_PATH } from "./guard.ts";

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

/** GET/POST /admin/login and POST /admin/logout: how a browser gets and drops the dashboard cookie. */
export function dashboardLogin(deps: ApiDeps): FastifyPluginAsyncTypebox {
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
          summary: "Verify an admin JWT and set the dashboard cookie, then redirect to /admin/queues",
          consumes: ["application/x-www-form-urlencoded", "application/json"],
          body: LoginBody,
          response: {
            303: Redirect("logged in: to /admin/queues"),
            401: Html("bad or expired token"),
            403: Html("not an admin, or not an admin host"),
          },
        },
      },
      async (req, reply) => {
        const token = req.body.token.trim();
        try {
          const claims = adminClaims(app, deps, req, token);
          const maxAge = Math.max(0, (claims.exp ?? 0) - Math.floor(Date.now() / 1000));
          reply.setCookie(ADMIN_COOKIE, token, {
            path: "/admin",
            httpOnly: true,
            sameSite: "strict",
            secure: req.protocol === "https",
            maxAge,
          });
          return reply.redirect(BOARD_PATH, 303);
        } catch (err) {
          if (!(err instanceof HttpError)) throw err;
          return reply
            .status(err.statusCode as 401 | 403)
            .headers(headers)
            .send(loginPage(err.message));
        }
      },
    );

    app.post(
      "/admin/logout",
      {
        schema: { tags: ["dashboard"], summary: "Clear the dashboard cookie", response: { 303: Redirect("to login") } },
      },
      async (_req, reply) => reply.clearCookie(ADMIN_COOKIE, { path: "/admin" }).redirect(LOGIN_PATH, 303),
    );
  };
}
