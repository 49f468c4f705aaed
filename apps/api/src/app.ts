import fastifyCookie from "@fastify/cookie";
import { type TypeBoxTypeProvider, TypeBoxValidatorCompiler } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { ApiDeps } from "./deps.ts";
import { registerAuth } from "./plugins/auth.ts";
import { clientErrorHandler } from "./plugins/client-errors.ts";
import { frameworkErrors, registerErrorHandler } from "./plugins/errors.ts";
import { registerJsonBody } from "./plugins/json-body.ts";
import { registerRateLimit } from "./plugins/rate-limit.ts";
import { registerSecurityHeaders } from "./plugins/security-headers.ts";
import { registerSwagger } from "./plugins/swagger.ts";
import { apiRoutes } from "./routes/api/index.ts";
import { dashboardLogin } from "./routes/dashboard/login.ts";
import { queueDashboard } from "./routes/dashboard/queues.ts";
import { DashboardSessions } from "./routes/dashboard/sessions.ts";
import { healthRoutes } from "./routes/health.ts";
import { telegramWebhookRoutes } from "./routes/telegram-webhook.ts";

export const BODY_LIMIT = 1024 * 1024;

/**
 * Bounds on a connection's time, so a client cannot hold sockets open by sending slowly:
 * the whole request must arrive within REQUEST_TIMEOUT_MS (its headers within 10 s of that), a
 * socket with no traffic for a minute is closed, and an idle keep-alive connection after 65 s —
 * longer than the 60 s idle timeout of common load balancers, which must close first.
 */
export const CONNECTION_TIMEOUT_MS = 60_000;
export const KEEP_ALIVE_TIMEOUT_MS = 65_000;
const HEADERS_TIMEOUT_MS = 10_000;
/** How often Node checks the request and headers timeouts (its default, 30 s, would add up to 30 s). */
const TIMEOUT_CHECK_MS = 1000;

/**
 * The Fastify app, in the fastify/demo order: external plugins (docs, rate limit), then the app's
 * auth, then routes. Pure construction — main.ts listens, tests inject.
 */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    requestTimeout: deps.config.requestTimeoutMs,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
    http: {
      requestTimeout: deps.config.requestTimeoutMs,
      headersTimeout: Math.min(HEADERS_TIMEOUT_MS, deps.config.requestTimeoutMs),
      connectionsCheckingInterval: TIMEOUT_CHECK_MS,
    },
    clientErrorHandler,
    frameworkErrors,
    // Forwarded headers count only from the proxies TRUSTED_PROXIES names: otherwise any client could
    // pick its host (X-Forwarded-Host past ADMIN_HOSTS) and its address (the rate-limit key).
    trustProxy: deps.config.trustedProxies.length > 0 ? [...deps.config.trustedProxies] : false,
    // Per-request lines only at debug: at webhook rates they would drown everything else.
    logController: new LogController({
      disableRequestLogging: deps.config.logLevel !== "debug" && deps.config.logLevel !== "trace",
    }),
  })
    // TypeBox validates: bodies exactly as sent (a wrong type is a 400, never coerced; an unknown
    // field is a 400, never dropped), while querystring, params and headers are converted from text.
    .setValidatorCompiler(TypeBoxValidatorCompiler)
    .withTypeProvider<TypeBoxTypeProvider>();
  const root = app as unknown as FastifyInstance;

  registerErrorHandler(root);
  registerJsonBody(root);
  // External plugins. Security headers apply to every route (registered before any); Swagger next:
  // it collects every route registered after it.
  await registerSecurityHeaders(root);
  await registerSwagger(root, deps.config.publicBaseUrl);
  await registerRateLimit(root, deps);
  // App plugins: @fastify/jwt + @fastify/auth.
  await registerAuth(root, deps.config);
  // Routes.
  await app.register(healthRoutes(deps));
  await app.register(telegramWebhookRoutes(deps));
  await app.register(apiRoutes(deps), { prefix: "/api" });
  // Only the dashboard reads cookies: scoped to it, the cookie hooks stay off the webhook's path.
  await app.register(async (dashboard) => {
    const sessions = new DashboardSessions(deps.redis, deps.config.queuePrefix);
    await dashboard.register(fastifyCookie);
    await dashboard.register(dashboardLogin(deps, sessions));
    await dashboard.register(queueDashboard(deps, sessions));
  });
  return app;
}
