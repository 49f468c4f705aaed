/**
 * `npm run test:image`: the Docker image's commands, tested without a container engine (none runs
 * on our machines). In a scratch folder it does what the Dockerfile does — the build context as
 * .dockerignore leaves it, each stage's COPY and RUN (`npm ci --omit=dev`, `npm ci` + `npm run
 * build`) — then runs docker-compose.yml's services from the last stage: their commands, their
 * environment (the compose defaults, with the variables an operator sets given test values), their
 * start-up order and healthchecks, with the compose network's host names mapped to loopback
 * (postgres and redis to the local servers, with a scratch database and queue prefix). Through the
 * running api and fake Bot API it loads the docs and dashboard pages, connects a bot, seeds, and
 * walks the seed journey to its last message. A file missing from the image or a run-time package
 * left in devDependencies fails it. What it cannot test is the container engine itself.
 *
 * Options (to prove that it fails when it should): --demote <package> moves a dependency to
 * devDependencies in the scratch copy; --dockerfile <path> builds another Dockerfile. --verbose
 * echoes the services' output.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { parseArgs } from "node:util";
import { Redis } from "ioredis";
import pg from "pg";
import { checkCompose } from "./lib/image/checks.ts";
import { type Compose, readCompose, type Service, startOrder } from "./lib/image/compose.ts";
import {
  type Container,
  type ContainerOptions,
  canSwitchUser,
  runOnce,
  startContainer,
} from "./lib/image/containers.ts";
import { copyContext, demote } from "./lib/image/context.ts";
import { type BuiltStage, buildStages, parseDockerfile, stopRunning } from "./lib/image/dockerfile.ts";
import { Network } from "./lib/image/network.ts";
import { checkPages, connectBot, type Stack, walkSeedJourney } from "./lib/image/walk.ts";
import { ROOT } from "./lib/procs.ts";

const { values } = parseArgs({
  options: {
    demote: { type: "string", multiple: true, default: [] },
    dockerfile: { type: "string", default: `${ROOT}Dockerfile` },
    verbose: { type: "boolean", default: false },
  },
});

/** Where the compose file's postgres and redis services are on this machine. */
const PG_ADDR = "127.0.0.1:5432";
const REDIS_ADDR = "127.0.0.1:6379";
const OVERALL_TIMEOUT_MS = 10 * 60_000;

const id = randomBytes(4).toString("hex");
const dbName = `journeys_image_${id}`;
const prefix = `image-${id}`;
/**
 * In memory where there is a tmpfs (unless TMPDIR says otherwise): the three installs are some
 * 45,000 files, and deleting them took 110 s on this machine's disk against 6 s in /dev/shm.
 */
const scratchParent = process.env.TMPDIR || (existsSync("/dev/shm") ? "/dev/shm" : tmpdir());
const scratch = mkdtempSync(`${scratchParent}/journeys-image-`);
// The services run as the image's non-root user: they must be able to read (only) what was copied.
chmodSync(scratch, 0o755);
const loopback = { pgAddr: PG_ADDR, redisAddr: REDIS_ADDR, dbName, echo: values.verbose };
const containers: Container[] = [];
const started = Date.now();
const log = (line: string) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s] ${line}`);

/** What an operator puts in the shell (or .env) for compose: production mode and its secrets. */
const shell: Record<string, string | undefined> = {
  NODE_ENV: "production",
  JWT_SECRET: randomBytes(32).toString("hex"),
  BOT_TOKEN_ENCRYPTION_KEY: randomBytes(32).toString("hex"),
  QUEUE_PREFIX: prefix,
  // The walk's last message waits for the sweeper: one second here instead of the default 30.
  SCHEDULER_SWEEP_INTERVAL_MS: "1000",
  LOG_LEVEL: "warn",
};

async function waitHealthy(c: Container, health: string[], opts: ContainerOptions, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!c.running()) throw new Error(`${c.name} exited before its healthcheck passed:\n${c.lines.join("\n")}`);
    if ((await runOnce(`${c.name}-health`, health, { ...opts, echo: false }, 5000)).code === 0) return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${c.name}'s healthcheck did not pass within ${timeoutMs} ms:\n${c.lines.join("\n")}`);
}

/** Bad input: production mode without a secret stops the service with a line naming it. */
async function checkMissingSecrets(compose: (shell: Record<string, string | undefined>) => Compose, image: BuiltStage) {
  const cases = [
    ["api", "JWT_SECRET"],
    ["api", "BOT_TOKEN_ENCRYPTION_KEY"],
    ["worker", "BOT_TOKEN_ENCRYPTION_KEY"],
  ] as const;
  const results = await Promise.all(
    cases.map(async ([service, variable]) => {
      const c = compose({ ...shell, [variable]: undefined });
      const net = new Network(c, loopback);
      await net.allocate();
      const { argv, opts } = net.service(c.services.get(service)!, image);
      return runOnce(`${service}-no-${variable}`, argv, opts, 30_000);
    }),
  );
  cases.forEach(([service, variable], i) => {
    const { code, output } = results[i]!;
    const line = output.split("\n").find((l) => l.startsWith(`config error: ${variable} is required`));
    if (code !== 1 || !line) throw new Error(`${service} without ${variable}: exit ${code}, output:\n${output}`);
    log(`${service} without ${variable}: exit 1, "${line}"`);
  });
}

async function main() {
  const dockerfile = parseDockerfile(readFileSync(values.dockerfile, "utf8"));
  const composeWith = (env: Record<string, string | undefined>) => readCompose(`${ROOT}docker-compose.yml`, env);
  const compose = composeWith(shell);
  for (const line of checkCompose(composeWith({}), dockerfile)) log(`compose: ${line}`);

  const context = `${scratch}/context`;
  mkdirSync(context);
  log(`build context: ${copyContext(context)} files (.dockerignore applied) in ${context}`);
  for (const name of values.demote)
    log(`--demote: ${name} moved to devDependencies in ${await demote(context, name)} (scratch copy)`);
  const stages = await buildStages(dockerfile, {
    context,
    scratch,
    // Reuse this machine's npm cache (the image build starts with an empty one).
    runEnv: { npm_config_prefer_offline: "true", npm_config_update_notifier: "false" },
    log,
  });
  const image = stages.get(dockerfile.at(-1)!.name)!;
  log(
    `image: ${image.root}${image.workdir}, USER ${image.user}` +
      (canSwitchUser() ? " (services run as uid 1000)" : " (not root here: services run as this user)"),
  );

  await checkMissingSecrets(composeWith, image);

  const admin = new pg.Client({ connectionString: `postgres://postgres@${PG_ADDR}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${dbName}"`);
  await admin.end();
  const net = new Network(compose, loopback);
  await net.allocate();
  const byName = new Map<string, Container>();
  const completed = new Set<string>();
  const run = (s: Service) => net.service(s, image);
  for (const name of startOrder(compose.services)) {
    const s = compose.services.get(name)!;
    if (!s.built) continue;
    for (const [dep, condition] of s.dependsOn) {
      const d = byName.get(dep);
      if (!d) continue; // postgres, redis: the machine's own, already up
      if (condition === "service_completed_successfully") {
        const code = await d.exited;
        if (code !== 0) throw new Error(`${dep} exited ${code}:\n${d.lines.join("\n")}`);
        if (!completed.has(dep)) log(`${dep}: completed (${d.lines.at(-1) ?? ""})`);
        completed.add(dep);
      } else if (condition === "service_healthy") {
        const { health, opts } = run(compose.services.get(dep)!);
        if (health) await waitHealthy(d, health, opts);
      }
    }
    const { argv, opts } = run(s);
    log(`${name}: ${argv.join(" ")}`);
    const c = startContainer(name, argv, opts);
    containers.push(c);
    byName.set(name, c);
  }
  for (const c of containers) {
    const { health, opts } = run(compose.services.get(c.name)!);
    if (health) {
      await waitHealthy(c, health, opts);
      log(`${c.name}: healthy (its compose healthcheck passed)`);
    }
  }

  const api = run(compose.services.get("api")!);
  const stack: Stack = {
    apiUrl: `http://127.0.0.1:${net.port("api", 3000)}`,
    fakeRoot: `http://127.0.0.1:${net.port("fake-telegram", 8081)}`,
    jwtSecret: shell.JWT_SECRET!,
    databaseUrl: api.opts.env.DATABASE_URL!,
    sweepIntervalMs: Number(api.opts.env.SCHEDULER_SWEEP_INTERVAL_MS),
    log,
  };
  await checkPages(stack);
  const bot = await connectBot(stack);
  const seed = await runOnce("seed", ["node", "dist/seed.js"], api.opts);
  if (seed.code !== 0 || !/Broker Sign Up journey created/.test(seed.output))
    throw new Error(`node dist/seed.js: exit ${seed.code}\n${seed.output}`);
  log(`seed (node dist/seed.js with the api's environment): ${seed.output.trim().split("\n").at(-1)}`);
  await walkSeedJourney(stack, bot);
  for (const c of containers)
    if (byName.get("migrate") !== c && !c.running()) throw new Error(`${c.name} stopped:\n${c.lines.join("\n")}`);
}

async function cleanUpOnce() {
  const t0 = Date.now();
  await stopRunning();
  await Promise.all(containers.map((c) => c.stop()));
  const t1 = Date.now();
  try {
    const admin = new pg.Client({ connectionString: `postgres://postgres@${PG_ADDR}/postgres` });
    await admin.connect();
    await admin.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await admin.end();
  } catch (err) {
    console.error(`cleanup: cannot drop ${dbName}: ${(err as Error).message}`);
  }
  try {
    const redis = new Redis(`redis://${REDIS_ADDR}`, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  } catch (err) {
    console.error(`cleanup: cannot delete ${prefix}:* from Redis: ${(err as Error).message}`);
  }
  const t2 = Date.now();
  rmSync(scratch, { recursive: true, force: true });
  log(`cleanup: stop ${t1 - t0} ms, db+redis ${t2 - t1} ms, rm ${Date.now() - t2} ms`);
}

/** Once, whoever asks first: the end of the run, a signal or the watchdog. */
let cleaning: Promise<void> | null = null;
const cleanUp = () => {
  cleaning ??= cleanUpOnce();
  return cleaning;
};

let failed = false;
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.once(signal, () => void cleanUp().then(() => process.exit(130)));
const watchdog = setTimeout(() => {
  console.error(`test-image: no result after ${OVERALL_TIMEOUT_MS / 60_000} min`);
  void cleanUp().then(() => process.exit(1));
}, OVERALL_TIMEOUT_MS);
try {
  await main();
} catch (err) {
  failed = true;
  console.error(`\nFAIL test-image: ${(err as Error).message}`);
  for (const c of containers)
    if (!values.verbose) console.error(`--- last output of ${c.name}:\n${c.lines.join("\n")}`);
} finally {
  clearTimeout(watchdog);
  await cleanUp();
}
log(failed ? "test-image failed" : "PASS test-image: the image's services start and walk the seed journey");
process.exit(failed ? 1 : 0);
