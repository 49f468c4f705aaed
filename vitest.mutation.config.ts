import { defineConfig } from "vitest/config";

/**
 * Stryker's vitest config (stryker.config.mjs), used by nothing else: the root config minus its
 * globalSetup, which builds a template database the pure tests never use. The test files are the
 * chosen targets' own, handed over by stryker.config.mjs in MUTATION_TESTS.
 */
const include = JSON.parse(process.env.MUTATION_TESTS ?? "[]") as string[];
if (include.length === 0) throw new Error("vitest.mutation.config.ts runs under Stryker only: npm run test:mutation");

export default defineConfig({
  test: {
    include,
    testTimeout: 30_000,
    // Every mutant run imports its test files afresh. drizzle-orm (step-config.ts reads the step
    // types from db/schema.ts) is ~450 small modules; pre-bundled into one it loads about twice as fast.
    deps: { optimizer: { ssr: { enabled: true, include: ["drizzle-orm", "drizzle-orm/pg-core"] } } },
  },
});
