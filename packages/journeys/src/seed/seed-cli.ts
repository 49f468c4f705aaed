import { loadConfigOrExit } from "../config.ts";
import { createDb } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { createLogger } from "../logger.ts";
import { seedBrokerSignUp } from "./broker-sign-up.ts";

const config = loadConfigOrExit();
const log = createLogger(config.logLevel, "seed");
const handle = createDb(config.databaseUrl, { max: 2 });
try {
  await runMigrations(config.databaseUrl);
  const result = await seedBrokerSignUp(handle.db, config.botTokenEncryptionKey, log);
  if (result.status === "no_tenant")
    console.log("tenant entrylab has no bot yet: nothing seeded (connect a bot with POST /api/bots, then run again)");
  else
    console.log(
      `Broker Sign Up journey ${result.status === "created" ? "created" : "already exists"}: ${result.journeyId}`,
    );
} catch (err) {
  console.error(`seed failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await handle.close();
}
