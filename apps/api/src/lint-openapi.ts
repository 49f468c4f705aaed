/**
 * `npm run lint:openapi`: builds the app (no request is served), writes the OpenAPI document it
 * generates to a temporary file and lints it with Redocly's recommended rules; exits non-zero on
 * any error. CI runs it after the code lint.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger, loadConfig } from "@journeys/core";
import { buildApp } from "./app.ts";
import { createApiDeps } from "./deps.ts";

// A throwaway configuration: the document does not depend on secrets, and nothing is connected to.
const config = loadConfig({ NODE_ENV: "development", LOG_LEVEL: "silent" });
const deps = createApiDeps(config, createLogger("silent"));
const app = await buildApp(deps);
await app.ready();
const dir = mkdtempSync(join(tmpdir(), "journeys-openapi-"));
const file = join(dir, "openapi.json");
writeFileSync(file, JSON.stringify(app.swagger(), null, 2));
await app.close();
await deps.close();
const lint = spawnSync("npx", ["redocly", "lint", file, "--extends=recommended"], {
  stdio: "inherit",
  env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
});
rmSync(dir, { recursive: true, force: true });
process.exit(lint.status ?? 1);
