/**
 * The API and the worker run with a V8 heap budget (docs/operations.md): the npm scripts (development),
 * the image's commands (Dockerfile, docker-compose.yml: node dist/*.js) and the harness that starts
 * them for npm start, verify, the bench and the fault suite must give the same one, and the process
 * must actually get it.
 */
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";
import { ENTRY, HEAP_FLAGS, ROOT, TSX, tsxArgs } from "../scripts/lib/procs.ts";

const scripts = JSON.parse(readFileSync(`${ROOT}package.json`, "utf8")).scripts as Record<string, string>;

it("start:api, start:worker and the harness pass the same heap budget", () => {
  expect(scripts["start:api"]).toBe(`tsx ${HEAP_FLAGS.join(" ")} ${ENTRY.api}`);
  expect(scripts["start:worker"]).toBe(`tsx ${HEAP_FLAGS.join(" ")} ${ENTRY.worker}`);
  expect(tsxArgs(ENTRY.worker, ["x"])).toEqual([...HEAP_FLAGS, ENTRY.worker, "x"]);
  expect(tsxArgs(ENTRY.fakeTelegram)).toEqual([ENTRY.fakeTelegram]);
});

it("the image's commands give the same budget", () => {
  const flags = HEAP_FLAGS.map((f) => `"${f}"`).join(", ");
  expect(readFileSync(`${ROOT}Dockerfile`, "utf8")).toContain(`CMD ["node", ${flags}, "dist/api.js"]`);
  const compose = readFileSync(`${ROOT}docker-compose.yml`, "utf8");
  for (const app of ["api", "worker"]) expect(compose).toContain(`["node", ${flags}, "dist/${app}.js"]`);
});

it("tsx hands the budget to the node process it starts", () => {
  const limitMb = Number(
    execFileSync(
      TSX,
      [...HEAP_FLAGS, "-e", "console.log(require('node:v8').getHeapStatistics().heap_size_limit / 1048576)"],
      { cwd: ROOT, encoding: "utf8" },
    ).trim(),
  );
  const budget = Number(/--max-old-space-size=(\d+)/.exec(HEAP_FLAGS.join(" "))![1]);
  // The limit is the old generation's budget plus the young generation's.
  expect(limitMb).toBeGreaterThanOrEqual(budget);
  expect(limitMb).toBeLessThan(budget + 128);
});
