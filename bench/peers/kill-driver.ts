/**
 * The kill phase's Telegram: answers posted as bench/load.ts posts them (one per user at a time,
 * `concurrency` at once, the bot's secret header, a new update_id each), but every update not
 * answered 2xx — a 5xx, a refused or cut connection while the server is down — is delivered again,
 * the same body, until it is, as Telegram does; the user sends nothing else meanwhile. After
 * `loadMs` of answers `kill` is called (it SIGKILLs the server and starts it again), `kills` times,
 * with `loadMs` of answers after each restart.
 * Runs in the bench process: what it measures is what was applied, not how fast.
 */
import { Agent, request } from "node:http";
import { updates } from "@journeys/fake-telegram";
import type { LoadTarget } from "../load.ts";

export interface KillRunOptions {
  baseUrl: () => string;
  targets: LoadTarget[];
  concurrency: number;
  kills: number;
  /** Answers before the first kill, between a restart and the next kill, and after the last. */
  loadMs: number;
  kill: () => Promise<void>;
  updateIdBase: number;
  /** Give up redelivering after this long past the last new answer (the run then fails). */
  drainMs?: number;
}

export interface KillRun {
  /** Per user: the update ids answered 2xx, in the order sent. */
  acked: Map<number, number[]>;
  answered: number;
  /** Deliveries repeated because the first was not answered 2xx. */
  redeliveries: number;
  /** Updates never answered 2xx before the drain ended. */
  undelivered: number;
  kills: number;
}

const RETRY_PAUSE_MS = 100;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function killRun(opts: KillRunOptions): Promise<KillRun> {
  const agent = new Agent({ keepAlive: true, maxSockets: opts.concurrency });
  const pairs: { target: LoadTarget; user: number }[] = [];
  const most = Math.max(...opts.targets.map((t) => t.users.length));
  for (let i = 0; i < most; i++) {
    for (const target of opts.targets) if (i < target.users.length) pairs.push({ target, user: target.users[i]! });
  }
  const acked = new Map<number, number[]>(pairs.map((p) => [p.user, []]));
  const busy = new Set<number>();
  let next = 0;
  let updateId = opts.updateIdBase;
  let redeliveries = 0;
  let undelivered = 0;
  let answered = 0;
  let stopNewAt = Number.POSITIVE_INFINITY; // set once the last restart is done
  let giveUpAt = Number.POSITIVE_INFINITY;

  const post = (path: string, secret: string, body: string) =>
    new Promise<number>((resolve) => {
      const url = new URL(path, opts.baseUrl());
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: "POST",
          path: url.pathname,
          headers: {
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
            "x-telegram-bot-api-secret-token": secret,
          },
          timeout: 15_000,
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
          res.on("error", () => resolve(0));
        },
      );
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.on("error", () => resolve(0));
      req.end(body);
    });

  async function loop() {
    while (Date.now() < stopNewAt) {
      // The next user with nothing in flight (more users than loops: there always is one).
      let pair = pairs[next++ % pairs.length]!;
      for (let tries = 0; busy.has(pair.user) && tries < pairs.length; tries++) pair = pairs[next++ % pairs.length]!;
      if (busy.has(pair.user)) {
        await sleep(RETRY_PAUSE_MS);
        continue;
      }
      busy.add(pair.user);
      const id = updateId++;
      const body = JSON.stringify(updates.textMessage("an answer", { updateId: id, userId: pair.user }));
      let status = await post(pair.target.path, pair.target.secret, body);
      while ((status < 200 || status > 299) && Date.now() < giveUpAt) {
        redeliveries++;
        await sleep(RETRY_PAUSE_MS);
        status = await post(pair.target.path, pair.target.secret, body);
      }
      if (status >= 200 && status <= 299) {
        acked.get(pair.user)!.push(id);
        answered++;
      } else undelivered++;
      busy.delete(pair.user);
    }
  }

  let kills = 0;
  const killer = (async () => {
    for (let k = 0; k < opts.kills; k++) {
      await sleep(opts.loadMs);
      await opts.kill();
      kills++;
    }
    stopNewAt = Date.now() + opts.loadMs;
    giveUpAt = stopNewAt + (opts.drainMs ?? 60_000);
  })();
  await Promise.all([...Array.from({ length: opts.concurrency }, loop), killer]);
  agent.destroy();
  return { acked, answered, redeliveries, undelivered, kills };
}
