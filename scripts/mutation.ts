/**
 * npm run test:mutation [-- <target>…]: Stryker once per target of stryker.config.mjs (all, or the
 * named ones while working on one module), then test/mutation/summary.json from every target's
 * latest report. Exits 1 when a module scores under the threshold. Not in .ci/run: it takes minutes.
 */
import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { writeSummary } from "./mutation-summary.ts";

const config = (await import(pathToFileURL(resolve("stryker.config.mjs")).href)) as { targets: { name: string }[] };
const names = config.targets.map((t) => t.name);
const wanted = process.argv.slice(2);
const unknown = wanted.filter((n) => !names.includes(n));
if (unknown.length > 0) {
  console.error(`Unknown target(s) ${unknown.join(", ")}; stryker.config.mjs has ${names.join(", ")}`);
  process.exit(2);
}

for (const name of wanted.length > 0 ? wanted : names) {
  console.log(`\n== stryker: ${name}`);
  const run = spawnSync("npx", ["stryker", "run"], {
    stdio: "inherit",
    env: { ...process.env, MUTATION_TARGET: name },
  });
  if (run.status !== 0) {
    console.error(`Stryker failed on target ${name} (exit ${run.status ?? run.signal})`);
    process.exit(1);
  }
}
process.exit(writeSummary(names) ? 0 : 1);
