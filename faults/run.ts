/**
 * `npm run test:faults`: the fault and abuse suite (issue 8). Brings up a scratch stack — its own
 * database, a private redis-server, a TCP proxy in front of Postgres, the fake Bot API, and the API
 * and worker as child processes — runs the seven scenarios against it, prints what was tried and
 * what was lost, writes faults/results.json and tears everything down, also on failure.
 * `-- --scenario 2,5` runs some of them (development); `-- --verbose` echoes the child processes'
 * logs; FAULTS_SEED=<n> replays a run's random choices.
 */
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { Stack } from "../scripts/lib/harness/stack.ts";
import { Checks, resultsJson, type ScenarioResult, table } from "./lib/report.ts";
import type { Scenario } from "./lib/scenario.ts";
import { workerKill } from "./scenarios/s1-worker-kill.ts";
import { apiKill } from "./scenarios/s2-api-kill.ts";
import { redisLoss } from "./scenarios/s3-redis.ts";
import { postgresOutage } from "./scenarios/s4-postgres.ts";
import { duplicatesAndRaces } from "./scenarios/s5-duplicates.ts";
import { hostileInput } from "./scenarios/s6-hostile/index.ts";
import { severalProcesses } from "./scenarios/s7-several-processes.ts";

/** Scenario 3 runs last: it restarts the worker with a longer sweep interval and leaves it so. */
const SCENARIOS: Scenario[] = [
  workerKill,
  apiKill,
  postgresOutage,
  duplicatesAndRaces,
  hostileInput,
  severalProcesses,
  redisLoss,
];
/** The whole run, set-up and tear-down included, stays inside CI's budget: past this it stops. */
const HARD_LIMIT_MS = 480_000;

const { values } = parseArgs({
  options: { scenario: { type: "string" }, verbose: { type: "boolean", default: false } },
});
const wanted = values.scenario ? new Set(values.scenario.split(",").map(Number)) : null;
const seed = Number(process.env.FAULTS_SEED ?? Math.floor(Math.random() * 2 ** 31));
const started = Date.now();
const log = (message: string) => console.log(`[faults +${((Date.now() - started) / 1000).toFixed(1)}s] ${message}`);

// Production settings; the fake in this process (the scenarios read what it received), a private
// Redis (scenario 3 flushes and kills it), Postgres behind a proxy (scenario 4 cuts it). A short
// sweep interval, so recovery paths that wait for a sweep run many times within the budget; the
// worker logs at info (scenarios count some of its lines).
const stack = new Stack({
  tool: "faults",
  verbose: values.verbose,
  nodeEnv: "production",
  fakeInProcess: true,
  fakeRateLimit: 30,
  privateRedis: true,
  pgProxy: true,
  env: { SCHEDULER_SWEEP_INTERVAL_MS: "2000" },
  workerEnv: { LOG_LEVEL: "info" },
});
let tornDown: Promise<void> | undefined;
const tearDown = () => {
  tornDown ??= stack.tearDown().catch((err) => {
    console.error(`tear-down: ${(err as Error).message}`);
    stack.killNow();
  });
  return tornDown;
};
// Scenarios await every promise they start; these only keep a stray failure from ending the run
// before the tear-down, and make sure no child process outlives it.
process.on("unhandledRejection", (err) => log(`unhandled rejection: ${(err as Error)?.stack ?? err}`));
process.on("uncaughtException", (err) => {
  log(`uncaught exception: ${err.stack ?? err}`);
  void tearDown().finally(() => process.exit(1));
});
process.on("exit", () => stack.killNow());
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    log(`${signal}: tearing down`);
    void tearDown().finally(() => process.exit(130));
  });
}
const hardStop = setTimeout(() => {
  log(`the suite ran past ${HARD_LIMIT_MS / 1000} s: stopping`);
  void tearDown().finally(() => process.exit(1));
}, HARD_LIMIT_MS);
hardStop.unref();

const results: ScenarioResult[] = [];
/** Unexpected exits already charged to an earlier scenario. */
const reported = new Set<unknown>();
let setupError: string | undefined;
try {
  log(`seed ${seed}; starting the scratch stack`);
  await stack.start();
  log(
    `stack up: database ${stack.dbName}, redis :${stack.redis.port}, postgres proxy :${stack.proxy.port}, api ${stack.apiUrl}, fake Bot API ${stack.fake.apiRoot}`,
  );
  for (const scenario of SCENARIOS) {
    if (wanted && !wanted.has(scenario.id)) continue;
    log(`scenario ${scenario.name}`);
    const t0 = Date.now();
    const checks = new Checks();
    let result: ScenarioResult;
    try {
      // Whatever an earlier scenario left broken is mended first.
      await stack.proxy.restore();
      if (!stack.redis.running()) await stack.redis.start();
      if (!stack.api?.alive()) await stack.startApi();
      if (!stack.worker?.alive()) await stack.startWorker();
      const figures = await scenario.run({ stack, seed, log }, checks);
      result = {
        id: scenario.id,
        name: scenario.name,
        ...figures,
        passed: checks.failures.length === 0,
        failures: checks.failures,
        seconds: 0,
      };
    } catch (err) {
      checks.failures.push(`aborted: ${(err as Error).stack ?? err}`);
      result = {
        id: scenario.id,
        name: scenario.name,
        tried: 0,
        lost: 0,
        duplicates: 0,
        double_advanced: 0,
        server_errors: 0,
        passed: false,
        metrics: {},
        failures: checks.failures,
        seconds: 0,
      };
    }
    const unexpected = stack.unexpectedExits().filter((s) => !reported.has(s));
    for (const s of unexpected) reported.add(s);
    if (unexpected.length > 0) {
      result.passed = false;
      result.failures.push(
        `process(es) exited without being killed: ${unexpected.map((s) => `${s.name} pid ${s.pid}`).join(", ")}`,
      );
    }
    result.seconds = (Date.now() - t0) / 1000;
    result.metrics = { ...result.metrics, seconds: Number(result.seconds.toFixed(1)), seed };
    results.push(result);
    log(
      `${result.passed ? "PASS" : "FAIL"} ${scenario.name} in ${result.seconds.toFixed(1)} s ${JSON.stringify(result.metrics)}`,
    );
    for (const f of result.failures) log(`  ✗ ${f}`);
    if (!result.passed) console.log(stack.logTail());
  }
} catch (err) {
  setupError = (err as Error).stack ?? String(err);
  log(`set-up failed: ${setupError}`);
  console.log(stack.logTail());
} finally {
  await tearDown();
}

console.log(`\n${table(results)}\n`);
// Only a full run is a record to compare with; `--scenario` runs leave results.json alone.
if (!wanted)
  writeFileSync(new URL("./results.json", import.meta.url), `${JSON.stringify(resultsJson(results), null, 2)}\n`);
const failed = results.filter((r) => !r.passed).length + (setupError ? 1 : 0);
const written = wanted ? "results.json not written (partial run)" : "faults/results.json written";
log(`${failed === 0 ? "all scenarios passed" : `${failed} scenario(s) failed`}; ${written} (seed ${seed})`);
clearTimeout(hardStop);
process.exit(failed === 0 ? 0 : 1);
