import {
  createLogger,
  loadConfigOrExit,
  runMigrations,
  seedBrokerQualification,
  seedBrokerSignUp,
} from "@journeys/core";
import closeWithGrace from "close-with-grace";
import { buildApp } from "./app.ts";
import { createApiDeps } from "./deps.ts";

const config = loadConfigOrExit();
const log = createLogger(config.logLevel, "api");

try {
  // Idempotent, and serialised across replicas by an advisory lock.
  await runMigrations(config.databaseUrl);
} catch (err) {
  log.fatal({ err: (err as Error).message }, "cannot migrate the database: is Postgres reachable at DATABASE_URL?");
  process.exit(1);
}

const deps = createApiDeps(config, log);
try {
  await seedBrokerSignUp(deps.db.db, config.botTokenEncryptionKey, log);
  await seedBrokerQualification(deps.db.db, config.botTokenEncryptionKey, log);
} catch (err) {
  log.error({ err: (err as Error).message }, "seeding failed; continuing without it");
}

const app = await buildApp(deps);
closeWithGrace({ delay: 10_000 }, async ({ signal, err }) => {
  if (err) log.error({ err }, "shutting down after an error");
  else log.info({ signal }, "shutting down");
  await app.close();
  await deps.close();
});

try {
  await app.listen({ host: config.host, port: config.port });
} catch (err) {
  log.fatal({ err: (err as Error).message, host: config.host, port: config.port }, "cannot listen");
  await deps.close();
  process.exit(1);
}
