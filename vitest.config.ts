import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // Generous: some tests run real processes (worker restarts, SIGKILL recovery) on a 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Files run in parallel; each gets its own database and queue prefix.
    pool: "forks",
    maxWorkers: 2,
  },
});
