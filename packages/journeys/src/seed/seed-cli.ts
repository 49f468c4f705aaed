import { loadConfigOrExit } from "../config.ts";
import { createDb } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { createLogger } from "../logger.ts";
import { QUALIFICATION_JOURNEY_NAME, seedBrokerQualification } from "./broker-qualification.ts";
import { SEED_JOURNEY_NAME, seedBrokerSignUp } from "./broker-sign-up.ts";

const config = loadConfigOrExit();
const log = createLogger(config.logLevel, "seed");
const handle = createDb(config.databaseUrl, { max: 2 });
try {
  await runMigrations(config.databaseUrl);
  const seeds = [
    [SEED_JOURNEY_NAME, seedBrokerSignUp],
    [QUALIFICATION_JOURNEY_NAME, seedBrokerQualification],
  ] as const;
  for (const [name, seed] of seeds) {
    const result = await seed(handle.db, config.botTokenEncryptionKey, log);
    if (result.status === "no_tenant") {
      console.log("tenant entrylab has no bot yet: nothing seeded (connect a bot with POST /api/bots, then run again)");
      break;
    }
    console.log(`${name} journey ${result.status === "created" ? "created" : "already exists"}: ${result.journeyId}`);
  }
} catch (err) {
  console.error(`seed failed: ${(err as Error).message}`);
  process.exitCode = 1;
} finally {
  await handle.close();
}
