import type { FastifyInstance } from "fastify";
import { afterAll } from "vitest";
import { buildApp } from "../../apps/api/src/app.ts";
import { type ApiDeps, createApiDeps } from "../../apps/api/src/deps.ts";
import { createLogger, loadConfig } from "../../packages/journeys/src/index.ts";
import { freePort } from "../../scripts/lib/procs.ts";
import type { TestEnv } from "./context.ts";

export interface TestApi {
  app: FastifyInstance;
  deps: ApiDeps;
  /** Base URL of the listening server (for the fake Bot API to deliver webhooks to). */
  url: string;
}

/**
 * The real API app on a loopback port, over the test file's database and queue prefix. `env`
 * overrides config values (e.g. TELEGRAM_API_ROOT of a fake Bot API, ADMIN_HOSTS).
 */
export async function startTestApi(testEnv: TestEnv, env: Record<string, string> = {}): Promise<TestApi> {
  // The webhook URL given to setWebhook must be known before the app is built: pick the port first.
  const port = await freePort();
  const config = loadConfig({
    PORT: String(port),
    PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
    ...testEnv.env,
    ...env,
  });
  const deps = createApiDeps(config, createLogger(config.logLevel, "api"));
  const app = await buildApp(deps);
  await app.listen({ host: "127.0.0.1", port });
  afterAll(async () => {
    await app.close();
    await deps.close();
  });
  return { app, deps, url: `http://127.0.0.1:${port}` };
}
