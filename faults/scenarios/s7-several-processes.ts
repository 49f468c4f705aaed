/**
 * 7. Several processes: two API processes (two ports) and two workers on one database, one Redis
 * and the fake Bot API. The driver plays Telegram and a crowd of users: each user's updates go
 * to the APIs in turn, and anything not answered 2xx goes again to the other API (a refused or
 * reset connection, as when one replica is down). A user answers a question only once it has
 * arrived. Under load one API is SIGKILLed and restarted on its port 2 s later; later one worker
 * is SIGKILLed and NOT restarted: the survivor must take over the dead one's stalled jobs and
 * leased rows alone. Then: 0 lost (every acknowledged answer stored, every user completed with
 * exactly their answers, every message received), 0 double-advanced (one row per step and
 * session), duplicates only in the answer→commit window of the killed worker, and Telegram's
 * per-bot limit held across both workers (sendMessage calls per bot in any sliding second ≤ 30,
 * no 429).
 */
import { type Update, updates } from "@journeys/fake-telegram";
import type { Bot } from "../../scripts/lib/harness/admin-client.ts";
import { deliver } from "../../scripts/lib/harness/webhook.ts";
import type { Proc } from "../../scripts/lib/procs.ts";
import { botsWithJourney, Fatal, inParallel, prng, sleep, waitFor } from "../lib/client.ts";
import { pendingOutboxKeys, receiptKey, type Scenario, statusCounts, tallyReceipts } from "../lib/scenario.ts";

const TENANT = "faults-s7";
const BOTS = 3;
const USERS_PER_BOT = 110;
/** Users arrive over this long: their first two messages ask about 2 × 110 / 4 s = 55 a second per bot. */
const ARRIVAL_MS = 4000;
/** 4–6 s: the delays of one bot's users come due together, another burst for the limiter. */
const DELAY = { min_minutes: 0.067, max_minutes: 0.1 };
/** Webhook requests in flight at once, over both APIs. */
const IN_FLIGHT = 64;
const API_DOWN_MS = 2000;
const LIMIT_PER_SECOND = 30;

const T = {
  welcome: "s7: welcome",
  q1: "s7: question 1",
  after: "s7: after the delay",
  q2: "s7: question 2",
  done: "s7: done",
};
/** The texts each session must receive, in order: one row per step. */
const TEXTS = [T.welcome, T.q1, T.after, T.q2, T.done];
const answerText = (user: number, k: number) => `user ${user} answer ${k}`;

/** One of the two API processes: where it listens, the running process, how to restart it. */
interface ApiSlot {
  url: string;
  proc: () => Proc | undefined;
  restart: () => Promise<void>;
  acked: number;
}

/** At most `n` holders at once: `await take()` resolves with the release function. */
function semaphore(n: number) {
  let free = n;
  const queue: (() => void)[] = [];
  const release = () => {
    const next = queue.shift();
    if (next) next();
    else free++;
  };
  return async (): Promise<() => void> => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => queue.push(resolve));
    return release;
  };
}

/** Highest number of `ats` (ms, sorted) within any window of `windowMs` (a sliding second). */
function peakInWindow(ats: number[], windowMs: number): number {
  let peak = 0;
  let first = 0;
  for (let i = 0; i < ats.length; i++) {
    while (ats[i]! - ats[first]! >= windowMs) first++;
    peak = Math.max(peak, i - first + 1);
  }
  return peak;
}

export const severalProcesses: Scenario = {
  id: 7,
  name: "7 two APIs + two workers, one of each SIGKILLed",
  async run({ stack, seed, log }, checks) {
    const rnd = prng(seed + 7);
    const t0 = Date.now();
    const steps = [
      { step_type: "message", config: { text: T.welcome } },
      { step_type: "question", config: { text: T.q1, answer_key: "a1", validation: "text" } },
      { step_type: "delay", config: DELAY },
      { step_type: "message", config: { text: T.after } },
      { step_type: "question", config: { text: T.q2, answer_key: "a2", validation: "text" } },
      { step_type: "message", config: { text: T.done } },
    ];
    const created = await botsWithJourney(stack, TENANT, BOTS, "s7", steps);
    const { telegramIds } = created;
    // The secret each webhook was registered with, as Telegram (the fake) holds it: Postgres keeps
    // only its hash.
    const bots = created.bots.map((b) => ({ ...b, secret: stack.fake.webhookOf(b.telegramBotId)?.secretToken ?? "" }));
    const byBotId = new Map(bots.map((b) => [b.botId, b.telegramBotId]));
    const users = bots.flatMap((bot, b) =>
      Array.from({ length: USERS_PER_BOT }, (_, k) => ({ bot, id: 7_100_000 + b * 1000 + k })),
    );
    const expected = users.flatMap((u) => TEXTS.map((t) => receiptKey(u.bot.telegramBotId, u.id, t)));

    // The second API and the second worker.
    const extraWorker0 = stack.startExtraWorker();
    const extraApi = await stack.startExtraApi();
    const apis: ApiSlot[] = [
      { url: stack.apiUrl, proc: () => stack.api, restart: () => stack.startApi().then(() => undefined), acked: 0 },
      {
        url: extraApi.url,
        proc: () => extraApi.proc,
        restart: async () => {
          Object.assign(extraApi, await stack.startExtraApi({ port: Number(new URL(extraApi.url).port) }));
        },
        acked: 0,
      },
    ];
    let extraWorker: Proc | undefined = extraWorker0;
    await stack.waitWorkers(2, 60_000);
    const workers: (Proc | undefined)[] = [stack.worker, extraWorker];
    const sentBefore = workers.map((w) => w?.count("message sent") ?? 0);
    /** A send aborted or refused and tried again: a duplicate possible without any process dying. */
    const RETRY_MSG = "send failed: will retry";
    const retriesBefore = workers.map((w) => w?.count(RETRY_MSG) ?? 0);
    const callsBefore = stack.fake.calls.length;
    log(`2 APIs (${apis.map((a) => a.url).join(", ")}) and 2 workers up in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

    // Processes killed on purpose; any other death ends the run (no wait can cure it).
    const killed = new Set<Proc>();
    const guard = () => {
      for (const p of [...apis.map((a) => a.proc()), ...workers]) {
        if (p && !p.alive() && !killed.has(p)) throw new Fatal(`${p.name} (pid ${p.pid}) died unbidden`);
      }
    };

    // What the fake received, indexed as it arrives, so each user can wait for its question.
    const received = new Map<string, number>();
    const waiters = new Map<string, (() => void)[]>();
    let cursor = 0;
    let watching = true;
    const watcher = (async () => {
      const mine = new Set(telegramIds);
      while (watching) {
        const all = stack.fake.sent();
        for (; cursor < all.length; cursor++) {
          const m = all[cursor]!;
          if (!mine.has(m.botId)) continue;
          const key = receiptKey(m.botId, m.chatId, m.text);
          received.set(key, (received.get(key) ?? 0) + 1);
          for (const wake of waiters.get(key) ?? []) wake();
          waiters.delete(key);
        }
        await sleep(25);
      }
    })();
    const arrived = (key: string, timeoutMs: number) =>
      received.has(key)
        ? Promise.resolve()
        : new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no "${key}" within ${timeoutMs} ms`)), timeoutMs);
            waiters.set(key, [
              ...(waiters.get(key) ?? []),
              () => {
                clearTimeout(timer);
                resolve();
              },
            ]);
          });

    // Telegram's side: the APIs in turn, and a failed delivery goes again to the other one.
    let serverErrors = 0;
    let noAnswer = 0;
    let switched = 0;
    let turn = 0;
    const slot = semaphore(IN_FLIGHT);
    const acked: { user: number; botId: string; k: number; updateId: number; outcome: string; attempts: number }[] = [];
    // About 20 s on a quiet machine; generous, as the suite shares two cores with Postgres and
    // four services (the run's own hard limit still applies).
    const deadline = Date.now() + 100_000;
    const send = async (bot: Bot, update: Update): Promise<{ outcome: string; attempts: number }> => {
      let api = turn++ % apis.length;
      for (let attempt = 1; ; attempt++) {
        guard();
        const release = await slot();
        const res = await deliver(apis[api]!.url, bot, update, 10_000).finally(release);
        if (res.status >= 200 && res.status < 300) {
          apis[api]!.acked++;
          let outcome = "?";
          try {
            outcome = String((JSON.parse(res.body) as { status?: string }).status);
          } catch {
            // counted as "?"
          }
          return { outcome, attempts: attempt };
        }
        if (res.status >= 500) serverErrors++;
        if (res.status === 0) noAnswer++;
        if (res.status >= 400 && res.status < 500) {
          throw new Error(`update ${update.update_id} answered ${res.status} (${res.body.slice(0, 200)})`);
        }
        if (Date.now() > deadline)
          throw new Error(`update ${update.update_id} not acknowledged after ${attempt} tries`);
        // The other API at once; when both have failed, back off as Telegram does.
        api = (api + 1) % apis.length;
        switched++;
        if (attempt % apis.length === 0) await sleep(Math.min(100 * attempt, 500) + Math.random() * 50);
      }
    };
    const answer = async (u: (typeof users)[number], k: number, update: Update) => {
      const r = await send(u.bot, update);
      acked.push({ user: u.id, botId: u.bot.botId, k, updateId: update.update_id, ...r });
    };

    // The kills, each on its own: one API once a third or so of the updates are acknowledged
    // (restarted on its port 2 s later, while the load goes on), and one worker once a third or so
    // of the messages have arrived and at least 1.5 s after the API kill. Which API, which worker
    // and the kill points: the seed's choice.
    const totalUpdates = users.length * 3;
    const apiVictim = rnd.int(0, 1);
    const workerVictim = rnd.int(0, 1);
    const apiKillPoint = Math.floor(totalUpdates * (0.25 + rnd.next() * 0.15));
    const workerKillPoint = Math.floor(expected.length * (0.3 + rnd.next() * 0.15));
    let done = false;
    const kills: { apiKillAt?: number; apiBackAt?: number; workerKillAt?: number } = {};
    const inWindow = new Set<string>();
    const apiKiller = async () => {
      await waitFor("the API kill point", () => done || acked.length >= apiKillPoint, 80_000, 20);
      if (done) return;
      const api = apis[apiVictim]!;
      const victim = api.proc()!;
      killed.add(victim);
      await stack.crash(victim);
      kills.apiKillAt = Date.now();
      log(`  SIGKILL ${victim.name} (${api.url}) at ${acked.length} acknowledged updates`);
      await sleep(API_DOWN_MS);
      await api.restart();
      kills.apiBackAt = Date.now();
      log(`  ${api.url} ready again ${((kills.apiBackAt - kills.apiKillAt) / 1000).toFixed(1)} s after the kill`);
    };
    const workerKiller = async () => {
      await waitFor(
        "the worker kill point",
        () => done || (received.size >= workerKillPoint && kills.apiKillAt && Date.now() - kills.apiKillAt >= 1500),
        80_000,
        20,
      );
      if (done) return;
      const worker = workers[workerVictim]!;
      killed.add(worker);
      const killAt = Date.now();
      await stack.crash(worker);
      kills.workerKillAt = killAt;
      if (worker === extraWorker) extraWorker = undefined;
      log(`  SIGKILL ${worker.name} at ${received.size} messages received; not restarted`);
      // The duplicate window: messages Telegram accepted from the dead worker whose row it never
      // marked sent. Sends already on the wire reach the fake (whose event loop may lag on a busy
      // machine) within 2 s; rows then received and pending are the dead worker's or the
      // survivor's in flight; the survivor's are marked sent moments later, while the dead one's
      // stay pending until their 15-s lease runs out.
      await sleep(2000);
      const receivedNow = new Set(received.keys());
      const pendingThen = [...(await pendingOutboxKeys(stack, TENANT, byBotId))].filter((k) => receivedNow.has(k));
      await sleep(2000);
      const stillPending = await pendingOutboxKeys(stack, TENANT, byBotId);
      for (const key of pendingThen) if (stillPending.has(key)) inWindow.add(key);
    };
    const killer = Promise.all([apiKiller(), workerKiller()]);
    let killerFailed: string | undefined;
    killer.catch((err: Error) => {
      killerFailed = err.message;
    });

    // The users: /start, answer 1 once question 1 arrived, answer 2 once question 2 arrived.
    const driverStart = Date.now();
    let userFailures = 0;
    let firstUserFailure = "";
    try {
      await inParallel(users, users.length, async (u) => {
        try {
          await sleep(rnd.next() * ARRIVAL_MS);
          const key = (t: string) => receiptKey(u.bot.telegramBotId, u.id, t);
          await answer(u, 0, updates.startCommand("s7", { userId: u.id }));
          await arrived(key(T.q1), 60_000);
          await answer(u, 1, updates.textMessage(answerText(u.id, 1), { userId: u.id }));
          await arrived(key(T.q2), 60_000);
          await answer(u, 2, updates.textMessage(answerText(u.id, 2), { userId: u.id }));
        } catch (err) {
          if (err instanceof Fatal) throw err;
          userFailures++;
          firstUserFailure ||= (err as Error).message;
        }
      });
    } finally {
      done = true;
      await killer.catch(() => undefined);
    }
    const driverSeconds = (Date.now() - driverStart) / 1000;
    log(`${acked.length} updates acknowledged in ${driverSeconds.toFixed(1)} s; draining`);

    // Drain: every message received and every row settled, the surviving processes alive.
    const drainStart = Date.now();
    const drained = await waitFor(
      "every message to arrive and every row to settle",
      async () => {
        guard();
        if (!expected.every((k) => received.has(k))) return false;
        const outbox = await statusCounts(stack, "journey_outbox", TENANT);
        const delays = await statusCounts(stack, "journey_scheduled_messages", TENANT);
        return !outbox.pending && !delays.pending;
      },
      Math.max(20_000, deadline + 10_000 - Date.now()),
      250,
    ).then(
      () => true,
      (err: Error) => {
        log(err.message);
        return false;
      },
    );
    const drainSeconds = (Date.now() - drainStart) / 1000;
    await sleep(1000); // a late duplicate would show now
    watching = false;
    await watcher;

    // Lost: acknowledged answers not stored, and messages never received.
    const { rows: sessions } = await stack.db.query<{
      id: string;
      user: number;
      status: string;
      answers: Record<string, unknown>;
    }>("SELECT id, telegram_user_id::float8 AS user, status, answers FROM journey_user_sessions WHERE tenant_id = $1", [
      TENANT,
    ]);
    const byUser = new Map<number, typeof sessions>();
    for (const s of sessions) byUser.set(Number(s.user), [...(byUser.get(Number(s.user)) ?? []), s]);
    const { rows: outboxRows } = await stack.db.query<{ session_id: string; texts: string[] }>(
      `SELECT session_id, array_agg(message_content->>'text' ORDER BY id) AS texts
         FROM journey_outbox WHERE tenant_id = $1 GROUP BY session_id`,
      [TENANT],
    );
    const textsBySession = new Map(outboxRows.map((r) => [r.session_id, r.texts]));
    const { rows: delayRows } = await stack.db.query<{ session_id: string; n: number }>(
      "SELECT session_id, count(*)::int AS n FROM journey_scheduled_messages WHERE tenant_id = $1 GROUP BY session_id",
      [TENANT],
    );
    const delaysBySession = new Map(delayRows.map((r) => [r.session_id, r.n]));
    const { rows: claimed } = await stack.db.query<{ bot_id: string; update_id: number }>(
      "SELECT bot_id, update_id::float8 AS update_id FROM processed_updates WHERE bot_id = ANY($1)",
      [bots.map((b) => b.botId)],
    );
    const claimedSet = new Set(claimed.map((r) => `${r.bot_id}|${Number(r.update_id)}`));
    const lostUpdates = acked.filter((a) => {
      const s = byUser.get(a.user)?.[0];
      const stored = claimedSet.has(`${a.botId}|${a.updateId}`) && s !== undefined;
      return !stored || (a.k > 0 && s.answers?.[`a${a.k}`] !== answerText(a.user, a.k));
    }).length;
    const tally = tallyReceipts(stack, telegramIds, expected);
    const lost = lostUpdates + tally.lost;

    // Double advance: a session not holding exactly its two answers, one row per step, one delay.
    let doubleAdvanced = 0;
    let notCompleted = 0;
    const wantTexts = JSON.stringify(TEXTS);
    for (const u of users) {
      const mine = byUser.get(u.id) ?? [];
      const s = mine[0];
      if (s?.status !== "completed") notCompleted++;
      const want = JSON.stringify({ a1: answerText(u.id, 1), a2: answerText(u.id, 2) });
      const right =
        mine.length === 1 &&
        JSON.stringify(s?.answers) === want &&
        JSON.stringify(textsBySession.get(s!.id)) === wantTexts &&
        delaysBySession.get(s!.id) === 1;
      if (!right) doubleAdvanced++;
    }
    const outsideWindow = [...tally.got].filter(([k, n]) => n > 1 && !inWindow.has(k)).map(([k]) => k);
    // For a failure report: when each copy arrived, relative to the worker kill.
    const copiesAt = (key: string) =>
      stack.fake
        .sent()
        .filter((m) => receiptKey(m.botId, m.chatId, m.text) === key)
        .map((m) => `${((m.at - (kills.workerKillAt ?? 0)) / 1000).toFixed(2)}s`)
        .join(" ");

    // The per-bot limit across both workers: every sendMessage call that reached the fake (429s
    // too), per bot, in any sliding second.
    const calls = stack.fake.calls.slice(callsBefore).filter((c) => c.method.toLowerCase() === "sendmessage");
    const peaks = telegramIds.map((id) =>
      peakInWindow(
        calls
          .filter((c) => c.botId === id)
          .map((c) => c.at)
          .sort((a, b) => a - b),
        1000,
      ),
    );
    const peak = Math.max(...peaks);
    const responses429 = calls.filter((c) => telegramIds.includes(c.botId) && c.status === 429).length;
    const sentBy = workers.map((w, i) => (w?.count("message sent") ?? 0) - sentBefore[i]!);
    const sendRetries = workers.reduce((n, w, i) => n + (w?.count(RETRY_MSG) ?? 0) - retriesBefore[i]!, 0);
    const outcomes = { processed: 0, duplicate: 0 };
    for (const a of acked) if (a.outcome === "processed" || a.outcome === "duplicate") outcomes[a.outcome]++;

    // Back to one API and one worker, as the next scenario expects.
    await Promise.all([stack.stopExtra(extraApi.proc), extraWorker ? stack.stopExtra(extraWorker) : undefined]);
    if (!stack.worker?.alive()) await stack.startWorker();

    checks.ok(!killerFailed, `the kills ran (${killerFailed})`);
    checks.ok(kills.apiKillAt !== undefined && kills.workerKillAt !== undefined, "one API and one worker were killed");
    checks.eq(userFailures, 0, `users whose journey stalled (${firstUserFailure})`);
    checks.eq(acked.length, totalUpdates, "updates acknowledged");
    checks.ok(drained, "every message arrived and every row settled");
    checks.eq(lostUpdates, 0, "acknowledged answers not stored");
    checks.eq(tally.lost, 0, "messages never received");
    checks.eq(notCompleted, 0, "sessions not completed");
    checks.eq(doubleAdvanced, 0, "sessions not holding exactly their answers, one row per step and one delay");
    checks.eq(
      outsideWindow.length,
      0,
      `duplicates outside the killed worker's answer→commit window (${outsideWindow
        .slice(0, 3)
        .map((k) => `${k} at ${copiesAt(k)} from the kill`)
        .join(", ")})`,
    );
    checks.atMost(peak, LIMIT_PER_SECOND, "sendMessage calls per bot in any sliding second, both workers together");
    checks.eq(responses429, 0, "429 answers from the fake Bot API");
    checks.ok(
      sentBy.every((n) => n > 0),
      `both workers sent messages (${sentBy.join(" / ")})`,
    );
    checks.ok(
      apis.every((a) => a.acked > 0),
      "both APIs acknowledged updates",
    );
    checks.eq(serverErrors, 0, "webhook 5xx answers");
    return {
      tried: totalUpdates + expected.length,
      lost,
      duplicates: tally.duplicates,
      double_advanced: doubleAdvanced,
      server_errors: serverErrors,
      metrics: {
        users: users.length,
        bots: BOTS,
        messages: expected.length,
        killed_api: apiVictim + 1,
        killed_worker: workerVictim + 1,
        api_down_s: Number((((kills.apiBackAt ?? 0) - (kills.apiKillAt ?? 0)) / 1000).toFixed(1)),
        acked_by_api: apis.map((a) => a.acked).join(" / "),
        sent_by_worker: sentBy.join(" / "),
        deliveries_without_answer: noAnswer,
        retries_on_other_api: switched,
        committed_before_kill_then_redelivered: outcomes.duplicate,
        answered_not_committed_at_kill: inWindow.size,
        duplicates_outside_window: outsideWindow.length,
        send_retries: sendRetries,
        peak_sends_per_bot_per_s: peak,
        responses_429: responses429,
        driver_s: Number(driverSeconds.toFixed(1)),
        drain_s: Number(drainSeconds.toFixed(1)),
      },
    };
  },
};
