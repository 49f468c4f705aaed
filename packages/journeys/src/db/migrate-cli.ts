import { loadConfigOrExit } from "../config.ts";
import { runMigrations } from "./migrate.ts";

const config = loadConfigOrExit();
const safeUrl = config.databaseUrl.replace(/\/\/[^@/]*@/, "//***@");
try {
  await runMigrations(config.databaseUrl);
  console.log(`migrations applied to ${safeUrl}`);
} catch (err) {
  console.error(`migration failed for ${safeUrl}: ${(err as Error).message}`);
  process.exit(1);
}
