import type { FastifyInstance } from "fastify";
import { afterAll } from "vitest";
import { buildApp } from "../../apps/api/src/app.ts";
import { type ApiDeps, createApiDeps } from "../../apps/api/src/deps.ts";
import { createLogger, loadConfig } from "../../packages/journeys/src/index.ts";
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
  const config = loadConfig({ ...testEnv.env, ...env });
  const deps = createApiDeps(config, createLogger(config.logLevel, "api"));
  const app = await buildApp(deps);
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  afterAll(async () => {
    await app.close();
    await deps.close();
  });
  return { app, deps, url: `http://127.0.0.1:${port}` };
}
