/**
 * Load driver, run as its own process (`tsx bench/load.ts <config.json>`) so its CPU is not the
 * server's event loop. `concurrency` loops each POST one Telegram answer update at a time over
 * keep-alive connections, for `warmupMs` (not counted) then `durationMs`, round-robin over every
 * (bot, user) pair — with more pairs than loops, one user never has two answers in flight.
 * Prints one JSON line: requests, errors (non-2xx or network), rate and latency percentiles (ms).
 */
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { updates } from "@journeys/fake-telegram";
import { percentile } from "./lib/stats.ts";

export interface LoadTarget {
  /** Path on the server, e.g. /telegram/webhook/<botId>. */
  path: string;
  secret: string;
  users: number[];
}

export interface LoadConfig {
  baseUrl: string;
  targets: LoadTarget[];
  concurrency: number;
  durationMs: number;
  warmupMs: number;
  /** First update_id; each request takes the next one, so every update is new to the server. */
  updateIdBase: number;
  /**
   * Stop after this many requests in all (warm-up included) rather than at the end of durationMs,
   * which stays a bound: round-robin then gives every user exactly requests / users answers, so two
   * servers can be measured at the same depth. The rate is then over the measured part's own span.
   */
  requests?: number;
}

export interface LoadResult {
  /** Completed inside the measured window. */
  requests: number;
  /** Completed in all, warm-up included. */
  total_requests: number;
  errors: number;
  statuses: Record<string, number>;
  seconds: number;
  per_s: number;
  p50_ms: number | null;
  p99_ms: number | null;
  max_ms: number | null;
  first_error?: string;
}

const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as LoadConfig;
const base = new URL(config.baseUrl);
const agent = new Agent({ keepAlive: true, maxSockets: config.concurrency, maxFreeSockets: config.concurrency });

// Pairs interleaved across bots so consecutive requests hit different bots.
const pairs: { target: LoadTarget; user: number }[] = [];
const most = Math.max(...config.targets.map((t) => t.users.length));
for (let i = 0; i < most; i++) {
  for (const target of config.targets) if (i < target.users.length) pairs.push({ target, user: target.users[i]! });
}

let next = 0;
let updateId = config.updateIdBase;

function post(target: LoadTarget, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: "POST",
        path: target.path,
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          "x-telegram-bot-api-secret-token": target.secret,
        },
      },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

const update = (user: number): string =>
  JSON.stringify(updates.textMessage("an answer", { updateId: updateId++, userId: user }));

const latencies: number[] = [];
const statuses: Record<string, number> = {};
let errors = 0;
let total = 0;
let firstError: string | undefined;
let started = 0;
let lastDone = 0;
const start = performance.now();
const measureFrom = start + config.warmupMs;
const end = measureFrom + config.durationMs;

async function loop() {
  while (performance.now() < end && (config.requests === undefined || started < config.requests)) {
    started++;
    const pair = pairs[next++ % pairs.length]!;
    const body = update(pair.user);
    const t0 = performance.now();
    let status: number;
    try {
      status = await post(pair.target, body);
    } catch (err) {
      status = 0;
      firstError ??= (err as Error).message;
    }
    const t1 = performance.now();
    total++;
    lastDone = t1;
    if (t0 < measureFrom || t1 > end) continue; // warm-up, or finished after the window
    latencies.push(t1 - t0);
    statuses[status] = (statuses[status] ?? 0) + 1;
    if (status < 200 || status > 299) errors++;
  }
}

await Promise.all(Array.from({ length: config.concurrency }, loop));
agent.destroy();
const sorted = Float64Array.from(latencies).sort();
const seconds =
  config.requests === undefined
    ? config.durationMs / 1000
    : Math.max(0.001, (Math.min(end, lastDone) - measureFrom) / 1000);
const result: LoadResult = {
  requests: sorted.length,
  total_requests: total,
  errors,
  statuses,
  seconds,
  per_s: (sorted.length - errors) / seconds,
  p50_ms: percentile(sorted, 50),
  p99_ms: percentile(sorted, 99),
  max_ms: sorted.length ? sorted[sorted.length - 1]! : null,
  ...(firstError ? { first_error: firstError } : {}),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
