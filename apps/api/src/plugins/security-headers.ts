import fastifyHelmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";

/**
 * Security headers on every response (@fastify/helmet): X-Content-Type-Options: nosniff, framing
 * refused (X-Frame-Options and CSP frame-ancestors), Referer only within this origin, and a Content
 * Security Policy that lets a page load only this server's own scripts, styles and API. The pages
 * served (Swagger UI at /docs, bull-board at /admin/queues, the login form) run within it — both
 * load scripts from files, not inline (bull-board's inline block is JSON data, which CSP does not
 * execute); inline styles are allowed because both set style attributes from script. Checked in
 * Chromium by security-headers.test.ts. HSTS is left to the TLS-terminating proxy, and so is
 * upgrade-insecure-requests (it would break the pages on a plain-http local run).
 */
export async function registerSecurityHeaders(app: FastifyInstance): Promise<void> {
  await app.register(fastifyHelmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        scriptSrcAttr: ["'none'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", "data:"],
        fontSrc: ["'self'", "data:"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: "deny" },
    // Not helmet's no-referrer: under it a browser sends "Origin: null" with the login form's POST,
    // and the login's Origin check (login CSRF) needs the real origin.
    referrerPolicy: { policy: "same-origin" },
    hsts: false,
    crossOriginEmbedderPolicy: false,
  });
}
