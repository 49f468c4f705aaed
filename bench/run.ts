/**
 * `npm run bench` (`-- --quick` for a smoke run under two minutes, `-- --verbose` for child logs,
 * `-- --only webhook,delay,send,footprint,peers` for some phases: printed, bench/results.json untouched).
 * Brings up a scratch stack (database, queue prefix, fake Bot API limited to 30 sends/s per bot,
 * API, worker), runs the four measurements of issue 7 and writes bench/results.json plus a
 * markdown table. Everything it started is stopped and removed at the end, also on failure.
 */
import { writeFileSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { FakeClient } from "../scripts/lib/harness/fake-client.ts";
import { Stack } from "../scripts/lib/harness/stack.ts";
import { type Measured, markdownTable, resultsJson } from "./lib/report.ts";
import { RssTracker } from "./lib/rss.ts";
import { connectBots } from "./lib/setup.ts";
import { type PeersResult, peersPhase } from "./peers/phase.ts";
import { peersJson, peersMarkdown } from "./peers/report.ts";
import { createDelayJourneys, delayPhase } from "./phases/delay.ts";
import { redisFootprint } from "./phases/footprint.ts";
import { sendRatePhase } from "./phases/send-rate.ts";
import { webhookPhase } from "./phases/webhook.ts";

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
    only: { type: "string" },
  },
});
const quick = values.quick;
const PHASES = ["webhook", "delay", "send", "footprint", "peers"] as const;
const only = values.only?.split(",").map((p) => p.trim());
const unknown = only?.filter((p) => !(PHASES as readonly string[]).includes(p)) ?? [];
if (unknown.length) {
  console.error(`bench: unknown phase(s) ${unknown.join(", ")}; --only takes ${PHASES.join(",")}`);
  process.exit(2);
}
const runs = (p: (typeof PHASES)[number]) => !only || only.includes(p);
const plan = quick
  ? {
      webhookMs: 5_000,
      warmupMs: 1_000,
      usersPerBot: 10,
      questions: 30,
      withoutWorker: false,
      delayCount: 100,
      delayWindowMs: 2_000,
      delayWarmup: 50,
      lightDelay: false,
      perBot: 100,
      tenBotsPerBot: 30,
      peers: {
        usersPerBot: 10,
        rounds: 2,
        answersPerRound: 4,
        warmupMs: 500,
        killUsersPerBot: 5,
        kills: 1,
        killLoadMs: 1_500,
        delayCount: 100,
        delayWindowMs: 2_000,
        delayWarmup: 50,
      },
    }
  : {
      webhookMs: 60_000,
      warmupMs: 3_000,
      usersPerBot: 100,
      questions: 120,
      withoutWorker: true,
      delayCount: 1_000,
      delayWindowMs: 10_000,
      delayWarmup: 200,
      lightDelay: true,
      perBot: 600,
      tenBotsPerBot: 600,
      // Rounds of 7 answers per user: the third is 15–21 deep, where issue 19's goal (≈ 20) sits.
      peers: {
        usersPerBot: 100,
        rounds: 3,
        answersPerRound: 7,
        warmupMs: 3_000,
        killUsersPerBot: 25,
        kills: 2,
        killLoadMs: 3_000,
        delayCount: 1_000,
        delayWindowMs: 10_000,
        delayWarmup: 200,
      },
    };
const pending = quick ? 10_000 : 100_000;

// Development settings, the shared Redis under the run's prefix; the fake Bot API in its own
// process (it must not take this process's CPU), limited as Telegram limits a bot.
const stack = new Stack({ tool: "bench", verbose: values.verbose, fakeRateLimit: 30 });
const fake = () => new FakeClient(stack.fakeRoot);
const rss = new RssTracker(() => ({ api: stack.api?.child.pid, worker: stack.worker?.child.pid }));
const m: Measured = {
  date: new Date().toISOString(),
  cores: os.availableParallelism(),
  cpu: `${os.cpus()[0]?.model ?? "unknown"}, ${Math.round(os.totalmem() / 2 ** 30)} GB RAM`,
  quick,
  webhook: null,
  delay: null,
  delayHz100: null,
  delayLight: null,
  delayLightHz100: null,
  oneBot: null,
  tenBots: null,
  pending,
  apiRssMb: null,
  workerRssMb: null,
  redisBytesPerPending: null,
  failures: [],
};

let peers: PeersResult | null = null;

async function phase<T>(name: string, fn: () => Promise<T>): Promise<T | null> {
  const t0 = Date.now();
  try {
    const result = await fn();
    console.log(`${name}: done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return result;
  } catch (err) {
    console.error(`${name}: FAILED — ${(err as Error).stack ?? err}`);
    m.failures.push(`${name}: ${(err as Error).message}`);
    await stack.stopWorker().catch(() => undefined);
    return null;
  }
}

let interrupted = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    interrupted = true;
    console.error(`bench: ${signal}, cleaning up`);
    void stack.tearDown().finally(() => process.exit(130));
  });
}

try {
  const t0 = Date.now();
  await stack.start({ worker: false });
  console.log(`bench: database ${stack.dbName}, queue prefix ${stack.prefix}, ${m.cores} cores`);
  const bots = await connectBots(stack, 20, 4);
  const delayJourneys = await createDelayJourneys(stack, bots);

  if (runs("webhook"))
    m.webhook = await phase("webhook", () =>
      webhookPhase(stack, bots, fake(), rss, {
        durationMs: plan.webhookMs,
        warmupMs: plan.warmupMs,
        usersPerBot: plan.usersPerBot,
        questions: plan.questions,
        concurrency: 50,
        withoutWorker: plan.withoutWorker,
      }),
    );

  // The schedule (1,000 due in 10 s), then — full runs only — a light one (100 in 10 s) that
  // separates the queue's own timer lateness from the worker's throughput.
  const delayRuns = async (redisUrl: string, run: number) => {
    await stack.startWorker({ redisUrl });
    const opts = { count: plan.delayCount, windowMs: plan.delayWindowMs, leadMs: 3_000, redisUrl, run };
    // A worker just started opens its Postgres connections, prepares its statements and JITs its
    // code during its first second of fires: a warm-up schedule first, as a running worker would be.
    await delayPhase(stack, bots, delayJourneys, fake(), {
      ...opts,
      count: plan.delayWarmup,
      windowMs: 2_000,
      run: run + 20,
    });
    const main = await delayPhase(stack, bots, delayJourneys, fake(), opts);
    const light = plan.lightDelay
      ? await delayPhase(stack, bots, delayJourneys, fake(), { ...opts, count: 100, windowMs: 10_000, run: run + 10 })
      : null;
    rss.sample();
    await stack.stopWorker();
    return { main, light };
  };
  if (runs("delay")) {
    const shared = await phase("delay (shared Redis)", () => delayRuns(stack.redisUrl, 1));
    m.delay = shared?.main ?? null;
    m.delayLight = shared?.light ?? null;
    const hz100 = await phase("delay (redis-server --hz 100)", async () => {
      const redis = await stack.startRedis(["--hz", "100"]);
      try {
        return await delayRuns(redis.url, 2);
      } finally {
        await redis.stop();
      }
    });
    m.delayHz100 = hz100?.main ?? null;
    m.delayLightHz100 = hz100?.light ?? null;
  }

  if (runs("send")) {
    m.oneBot = await phase("send rate, 1 bot", () =>
      sendRatePhase(stack, bots.slice(0, 1), fake(), { perBot: plan.perBot, run: 1, probe: bots[19] }),
    );
    m.tenBots = await phase("send rate, 10 bots", () =>
      sendRatePhase(stack, bots.slice(1, 11), fake(), { perBot: plan.tenBotsPerBot, run: 2 }),
    );
  }
  rss.sample();
  await stack.stopWorker();
  if (runs("footprint")) m.redisBytesPerPending = await phase("footprint", () => redisFootprint(stack, pending));
  rss.stop();
  m.apiRssMb = rss.peakMb("api");
  m.workerRssMb = rss.peakMb("worker");
  // Last, after the RSS peaks are taken: it kills and restarts the API on purpose.
  if (runs("peers"))
    peers = await phase("peers", () =>
      peersPhase(stack, bots, delayJourneys, fake(), {
        ...plan.peers,
        questions: plan.questions,
        concurrency: 50,
        pgBossBatchSize: 100,
      }),
    );
  console.log(`bench: finished in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
} catch (err) {
  console.error(`bench: FAILED — ${(err as Error).stack ?? err}`);
  m.failures.push((err as Error).message);
} finally {
  rss.stop();
  if (!interrupted) await stack.tearDown();
}

if (!interrupted) {
  if (only) {
    console.log(`\n${markdownTable(m)}${peersTable()}\n\n--only ${only.join(",")}: bench/results.json not written`);
  } else {
    const url = new URL("results.json", import.meta.url);
    const results = { ...resultsJson(m), peers: peers ? peersJson(peers) : null };
    writeFileSync(url, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\n${markdownTable(m)}${peersTable()}\n\nwritten: bench/results.json`);
  }
  process.exit(m.failures.length ? 1 : 0);
}

/** The peers' rows, as a table of their own under the run's. */
function peersTable(): string {
  return peers ? peersMarkdown(peersJson(peers)) : "";
}
