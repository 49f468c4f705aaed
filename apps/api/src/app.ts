import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { ApiDeps } from "./deps.ts";
import { registerErrorHandler } from "./plugins/errors.ts";
import { healthRoutes } from "./routes/health.ts";
import { telegramWebhookRoutes } from "./routes/telegram-webhook.ts";

export const BODY_LIMIT = 1024 * 1024;

/** The Fastify app: plugins, then routes. Pure construction — main.ts listens, tests inject. */
export async function buildApp(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    bodyLimit: BODY_LIMIT,
    trustProxy: true,
    // Per-request lines only at debug: at webhook rates they would drown everything else.
    logController: new LogController({
      disableRequestLogging: deps.config.logLevel !== "debug" && deps.config.logLevel !== "trace",
    }),
    // Unknown body fields are refused (400), never silently dropped.
    ajv: { customOptions: { removeAdditional: false, coerceTypes: "array", useDefaults: true, allErrors: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  registerErrorHandler(app as unknown as FastifyInstance);
  await app.register(healthRoutes(deps));
  await app.register(telegramWebhookRoutes(deps));
  return app;
}
