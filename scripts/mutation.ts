/**
 * npm run test:mutation [-- <target>…]: Stryker once per target of stryker.config.mjs (all, or the
 * named ones while working on one module), then test/mutation/summary.json from every target's
 * latest report. Exits 1 when a module scores under the threshold. Not in .ci/run: it takes minutes.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { runInfoOf, writeSummary } from "./mutation-summary.ts";

const config = (await import(pathToFileURL(resolve("stryker.config.mjs")).href)) as { targets: { name: string }[] };
const names = config.targets.map((t) => t.name);
const wanted = process.argv.slice(2);
const unknown = wanted.filter((n) => !names.includes(n));
if (unknown.length > 0) {
  console.error(`Unknown target(s) ${unknown.join(", ")}; stryker.config.mjs has ${names.join(", ")}`);
  process.exit(2);
}

/** CPU seconds of this process's finished children (Linux: /proc/self/stat cutime + cstime, in ticks of 1/100 s). */
function childCpuSeconds(): number {
  const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[13]) + Number(fields[14])) / 100;
}

for (const name of wanted.length > 0 ? wanted : names) {
  console.log(`\n== stryker: ${name}`);
  const started = Date.now();
  const loadBefore = loadavg()[0]!;
  const cpuBefore = childCpuSeconds();
  const run = spawnSync("npx", ["stryker", "run"], {
    stdio: "inherit",
    env: { ...process.env, MUTATION_TARGET: name },
  });
  if (run.status !== 0) {
    console.error(`Stryker failed on target ${name} (exit ${run.status ?? run.signal})`);
    process.exit(1);
  }
  // Wall time means little on a shared machine without the load around it; CPU time (all Stryker's
  // processes) over the cores is what the run would take with the machine to itself.
  const info = {
    seconds: Math.round((Date.now() - started) / 1000),
    cpuSeconds: Math.round(childCpuSeconds() - cpuBefore),
    load1: [loadBefore, loadavg()[0]!],
  };
  writeFileSync(runInfoOf(name), `${JSON.stringify(info)}\n`);
}
process.exit(writeSummary(names) ? 0 : 1);
