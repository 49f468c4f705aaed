/**
 * Fails when the Drizzle schema and the committed drizzle/ migrations disagree: generates into a
 * scratch copy of drizzle/ and reports any new migration drizzle-kit had to write.
 */
import { execFileSync } from "node:child_process";
import { cpSync, readdirSync, rmSync } from "node:fs";

// drizzle-kit only accepts an --out path relative to the working directory.
const scratch = `.drizzle-check-${process.pid}`;
let problem = "";
try {
  cpSync("drizzle", scratch, { recursive: true });
  const before = new Set(readdirSync(scratch));
  const out = execFileSync(
    "npx",
    [
      "drizzle-kit",
      "generate",
      "--dialect",
      "postgresql",
      "--schema",
      "packages/journeys/src/db/schema.ts",
      "--out",
      scratch,
    ],
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  const added = readdirSync(scratch).filter((f) => !before.has(f) && f.endsWith(".sql"));
  if (added.length > 0)
    problem = `drizzle-kit generated ${added.join(", ")}: run \`npm run db:generate\` and commit it`;
  else if (!/No schema changes/.test(out))
    problem = `drizzle-kit generate did not confirm the schema is unchanged:\n${out}`;
  else
    execFileSync("npx", ["drizzle-kit", "check", "--dialect", "postgresql", "--out", "drizzle"], { stdio: "inherit" });
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
if (problem) {
  console.error(`schema and committed migrations disagree: ${problem}`);
  process.exit(1);
}
console.log("migrations match the schema");
