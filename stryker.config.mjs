// Mutation testing of the pure modules (issue 21). `npm run test:mutation` (scripts/mutation.ts)
// runs Stryker once per target below, then writes test/mutation/summary.json. Not in .ci/run (time).

/**
 * Each pure module of packages/journeys and the pure tests (no Postgres, no Redis) that exercise
 * it. Adding a module is one line here. A target's mutants face only its own tests: a module's
 * rules are pinned where they are tested, and a mutant of a module-level table (a "static" mutant,
 * which needs a fresh import for every run) does not pay for importing every other test file.
 * validation.property.test.ts stays out on purpose: its 1,000 random strings check no rule and
 * would cost ~2 s per mutant. transition.property.test.ts is in: its invariants are rules, and it
 * costs next to nothing there (docs/testing.md).
 */
export const targets = [
  { name: "validation", mutate: "src/validation/*.ts", tests: "test/validation{,-*}.test.ts" },
  { name: "step-config", mutate: "src/step-config.ts", tests: "test/step-config*.test.ts" },
  { name: "parse", mutate: "src/telegram/parse.ts", tests: "test/parse*.test.ts" },
  { name: "transition", mutate: "src/engine/transition.ts", tests: "test/engine/transition*.test.ts" },
];
const inPackage = (glob) => `packages/journeys/${glob}`;

/** MUTATION_TARGET=<name> picks one target (scripts/mutation.ts sets it); unset, all in one run. */
const target = process.env.MUTATION_TARGET;
const chosen = target ? targets.filter((t) => t.name === target) : targets;
if (chosen.length === 0) throw new Error(`MUTATION_TARGET: no target named ${target}`);

// The test files go to vitest.mutation.config.ts through the environment Stryker's workers
// inherit, not through Stryker's `testFiles`: with `testFiles`, Stryker 9.6/10.0 activates
// static mutants only after the module has loaded, so every one of them "survives"
// (stryker-js#6144).
process.env.MUTATION_TESTS = JSON.stringify(chosen.map((t) => inPackage(t.tests)));

/** @type {import("@stryker-mutator/api/core").PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  // Without the root config's globalSetup (it builds a template database the pure tests never use).
  vitest: { configFile: "vitest.mutation.config.ts" },
  mutate: chosen.map((t) => inPackage(t.mutate)),
  coverageAnalysis: "perTest",
  concurrency: 2,
  // Generous: on a busy 2-core machine a slow run must not pass for a killed (timed-out) mutant.
  timeoutMS: 20_000,
  // The sandbox copy needs only the package sources, tests and configs. tsconfig.json stays out:
  // Stryker rewrites it with TypeScript's compiler API, which TypeScript 7 no longer has (and ours
  // has no extends/references to rewrite); Vite finds the project's own file above the sandbox.
  ignorePatterns: ["/apps", "/bench", "/faults", "/drizzle", "/dist", "/scripts", "/test", "/docs", "/tsconfig.json"],
  reporters: ["json", "clear-text", "progress"],
  jsonReporter: { fileName: `reports/mutation/${target ?? "all"}.json` },
  clearTextReporter: { allowColor: false, reportTests: false, reportMutants: false },
  thresholds: { high: 90, low: 90, break: null },
  tempDirName: ".stryker-tmp",
  cleanTempDir: "always",
};
