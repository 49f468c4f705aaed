/**
 * What `npm run test:image` checks by reading docker-compose.yml and the Dockerfile against the code
 * (running the services checks the rest): every variable config.ts reads reaches the services, the
 * order and settings the README promises, and commands that exist in a node image.
 */
import { readFileSync } from "node:fs";
import { HEAP_FLAGS, ROOT } from "../procs.ts";
import type { Compose } from "./compose.ts";
import type { Stage } from "./dockerfile.ts";

/** Services that load the config, and the variables they do not use (the worker and migrate listen nowhere). */
const CONFIG_READERS: Record<string, string[]> = { api: [], worker: ["HOST", "PORT"], migrate: ["HOST", "PORT"] };
/** What a node:<version>-slim container can run besides our files: a command found elsewhere fails there. */
const IMAGE_COMMANDS = ["node", "npm", "npx", "sh", "/bin/sh"];
const REDIS_FLAGS = [
  ["--appendonly", "yes"],
  ["--maxmemory-policy", "noeviction"],
  ["--hz", "100"],
];

/** The variables loadConfig reads, from its source: `get("X", …)`, `url("X", …)`, `int("X", …)`, `env.X`. */
export function configVariables(): string[] {
  const source = readFileSync(`${ROOT}packages/journeys/src/config.ts`, "utf8");
  const names = new Set<string>();
  for (const m of source.matchAll(/\b(?:get|url|int)\("([A-Z][A-Z0-9_]*)"|\benv\.([A-Z][A-Z0-9_]*)/g))
    names.add((m[1] ?? m[2])!);
  if (names.size < 5) throw new Error(`config.ts: found only ${[...names].join(", ")}; has its reader changed?`);
  return [...names].sort();
}

/** Throws listing every problem; returns what was checked. */
export function checkCompose(compose: Compose, dockerfile: Stage[]): string[] {
  const problems: string[] = [];
  const svc = (name: string) => {
    const s = compose.services.get(name);
    if (!s) throw new Error(`docker-compose.yml has no ${name} service`);
    return s;
  };

  const vars = configVariables();
  for (const [name, unused] of Object.entries(CONFIG_READERS)) {
    const missing = vars.filter((v) => !unused.includes(v) && !(v in svc(name).environment));
    if (missing.length) problems.push(`${name}'s environment lacks ${missing.join(", ")} (read by config.ts)`);
  }
  for (const name of ["api", "worker"])
    if (svc(name).dependsOn.get("migrate") !== "service_completed_successfully")
      problems.push(`${name} must depend on migrate with condition service_completed_successfully`);
  const redis = svc("redis").command.join(" ");
  for (const flag of REDIS_FLAGS) if (!redis.includes(flag.join(" "))) problems.push(`redis lacks ${flag.join(" ")}`);
  for (const name of ["postgres", "redis"]) {
    const named = svc(name)
      .volumes.map((v) => v.split(":")[0]!)
      .filter((v) => compose.volumes.includes(v));
    if (named.length === 0) problems.push(`${name} keeps its data in no named volume`);
  }
  for (const name of ["api", "worker"])
    if (!HEAP_FLAGS.every((f) => svc(name).command.includes(f)))
      problems.push(`${name}'s command lacks the heap budget ${HEAP_FLAGS.join(" ")} (scripts/lib/procs.ts)`);

  const last = dockerfile.at(-1)!;
  const cmd = last.steps.findLast((s) => s.op === "CMD");
  const user = last.steps.findLast((s) => s.op === "USER")?.args ?? "root";
  if (user === "root" || user === "0") problems.push("the image runs as root: add USER node");
  if (!cmd || JSON.stringify(JSON.parse(cmd.args)) !== JSON.stringify(svc("api").command))
    problems.push(`the image's CMD (${cmd?.args}) is not the api service's command`);
  for (const s of compose.services.values()) {
    if (!s.built) continue;
    for (const [what, argv] of [
      ["command", s.command],
      ["healthcheck", s.healthcheck],
    ] as const)
      if (argv?.length && !IMAGE_COMMANDS.includes(argv[0]!))
        problems.push(`${s.name}'s ${what} runs ${argv[0]}, which a node image lacks`);
  }

  if (problems.length) throw new Error(`docker-compose.yml / Dockerfile:\n  ${problems.join("\n  ")}`);
  return [
    `api, worker and migrate get every variable config.ts reads (${vars.join(", ")})`,
    "migrate completes before api and worker start; redis: AOF, noeviction, hz 100; named volumes",
    `api and worker run with ${HEAP_FLAGS.join(" ")}; the image's CMD is the api's command; USER ${user}`,
    "commands and healthchecks use only what a node image has",
  ];
}
