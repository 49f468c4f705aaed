/**
 * Peers: what a user would pick instead, measured in the same run as ours, alternating.
 *
 * - grammY conversations (bench/peers/grammy-conversations.ts) against our webhook path: the same
 *   bots' users (20 × 100), the same 120-question text journey, the same load driver
 *   (bench/load.ts, 50 connections), in rounds that take every user the same number of answers
 *   deeper on both sides (the driver stops at a request count), so each round compares the two at
 *   the same depth; the order inside a round alternates. Then a kill run for each: SIGKILL of the
 *   server under load, a restart, every update not answered 2xx delivered again, and per user what
 *   was applied twice or lost.
 * - pg-boss (bench/peers/pg-boss.ts) against our delays: the same schedule, lateness when the fake
 *   received the message.
 */
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { updates } from "@journeys/fake-telegram";
import type { StepSpec } from "../../scripts/lib/harness/admin-client.ts";
import type { FakeClient, SentMessage } from "../../scripts/lib/harness/fake-client.ts";
import { requestJson } from "../../scripts/lib/harness/http.ts";
import type { Stack } from "../../scripts/lib/harness/stack.ts";
import { deliver } from "../../scripts/lib/harness/webhook.ts";
import { inParallel } from "../../scripts/lib/parallel.ts";
import { freePort, type Proc, startProc } from "../../scripts/lib/procs.ts";
import { dropOutboxBacklog } from "../lib/db.ts";
import { type MeasuredLoad, runLoad } from "../lib/load-run.ts";
import { cpuMs } from "../lib/rss.ts";
import type { BenchBot } from "../lib/setup.ts";
import { type Summary, summarize } from "../lib/stats.ts";
import type { LoadConfig, LoadTarget } from "../load.ts";
import { delayPhase } from "../phases/delay.ts";
import type { PeerBot, PeerConfig } from "./grammy-conversations.ts";
import { killRun } from "./kill-driver.ts";
import type { PgBossConfig } from "./pg-boss.ts";
import { backendCpu, backendCpuSince } from "./pg-cpu.ts";

export interface PeersOptions {
  usersPerBot: number;
  questions: number;
  concurrency: number;
  /** Rounds of the webhook comparison; each takes every user `answersPerRound` answers deeper. */
  rounds: number;
  answersPerRound: number;
  warmupMs: number;
  killUsersPerBot: number;
  /** SIGKILLs per kill run, each after `killLoadMs` of answers (and as long after the last restart). */
  kills: number;
  killLoadMs: number;
  delayCount: number;
  delayWindowMs: number;
  delayWarmup: number;
  /** pg-boss jobs per fetch. */
  pgBossBatchSize: number;
}

/** One side's run at one depth. */
export interface PeerRun {
  load: MeasuredLoad;
  /** Answers the side stored during the run: equal to the updates answered 2xx, or the run did wrong. */
  stored: number;
  /**
   * CPU ms per answer: the server (our API; the peer's process), our worker (its CPU over the
   * questions it sent during the run: one per answer), Postgres (the database's backends).
   */
  cpu: { server: number | null; worker: number | null; postgres: number | null };
}

export interface PeerRound {
  depthFrom: number;
  depthTo: number;
  first: "ours" | "peer";
  ours: PeerRun;
  peer: PeerRun;
}

export interface KillResult {
  users: number;
  answered: number;
  redeliveries: number;
  undelivered: number;
  kills: number;
  /** Users with an update applied more than once (an answer stored twice, or a question skipped). */
  usersDoubled: number;
  /** Of those, users with one update taken as the answer to two questions: the next one was skipped. */
  usersSkipped: number;
  /** Users with an update answered 2xx whose answer is not stored. */
  usersLost: number;
  /** Messages sent to a chat more than once (the same question again). */
  messagesResent: number;
}

export interface DelayPeer extends Summary {
  received: number;
  cpuMsPerFire: number | null;
}

export interface PeersResult {
  users: number;
  concurrency: number;
  questions: number;
  rounds: PeerRound[];
  kill: { ours: KillResult; peer: KillResult } | null;
  delay: { count: number; windowMs: number; batchSize: number; ours: DelayPeer; pgBoss: DelayPeer } | null;
}

const START_PARAM = "bench_peers";
const PGBOSS_TEXT = "pg-boss: after the delay";
const userId = (bot: number, user: number) => 2_500_000 + bot * 10_000 + user;
const killUserId = (bot: number, user: number) => 2_700_000 + bot * 10_000 + user;
const questionSteps = (n: number): StepSpec[] =>
  Array.from({ length: n }, (_, i) => ({
    step_type: "question",
    config: { text: `Question ${i + 1}?`, answer_key: `a${i + 1}`, validation: "text" },
  }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function peersPhase(
  stack: Stack,
  bots: BenchBot[],
  delayJourneys: { journeyId: string; stepId: string }[],
  fake: FakeClient,
  opts: PeersOptions,
): Promise<PeersResult> {
  const t0 = Date.now();
  const say = (what: string) => console.log(`peers: ${what} (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  // The peer answers every update with its own sendMessage and has no throttle: the fake's per-bot
  // limit would fail its updates. Ours keeps to Telegram's limit with its own limiter either way.
  await setFakeRateLimit(stack, null);
  const peer = new PeerServer(stack, bots, opts.questions);
  try {
    const steps = questionSteps(opts.questions);
    await inParallel(bots, 5, (bot) =>
      bot.admin.createJourney(bot, { startParam: START_PARAM, steps, name: "Bench peers" }).then(() => undefined),
    );
    await peer.start();
    if (!stack.worker) await stack.startWorker();
    say("journeys created, peer listening");

    const users = bots.map((_, b) => Array.from({ length: opts.usersPerBot }, (_, u) => userId(b, u)));
    await startUsers(stack, bots, fake, peer, users, 700_000_000);
    say(`${users.flat().length} users started on each side`);

    const rounds: PeerRound[] = [];
    for (let r = 1; r <= opts.rounds; r++) {
      const depthFrom = (r - 1) * opts.answersPerRound + 1;
      const depthTo = r * opts.answersPerRound;
      const first = r % 2 === 1 ? "ours" : "peer";
      const runs: Partial<Record<"ours" | "peer", PeerRun>> = {};
      for (const side of first === "ours" ? (["ours", "peer"] as const) : (["peer", "ours"] as const)) {
        const config = (baseUrl: string, targets: LoadTarget[], base: number): LoadConfig => ({
          baseUrl,
          targets,
          concurrency: opts.concurrency,
          durationMs: 600_000,
          warmupMs: opts.warmupMs,
          updateIdBase: base + r * 10_000_000,
          requests: users.flat().length * opts.answersPerRound,
        });
        runs[side] =
          side === "ours"
            ? await oursRun(stack, fake, config(stack.apiUrl, oursTargets(bots, users), 500_000_000), users.flat())
            : await peerRun(stack, peer, config(peer.url, peer.targets(users), 600_000_000));
        const run = runs[side]!;
        say(
          `round ${r} (answers ${depthFrom}–${depthTo}), ${side}: ${run.load.per_s.toFixed(0)}/s, p99 ${run.load.p99_ms?.toFixed(1)} ms, ${run.load.errors} errors, ${run.stored} stored`,
        );
      }
      rounds.push({ depthFrom, depthTo, first, ours: runs.ours!, peer: runs.peer! });
    }

    let kill: PeersResult["kill"] = null;
    if (opts.kills > 0) {
      const killUsers = bots.map((_, b) => Array.from({ length: opts.killUsersPerBot }, (_, u) => killUserId(b, u)));
      await startUsers(stack, bots, fake, peer, killUsers, 710_000_000);
      const ours = await killOurs(stack, bots, fake, killUsers, opts);
      say(`kill, ours: ${JSON.stringify(ours)}`);
      const theirs = await killPeer(stack, peer, fake, killUsers, opts);
      say(`kill, peer: ${JSON.stringify(theirs)}`);
      kill = { ours, peer: theirs };
    }
    await peer.stop();

    let delay: PeersResult["delay"] = null;
    if (opts.delayCount > 0) {
      const ours = await oursDelay(stack, bots, delayJourneys, fake, opts);
      say(`delay, ours: p50 ${ours.p50?.toFixed(1)} / p99 ${ours.p99?.toFixed(1)} ms`);
      const pgBoss = await pgBossDelay(stack, peer.bots, fake, opts);
      say(`delay, pg-boss: p50 ${pgBoss.p50?.toFixed(1)} / p99 ${pgBoss.p99?.toFixed(1)} ms`);
      delay = { count: opts.delayCount, windowMs: opts.delayWindowMs, batchSize: opts.pgBossBatchSize, ours, pgBoss };
    }
    return {
      users: users.flat().length,
      concurrency: opts.concurrency,
      questions: opts.questions,
      rounds,
      kill,
      delay,
    };
  } finally {
    await peer.stop().catch(() => undefined);
    await stack.stopWorker();
    await setFakeRateLimit(stack, 30).catch(() => undefined);
  }
}

async function setFakeRateLimit(stack: Stack, perSecond: number | null): Promise<void> {
  await requestJson(`${stack.fakeRoot}/_fake/rate-limit`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ per_second: perSecond }),
  });
}

/** The grammY server as a child process; a crash and a start again for the kill run. */
class PeerServer {
  readonly bots: PeerBot[];
  url = "";
  private proc: Proc | undefined;
  private file = "";

  constructor(
    private readonly stack: Stack,
    ours: BenchBot[],
    private readonly questions: number,
  ) {
    // Bot ids of their own, so the fake's records of the two sides never mix.
    this.bots = ours.map((_, i) => {
      const id = 9_100_000_000 + i;
      return {
        token: `${id}:${randomBytes(24).toString("base64url")}`,
        path: `/bot/${id}`,
        secret: randomBytes(24).toString("hex"),
      };
    });
  }

  get pid(): number | undefined {
    return this.proc?.child.pid;
  }

  get botIds(): Set<number> {
    return new Set(this.bots.map((b) => Number(b.token.slice(0, b.token.indexOf(":")))));
  }

  targets(users: number[][]): LoadTarget[] {
    return this.bots.map((b, i) => ({ path: b.path, secret: b.secret, users: users[i]! }));
  }

  async start(): Promise<void> {
    if (!this.url) {
      const port = await freePort();
      this.url = `http://127.0.0.1:${port}`;
      this.file = join(tmpdir(), `journeys-bench-peer-${this.stack.id}.json`);
      const config: PeerConfig = {
        port,
        db: this.stack.dbUrl,
        apiRoot: this.stack.fakeRoot,
        questions: this.questions,
        bots: this.bots,
      };
      writeFileSync(this.file, JSON.stringify(config));
    }
    let ready: () => void = () => undefined;
    const listening = new Promise<void>((resolve) => {
      ready = resolve;
    });
    const proc = this.stack.track(
      startProc("grammy", "bench/peers/grammy-conversations.ts", {
        args: [this.file],
        quiet: true,
        onLine: (line) => (line === "listening" ? ready() : console.log(`[grammy] ${line.slice(0, 400)}`)),
      }),
    );
    this.proc = proc;
    await Promise.race([
      listening,
      proc.exited.then((code) => {
        throw new Error(`the grammY peer exited with ${code}`);
      }),
    ]);
  }

  async crash(): Promise<void> {
    await this.proc?.crash();
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    if (this.file) rmSync(this.file, { force: true });
  }
}

function oursTargets(bots: BenchBot[], users: number[][]): LoadTarget[] {
  return bots.map((bot, b) => ({ path: bot.path, secret: bot.secret, users: users[b]! }));
}

/** /start for every user on both sides; ours waits for the worker to send each the first question. */
async function startUsers(
  stack: Stack,
  bots: BenchBot[],
  fake: FakeClient,
  peer: PeerServer,
  users: number[][],
  updateIdBase: number,
): Promise<void> {
  const starts = users.flatMap((list, b) => list.map((user) => ({ b, user })));
  if (!stack.worker) await stack.startWorker();
  await fake.mark();
  let failed = 0;
  await inParallel(starts, 50, async ({ b, user }, i) => {
    const update = updates.startCommand(START_PARAM, { updateId: updateIdBase + i, userId: user });
    const [a, z] = await Promise.all([
      deliver(stack.apiUrl, bots[b]!, update),
      deliver(peer.url, peer.bots[b]!, update),
    ]);
    if (a.status !== 200 || z.status !== 200) failed++;
  });
  if (failed) throw new Error(`${failed} of ${starts.length} /start updates were not answered 200 by both`);
  const ours = new Set(bots.map((b) => b.telegramBotId));
  const chats = new Set(starts.map((s) => s.user));
  const got = await fake.collect(
    starts.length * 2,
    120_000,
    (m) => m.text === "Question 1?" && chats.has(m.chatId) && (ours.has(m.botId) || peer.botIds.has(m.botId)),
  );
  if (got.length < starts.length * 2) throw new Error(`only ${got.length}/${starts.length * 2} first questions sent`);
}

/** Answers stored in the sessions of `users` (keys of their answers objects). */
async function oursStored(stack: Stack, users: number[]): Promise<Map<number, number>> {
  const { rows } = await stack.db.query<{ u: string; n: number }>(
    `SELECT telegram_user_id AS u, (SELECT count(*) FROM jsonb_object_keys(answers))::int AS n
       FROM journey_user_sessions WHERE telegram_user_id = ANY($1::bigint[])`,
    [users],
  );
  const out = new Map<number, number>();
  for (const r of rows) out.set(Number(r.u), (out.get(Number(r.u)) ?? 0) + r.n);
  return out;
}

const total = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);

/** Until the worker has sent every question our run wrote for `chats` (no pending outbox row). */
async function drainOutbox(stack: Stack, chats: number[], timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { rows } = await stack.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM journey_outbox WHERE status = 'pending' AND telegram_chat_id = ANY($1::bigint[])",
      [chats],
    );
    if (rows[0]!.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${rows[0]!.n} outbox rows still pending after ${timeoutMs} ms`);
    await sleep(250);
  }
}

async function oursRun(stack: Stack, fake: FakeClient, config: LoadConfig, users: number[]): Promise<PeerRun> {
  if (!stack.worker) await stack.startWorker();
  const before = total(await oursStored(stack, users));
  const sent0 = (await fake.stats()).sent;
  const pg0 = backendCpu(stack.dbName);
  const load = await runLoad(stack, config, { api: stack.api?.child.pid, worker: stack.worker?.child.pid });
  const pgMs = backendCpuSince(stack.dbName, pg0);
  const sent = (await fake.stats()).sent - sent0;
  // Our next question leaves through the worker at Telegram's pace, partly after the run: the
  // worker's CPU per question it sent meanwhile stands for the send each answer makes (the peer
  // sends inside its request). The rest is dropped, as the webhook phase does, so it never runs
  // under the peer's figures; waiting for it to drain would cost most of a minute per run.
  await stack.stopWorker();
  await dropOutboxBacklog(stack);
  const stored = total(await oursStored(stack, users)) - before;
  const n = load.total_requests;
  const workerMs = load.cpuMsPerRequest.worker;
  return {
    load,
    stored,
    cpu: {
      server: load.cpuMsPerRequest.api ?? null,
      worker: workerMs != null && sent > 0 ? (workerMs * n) / sent : null,
      postgres: pgMs !== null && n ? pgMs / n : null,
    },
  };
}

async function peerStored(stack: Stack): Promise<number> {
  const { rows } = await stack.db.query<{ n: number }>("SELECT count(*)::int AS n FROM grammy_answers");
  return rows[0]!.n;
}

async function peerRun(stack: Stack, peer: PeerServer, config: LoadConfig): Promise<PeerRun> {
  const before = await peerStored(stack);
  const pg0 = backendCpu(stack.dbName);
  const load = await runLoad(stack, config, { server: peer.pid });
  const pgMs = backendCpuSince(stack.dbName, pg0);
  const n = load.total_requests;
  return {
    load,
    stored: (await peerStored(stack)) - before,
    cpu: { server: load.cpuMsPerRequest.server ?? null, worker: null, postgres: pgMs !== null && n ? pgMs / n : null },
  };
}

/** Messages sent to `chats` by `botIds` since the fake's mark, then the copies beyond the first of each. */
async function resentMessages(fake: FakeClient, chats: Set<number>, botIds: Set<number>): Promise<number> {
  const got: SentMessage[] = await fake.collect(
    Number.MAX_SAFE_INTEGER,
    3_000,
    (m) => chats.has(m.chatId) && botIds.has(m.botId),
  );
  const seen = new Map<string, number>();
  for (const m of got) {
    const key = `${m.botId}:${m.chatId}:${m.text}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return [...seen.values()].reduce((a, n) => a + n - 1, 0);
}

async function killOurs(
  stack: Stack,
  bots: BenchBot[],
  fake: FakeClient,
  users: number[][],
  opts: PeersOptions,
): Promise<KillResult> {
  const flat = users.flat();
  if (!stack.worker) await stack.startWorker();
  const before = await oursStored(stack, flat);
  await fake.mark();
  const run = await killRun({
    baseUrl: () => stack.apiUrl,
    targets: oursTargets(bots, users),
    concurrency: opts.concurrency,
    kills: opts.kills,
    loadMs: opts.killLoadMs,
    updateIdBase: 800_000_000,
    kill: async () => {
      await stack.crash(stack.api!);
      await stack.startApi();
    },
  });
  await drainOutbox(stack, flat);
  const after = await oursStored(stack, flat);
  let usersDoubled = 0;
  let usersLost = 0;
  for (const user of flat) {
    const stored = (after.get(user) ?? 0) - (before.get(user) ?? 0);
    const acked = run.acked.get(user)?.length ?? 0;
    if (stored > acked) usersDoubled++;
    if (stored < acked) usersLost++;
  }
  // Our answers are keyed by question: one more than the updates answered is a question advanced twice.
  const usersSkipped = usersDoubled;
  const messagesResent = await resentMessages(fake, new Set(flat), new Set(bots.map((b) => b.telegramBotId)));
  return { users: flat.length, ...counts(run), usersDoubled, usersSkipped, usersLost, messagesResent };
}

async function killPeer(
  stack: Stack,
  peer: PeerServer,
  fake: FakeClient,
  users: number[][],
  opts: PeersOptions,
): Promise<KillResult> {
  const flat = users.flat();
  await fake.mark();
  const run = await killRun({
    baseUrl: () => peer.url,
    targets: peer.targets(users),
    concurrency: opts.concurrency,
    kills: opts.kills,
    loadMs: opts.killLoadMs,
    updateIdBase: 900_000_000,
    kill: async () => {
      await peer.crash();
      await peer.start();
    },
  });
  // Each stored answer names the update it came from: an update stored twice was applied twice.
  // Stored twice for one question: the external write ran again when a redelivered update replayed
  // a step whose state was not saved. Stored for two questions: the state was saved but the answer
  // never reached Telegram, so the redelivered update answered the next question too.
  const { rows } = await stack.db.query<{ chat: string; update_id: string; n: number; questions: number }>(
    `SELECT chat_id AS chat, update_id, count(*)::int AS n, count(DISTINCT question)::int AS questions
       FROM grammy_answers WHERE chat_id = ANY($1::bigint[]) GROUP BY chat_id, update_id`,
    [flat],
  );
  const applied = new Map<number, { id: number; n: number; questions: number }[]>();
  for (const r of rows) {
    const list = applied.get(Number(r.chat)) ?? [];
    list.push({ id: Number(r.update_id), n: r.n, questions: r.questions });
    applied.set(Number(r.chat), list);
  }
  let usersDoubled = 0;
  let usersSkipped = 0;
  let usersLost = 0;
  for (const user of flat) {
    const list = applied.get(user) ?? [];
    if (list.some((a) => a.n > 1)) usersDoubled++;
    if (list.some((a) => a.questions > 1)) usersSkipped++;
    const ids = new Set(list.map((a) => a.id));
    if ((run.acked.get(user) ?? []).some((id) => !ids.has(id))) usersLost++;
  }
  const messagesResent = await resentMessages(fake, new Set(flat), peer.botIds);
  return { users: flat.length, ...counts(run), usersDoubled, usersSkipped, usersLost, messagesResent };
}

function counts(run: Awaited<ReturnType<typeof killRun>>) {
  return { answered: run.answered, redeliveries: run.redeliveries, undelivered: run.undelivered, kills: run.kills };
}

/** Our delay phase's schedule with the worker running (a warm-up schedule first, as there). */
async function oursDelay(
  stack: Stack,
  bots: BenchBot[],
  journeys: { journeyId: string; stepId: string }[],
  fake: FakeClient,
  opts: PeersOptions,
): Promise<DelayPeer> {
  if (!stack.worker) await stack.startWorker();
  const base = { windowMs: opts.delayWindowMs, leadMs: 3_000, redisUrl: stack.redisUrl };
  await delayPhase(stack, bots, journeys, fake, { ...base, count: opts.delayWarmup, windowMs: 2_000, run: 41 });
  const d = await delayPhase(stack, bots, journeys, fake, { ...base, count: opts.delayCount, run: 40 });
  return {
    count: d.count,
    p50: d.p50,
    p99: d.p99,
    max: d.max,
    received: d.received,
    cpuMsPerFire: d.workerCpuMsPerMessage,
  };
}

/** pg-boss in its own process: a warm-up schedule, then the same schedule as ours. */
async function pgBossDelay(
  stack: Stack,
  peerBots: PeerBot[],
  fake: FakeClient,
  opts: PeersOptions,
): Promise<DelayPeer> {
  await stack.stopWorker(); // ours is idle by now; the peer's run is its own
  const chatBase = 8_100_000;
  const config: PgBossConfig = {
    db: stack.dbUrl,
    apiRoot: stack.fakeRoot,
    tokens: peerBots.map((b) => b.token),
    text: PGBOSS_TEXT,
    leadMs: 3_000,
    batchSize: opts.pgBossBatchSize,
    schedules: [
      { count: opts.delayWarmup, windowMs: 2_000, chatBase: 8_000_000 },
      { count: opts.delayCount, windowMs: opts.delayWindowMs, chatBase },
    ],
  };
  const file = join(tmpdir(), `journeys-bench-pgboss-${stack.id}.json`);
  writeFileSync(file, JSON.stringify(config));
  let mainStart: (start: number) => void = () => undefined;
  const started = new Promise<number>((resolve) => {
    mainStart = resolve;
  });
  await fake.mark();
  const proc = stack.track(
    startProc("pg-boss", "bench/peers/pg-boss.ts", {
      args: [file],
      quiet: true,
      onLine: (line) => {
        const m = /^\{"schedule":1,"start":(\d+)\}$/.exec(line);
        if (m) mainStart(Number(m[1]));
        else if (line !== "done" && !line.startsWith('{"schedule"')) console.log(`[pg-boss] ${line.slice(0, 400)}`);
      },
    }),
  );
  try {
    const start = await Promise.race([
      started,
      proc.exited.then((code) => {
        throw new Error(`pg-boss peer exited with ${code} before its schedule`);
      }),
    ]);
    const cpu0 = cpuMs(proc.child.pid);
    const due = (chat: number) => start + Math.floor(((chat - chatBase) * opts.delayWindowMs) / opts.delayCount);
    const inMain = (chat: number) => chat >= chatBase && chat < chatBase + opts.delayCount;
    const got = await fake.collect(
      opts.delayCount,
      start - Date.now() + opts.delayWindowMs + 60_000,
      (m) => m.text === PGBOSS_TEXT && inMain(m.chatId),
    );
    const cpu1 = cpuMs(proc.child.pid);
    return {
      ...summarize(got.map((m) => m.at - due(m.chatId))),
      count: opts.delayCount,
      received: got.length,
      cpuMsPerFire: cpu0 !== null && cpu1 !== null && got.length ? (cpu1 - cpu0) / got.length : null,
    };
  } finally {
    await proc.stop();
    rmSync(file, { force: true });
  }
}
