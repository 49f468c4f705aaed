/**
 * 1. Worker SIGKILL every few seconds while 500 sessions pass through a delay.
 * Every message must arrive (0 lost). A duplicate is allowed only for a message Telegram had
 * already answered when the worker died, with its row still pending (the window between
 * Telegram's answer and the commit): at each kill the suite records exactly those messages, and
 * every duplicate must be one of them. No delay may fire twice (double advance).
 */
import { updates } from "@journeys/fake-telegram";
import { botsWithJourney, deliverUntilAcked, inParallel, prng, sleep, waitFor } from "../lib/client.ts";
import {
  messageFigures,
  pendingOutboxKeys,
  receiptKey,
  receipts,
  type Scenario,
  sessionsWithDoubleRows,
  statusCounts,
  tallyReceipts,
} from "../lib/scenario.ts";

const TENANT = "faults-s1";
const BOTS = 10;
const USERS_PER_BOT = 50;
const TEXTS = ["s1: after the delay"];
/** 5–20 s: the delays come due all through the kills. */
const DELAY = { min_minutes: 0.083, max_minutes: 0.333 };
const KILLS = 5;

export const workerKill: Scenario = {
  id: 1,
  name: "1 worker SIGKILL during delays",
  async run({ stack, seed, log }, checks) {
    const rnd = prng(seed + 1);
    const { bots, telegramIds } = await botsWithJourney(stack, TENANT, BOTS, "s1", [
      { step_type: "delay", config: DELAY },
      { step_type: "message", config: { text: TEXTS[0]! } },
    ]);
    const byBotId = new Map(bots.map((b) => [b.botId, b.telegramBotId]));
    const users = bots.flatMap((bot, b) =>
      Array.from({ length: USERS_PER_BOT }, (_, k) => ({ bot, id: 1_100_000 + b * 1000 + k })),
    );
    const expected = users.flatMap((u) => TEXTS.map((t) => receiptKey(u.bot.telegramBotId, u.id, t)));

    // All sessions start and wait in their delay; then the worker is killed every
    // few seconds — each time once it is up and has worked for 1–2.5 s — and restarted at once,
    // while the sessions wait in and come out of their delays.
    const t0 = Date.now();
    const deadline = t0 + 60_000;
    let serverErrors = 0;
    const count5xx = (status: number) => {
      if (status >= 500) serverErrors++;
    };
    await inParallel(users, 32, async (u) => {
      await deliverUntilAcked(stack, u.bot, updates.startCommand("s1", { userId: u.id }), deadline, count5xx, () =>
        stack.requireAlive("api"),
      );
    });
    log(
      `${users.length} sessions started in ${((Date.now() - t0) / 1000).toFixed(1)} s; killing the worker ${KILLS} times`,
    );

    let kills = 0;
    const inWindow = new Set<string>();
    while (kills < KILLS) {
      await stack.waitWorkerReady(60_000);
      await sleep(rnd.int(1000, 2500));
      await stack.crash(stack.worker!);
      kills++;
      await sleep(300); // requests already on the wire reach the fake; the next worker is not up yet
      const got = receipts(stack, telegramIds);
      for (const key of await pendingOutboxKeys(stack, TENANT, byBotId)) if (got.has(key)) inWindow.add(key);
      await stack.startWorker({ wait: false });
    }
    const lastKill = Date.now();
    log(`${kills} kills in ${((lastKill - t0) / 1000).toFixed(1)} s; draining`);

    const drained = await waitFor(
      "every message to arrive and every row to settle",
      async () => {
        stack.requireAlive("api", "worker");
        const got = receipts(stack, telegramIds);
        if (!expected.every((k) => got.has(k))) return false;
        const outbox = await statusCounts(stack, "journey_outbox", TENANT);
        const delays = await statusCounts(stack, "journey_scheduled_messages", TENANT);
        return !outbox.pending && !delays.pending;
      },
      100_000,
      500,
    ).then(
      () => true,
      (err: Error) => {
        log(err.message);
        return false;
      },
    );
    const drainSeconds = (Date.now() - lastKill) / 1000;
    await sleep(1500); // a late duplicate would show now

    const tally = tallyReceipts(stack, telegramIds, expected);
    const { got, lost } = tally;
    const outsideWindow = [...got].filter(([k, n]) => n > 1 && !inWindow.has(k)).map(([k]) => k);

    // Double advance: a delay fired twice would write its following message's row twice.
    const { rows: sessions } = await stack.db.query<{ status: string; n: number }>(
      "SELECT status, count(*)::int AS n FROM journey_user_sessions WHERE tenant_id = $1 GROUP BY status",
      [TENANT],
    );
    const delays = await statusCounts(stack, "journey_scheduled_messages", TENANT);
    const outbox = await statusCounts(stack, "journey_outbox", TENANT);
    const doubleAdvanced = await sessionsWithDoubleRows(stack, TENANT);

    checks.ok(drained, "every message arrived and every row settled within 100 s of the last kill");
    checks.eq(lost, 0, "messages never received");
    checks.eq(
      outsideWindow.length,
      0,
      `duplicates outside the answer→commit window (${outsideWindow.slice(0, 3).join(", ")})`,
    );
    checks.eq(doubleAdvanced, 0, "sessions with a message row written twice (a delay fired twice)");
    checks.eq(serverErrors, 0, "webhook 5xx answers");
    checks.eq(sessions.find((s) => s.status === "completed")?.n ?? 0, users.length, "completed sessions");
    checks.eq(delays.sent ?? 0, users.length, "delay rows sent");
    checks.eq(outbox.sent ?? 0, users.length * TEXTS.length, "outbox rows sent");
    return messageFigures(tally, doubleAdvanced, serverErrors, {
      sessions: users.length,
      kills,
      answered_not_committed_at_kills: inWindow.size,
      duplicates_outside_window: outsideWindow.length,
      drain_after_last_kill_s: Number(drainSeconds.toFixed(1)),
    });
  },
};
