/**
 * Worker tests run the worker as production does: `tsx apps/worker/src/main.ts` in a child process
 * with the test file's database and queue prefix, against the fake Bot API. Its log lines are kept
 * and printed when a test fails.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { afterAll, beforeAll, beforeEach } from "vitest";
import { startFakeTelegram } from "../../../packages/fake-telegram/src/index.ts";
import {
  createLogger,
  createQueues,
  type Dispatcher,
  processUpdate,
  producerConnection,
  type Queues,
  queueDispatcher,
  type RedisClient,
  type UpdateDeps,
  type WebhookBot,
} from "../../../packages/journeys/src/index.ts";
import { ENTRY, ROOT, TSX, tsxArgs } from "../../../scripts/lib/procs.ts";
import { createTestEnv, type TestEnv } from "../../../test/support/context.ts";

export interface WorkerProc {
  name: string;
  child: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  /** Messages of the JSON log lines, e.g. count("delay fired: session resumed"). */
  count(msg: string): number;
  /** SIGTERM (tsx relays it to the worker), then wait for the exit; SIGKILL after 15 s. */
  stop(): Promise<void>;
  /** SIGKILL the worker itself, not only the tsx wrapper: the whole process group. */
  kill(): Promise<void>;
}

const spawned: WorkerProc[] = [];

beforeEach((ctx) => {
  ctx.onTestFailed(() => {
    for (const w of spawned) {
      console.log(`---- ${w.name} (last 80 log lines) ----\n${w.lines.slice(-80).join("\n")}`);
    }
  });
});

afterAll(() => {
  // DUMP_WORKER_LOGS=1 prints every worker's log, passing or not (for looking at what they say).
  if (process.env.DUMP_WORKER_LOGS) for (const w of spawned) console.log(`---- ${w.name} ----\n${w.lines.join("\n")}`);
});

/**
 * Start a worker as production does (`tsx apps/worker/src/main.ts`) and wait until it logs
 * "worker ready". It runs in its own process group so that a SIGKILL reaches the Node process
 * tsx starts, not only tsx.
 */
export async function spawnWorker(
  env: TestEnv,
  apiRoot: string,
  name = `worker-${spawned.length + 1}`,
  extra: Record<string, string> = {},
): Promise<WorkerProc> {
  const child = spawn(TSX, tsxArgs(ENTRY.worker), {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: {
      ...process.env,
      ...env.env,
      LOG_LEVEL: "info",
      TELEGRAM_API_ROOT: apiRoot,
      SCHEDULER_SWEEP_INTERVAL_MS: "500",
      ...extra,
    },
  });
  const lines: string[] = [];
  let onReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => {
    onReady = resolve;
  });
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      lines.push(line);
      if (line.includes('"msg":"worker ready"')) onReady();
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const killGroup = () => {
    try {
      process.kill(-child.pid!, "SIGKILL");
    } catch {
      // already gone
    }
  };
  const worker: WorkerProc = {
    name,
    child,
    lines,
    exited,
    count: (msg) => lines.filter((l) => l.includes(`"msg":"${msg}"`)).length,
    async stop() {
      if (alive()) {
        child.kill("SIGTERM");
        const timer = setTimeout(killGroup, 15_000);
        await exited;
        clearTimeout(timer);
      }
      killGroup(); // nothing of the group may outlive the test
    },
    async kill() {
      killGroup();
      if (alive()) await exited;
    },
  };
  spawned.push(worker);
  // A worker its test did not stop (the test failed first) is killed before the file's database and
  // queue prefix are deleted, not after: alive then, it would write the prefix's keys back.
  env.beforeCleanup(() => worker.kill());
  let timer: NodeJS.Timeout | undefined;
  const failed = Promise.race([
    exited.then((code) => `exited (code ${code})`),
    new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve("was not ready after 30 s"), 30_000);
    }),
  ]).then((why) => {
    throw new Error(`${name} ${why}:\n${lines.slice(-30).join("\n")}`);
  });
  try {
    await Promise.race([ready, failed]);
  } finally {
    clearTimeout(timer);
  }
  failed.catch(() => undefined);
  return worker;
}

/** Poll `check` until it returns a value other than undefined/false. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The queue side of the API, on the test's prefix: what processUpdate's dispatcher enqueues to. */
export function testQueues(env: TestEnv): {
  redis: RedisClient;
  queues: Queues;
  dispatcher: Dispatcher;
  close(): Promise<void>;
} {
  const redis = producerConnection(env.config);
  redis.on("error", () => undefined); // the dispatcher logs failed enqueues; tests may stop Redis
  const queues = createQueues(redis, env.config.queuePrefix);
  return {
    redis,
    queues,
    dispatcher: queueDispatcher(queues, createLogger("silent")),
    async close() {
      await queues.close();
      redis.disconnect();
    },
  };
}

let updateId = 1;

/** A Telegram user typing `text` to the bot, processed as the webhook would. */
export function userSays(deps: UpdateDeps, bot: WebhookBot, userId: number, text: string) {
  const id = updateId++;
  return processUpdate(deps, bot, {
    update_id: id,
    message: {
      message_id: id,
      date: Math.floor(Date.now() / 1000),
      text,
      chat: { id: userId, type: "private" },
      from: { id: userId, is_bot: false, first_name: "U" },
    },
  });
}

export function updateDeps(env: TestEnv, dispatcher: Dispatcher): UpdateDeps {
  return {
    db: env.handle.db,
    encryptionKey: env.config.botTokenEncryptionKey,
    dispatcher,
    log: createLogger("silent"),
  };
}

export { inParallel } from "../../../scripts/lib/parallel.ts";

/**
 * A worker test file's set-up: its database and queue prefix (`createTestEnv(envOverrides)`), the
 * fake Bot API, the queue side, the update deps, and one worker process ("worker", with `workerEnv`)
 * started in beforeAll. The matching afterAll stops the worker, closes the queues and the fake, then
 * runs `afterClose`. Call it at the top level of the test file, after anything `envOverrides` needs.
 */
export async function workerTestFile(
  options: {
    envOverrides?: Record<string, string>;
    workerEnv?: Record<string, string>;
    afterClose?: () => Promise<void>;
  } = {},
) {
  const env = await createTestEnv(options.envOverrides);
  const fake = await startFakeTelegram();
  const q = testQueues(env);
  const deps = updateDeps(env, q.dispatcher);
  let worker: WorkerProc | undefined;

  beforeAll(async () => {
    worker = await spawnWorker(env, fake.apiRoot, "worker", options.workerEnv);
  });

  afterAll(async () => {
    await worker?.stop();
    await q.close();
    await fake.close();
    await options.afterClose?.();
  });

  return {
    env,
    fake,
    q,
    deps,
    /** The file's worker; started in beforeAll, so call this from tests, not at the top level. */
    worker(): WorkerProc {
      if (!worker) throw new Error("the worker is started in beforeAll: ask for it from a test");
      return worker;
    },
  };
}
