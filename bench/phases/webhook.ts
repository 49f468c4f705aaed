/**
 * 1. Webhook ingest: question-answer updates through the API's webhook route, 20 bots × 100 users,
 * 50 connections, from a separate driver process — with the worker running (its sends flow to the
 * fake at the rate limit, as in production) and, in a full run, once more without it. In the same
 * run and with the same driver and bodies: a bare Fastify route and a plain-`pg` transaction route.
 */
import { updates } from "@journeys/fake-telegram";
import type { StepSpec } from "../../scripts/lib/harness/admin-client.ts";
import type { FakeClient } from "../../scripts/lib/harness/fake-client.ts";
import type { Stack } from "../../scripts/lib/harness/stack.ts";
import { deliver } from "../../scripts/lib/harness/webhook.ts";
import { inParallel } from "../../scripts/lib/parallel.ts";
import { freePort, type Proc, startProc } from "../../scripts/lib/procs.ts";
import { dropOutboxBacklog, vacuum } from "../lib/db.ts";
import { type MeasuredLoad, runLoad } from "../lib/load-run.ts";
import type { RssTracker } from "../lib/rss.ts";
import type { BenchBot } from "../lib/setup.ts";
import type { LoadConfig } from "../load.ts";

export interface WebhookOptions {
  /** Question steps in the journey: more than a user can answer in all the runs. */
  questions: number;
  durationMs: number;
  warmupMs: number;
  usersPerBot: number;
  concurrency: number;
  withoutWorker: boolean;
}

export interface WebhookResult {
  ours: MeasuredLoad;
  oursWithoutWorker: MeasuredLoad | null;
  bare: MeasuredLoad;
  tx: MeasuredLoad;
  /** Messages the worker sent to the fake during our run. */
  sentDuringRun: number;
  /** Answers the sessions gained in each of our runs: one per update answered 200, else the run fails. */
  answersStored: { ours: number; oursWithoutWorker: number | null };
}

const START_PARAM = "bench_answers";
/** More questions than a user can answer in the runs, so every answer advances a live session. */
const questions = (n: number): StepSpec[] =>
  Array.from({ length: n }, (_, i) => ({
    step_type: "question",
    config: { text: `Question ${i + 1}?`, answer_key: `a${i + 1}`, validation: "text" },
  }));

const userId = (bot: number, user: number) => 2_000_000 + bot * 10_000 + user;

export async function webhookPhase(
  stack: Stack,
  bots: BenchBot[],
  fake: FakeClient,
  rss: RssTracker,
  opts: WebhookOptions,
): Promise<WebhookResult> {
  const t0 = Date.now();
  const elapsed = () => `${((Date.now() - t0) / 1000).toFixed(0)} s`;
  const steps = questions(opts.questions);
  await inParallel(bots, 5, (bot) =>
    bot.admin.createJourney(bot, { startParam: START_PARAM, steps, name: "Bench answers" }).then(() => undefined),
  );
  // Both ceiling servers start now (tsx start-up is slow on a busy machine); each serves only its run.
  const servers = { bare: startCeiling(stack, "bare"), tx: startCeiling(stack, "tx") };
  for (const server of Object.values(servers)) server.catch(() => undefined); // surfaces where awaited
  console.log(`webhook: ${bots.length} journeys of ${opts.questions} questions created (${elapsed()})`);
  try {
    return await measure(stack, bots, fake, rss, opts, servers, elapsed);
  } finally {
    await Promise.allSettled(Object.values(servers).map(async (server) => (await server).proc.stop()));
  }
}

async function measure(
  stack: Stack,
  bots: BenchBot[],
  fake: FakeClient,
  rss: RssTracker,
  opts: WebhookOptions,
  servers: Record<"bare" | "tx", Promise<CeilingServer>>,
  elapsed: () => string,
): Promise<WebhookResult> {
  // Every user starts the journey through the webhook; the worker sends each the first question.
  if (!stack.worker) await stack.startWorker();
  await fake.mark();
  const starts = bots.flatMap((bot, b) => Array.from({ length: opts.usersPerBot }, (_, u) => ({ bot, b, u })));
  let failed = 0;
  await inParallel(starts, 50, async ({ bot, b, u }, i) => {
    const update = updates.startCommand(START_PARAM, { updateId: 1 + i, userId: userId(b, u) });
    const { status } = await deliver(stack.apiUrl, bot, update);
    if (status !== 200) failed++;
  });
  if (failed) throw new Error(`${failed} of ${starts.length} /start updates were not answered 200`);
  console.log(`webhook: ${starts.length} /start updates answered (${elapsed()})`);
  const first = await fake.collect(starts.length, 120_000, (m) => m.text === "Question 1?");
  if (first.length < starts.length) throw new Error(`only ${first.length}/${starts.length} first questions sent`);
  console.log(`webhook: ${starts.length} users started over ${bots.length} bots (${elapsed()}); measuring`);

  const targets = bots.map((bot, b) => ({
    path: bot.path,
    secret: bot.secret,
    users: Array.from({ length: opts.usersPerBot }, (_, u) => userId(b, u)),
  }));
  const load = (baseUrl: string, updateIdBase: number): LoadConfig => ({
    baseUrl,
    targets,
    concurrency: opts.concurrency,
    durationMs: opts.durationMs,
    warmupMs: opts.warmupMs,
    updateIdBase,
  });

  // Ceilings first, with the worker stopped (they enqueue nothing).
  await stack.stopWorker();
  const bare = await measureCeiling(await servers.bare, (url, pid) =>
    runLoad(stack, load(url, 100_000_000), { server: pid }),
  );
  await vacuum(stack);
  const tx = await measureCeiling(await servers.tx, (url, pid) =>
    runLoad(stack, load(url, 200_000_000), { server: pid }),
  );
  await dropOutboxBacklog(stack); // the tx ceiling's outbox rows: never to be sent
  await vacuum(stack);
  console.log(`webhook: ceilings measured (${elapsed()})`);

  await stack.startWorker();
  await fake.reset();
  const [ours, storedOurs] = await countingAnswers(stack, () =>
    runLoad(stack, load(stack.apiUrl, 300_000_000), { api: stack.api?.child.pid, worker: stack.worker?.child.pid }),
  );
  const sentDuringRun = (await fake.stats()).sent;
  rss.sample();
  await stack.stopWorker();
  await dropOutboxBacklog(stack);

  let oursWithoutWorker: MeasuredLoad | null = null;
  let storedWithoutWorker: number | null = null;
  if (opts.withoutWorker) {
    await vacuum(stack);
    [oursWithoutWorker, storedWithoutWorker] = await countingAnswers(stack, () =>
      runLoad(stack, load(stack.apiUrl, 400_000_000), { api: stack.api?.child.pid }),
    );
    rss.sample();
    await dropOutboxBacklog(stack);
  }
  await vacuum(stack);
  return {
    ours,
    oursWithoutWorker,
    bare,
    tx,
    sentDuringRun,
    answersStored: { ours: storedOurs, oursWithoutWorker: storedWithoutWorker },
  };
}

/** Answers stored in all sessions (keys of their answers objects). */
async function storedAnswers(stack: Stack): Promise<number> {
  const { rows } = await stack.db.query<{ n: number }>(
    "SELECT coalesce(sum((SELECT count(*) FROM jsonb_object_keys(answers))), 0)::int AS n FROM journey_user_sessions",
  );
  return rows[0]!.n;
}

/**
 * A run of ours, checked: every update answered 200 must have stored its answer (each is a new
 * answer to a waiting question), so a fast figure cannot come from answers that did nothing.
 */
async function countingAnswers(stack: Stack, run: () => Promise<MeasuredLoad>): Promise<[MeasuredLoad, number]> {
  const before = await storedAnswers(stack);
  const result = await run();
  const stored = (await storedAnswers(stack)) - before;
  const answered = result.total_requests - result.errors;
  if (stored !== answered) {
    throw new Error(`${answered} updates answered 200 but ${stored} answers stored`);
  }
  console.log(`webhook: ${stored} answers stored, one per update answered`);
  return [result, stored];
}

interface CeilingServer {
  url: string;
  proc: Proc;
}

async function startCeiling(stack: Stack, mode: "bare" | "tx"): Promise<CeilingServer> {
  const port = await freePort();
  let ready: () => void = () => undefined;
  const listening = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const proc = stack.track(
    startProc(`ceiling-${mode}`, "bench/ceiling-server.ts", {
      args: ["--mode", mode, "--port", String(port), "--db", stack.dbUrl],
      quiet: true,
      onLine: (line) => (line === "listening" ? ready() : console.log(`[ceiling-${mode}] ${line}`)),
    }),
  );
  await Promise.race([
    listening,
    proc.exited.then((code) => {
      throw new Error(`ceiling server (${mode}) exited with ${code}`);
    }),
  ]);
  return { url: `http://127.0.0.1:${port}`, proc };
}

async function measureCeiling(
  server: CeilingServer,
  run: (baseUrl: string, pid: number | undefined) => Promise<MeasuredLoad>,
): Promise<MeasuredLoad> {
  try {
    return await run(server.url, server.proc.child.pid);
  } finally {
    await server.proc.stop();
  }
}
