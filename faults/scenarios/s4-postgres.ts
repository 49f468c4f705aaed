/**
 * 4. Postgres goes away mid-run and comes back. The machine's Postgres is shared, so it is not
 * restarted: the API and the worker reach it through a TCP proxy, which drops every connection
 * and refuses new ones for a few seconds. While updates keep arriving (redelivered until 2xx),
 * the webhook must never answer 2xx for an update it did not store; after recovery every
 * update's effect and every message must be there. Neither process may crash.
 */
import { request } from "../../scripts/lib/harness/http.ts";
import { answerUpdate, botsWithJourney, deliverUntilAcked, inParallel, sleep } from "../lib/client.ts";
import {
  pendingOutboxKeys,
  receiptKey,
  receipts,
  type Scenario,
  sessionsWithDoubleRows,
  tallyReceipts,
  waitForReceipts,
} from "../lib/scenario.ts";

const TENANT = "faults-s4";
const BOTS = 4;
const USERS = 150;
const OUTAGE_MS = 5000;
const TEXTS = ["s4: question 1", "s4: question 2", "s4: thanks", "s4: after the delay"];
const answer = (user: number, k: number) => `user ${user} answer ${k}`;
/** A 5xx this soon after Postgres returned still belongs to the outage (a request that started during it). */
const GRACE_MS = 6000;

export const postgresOutage: Scenario = {
  id: 4,
  name: "4 Postgres outage (proxy cut)",
  async run({ stack, log }, checks) {
    const { bots, telegramIds } = await botsWithJourney(stack, TENANT, BOTS, "s4", [
      { step_type: "question", config: { text: TEXTS[0]!, answer_key: "a1", validation: "text" } },
      { step_type: "question", config: { text: TEXTS[1]!, answer_key: "a2", validation: "text" } },
      { step_type: "message", config: { text: TEXTS[2]! } },
      { step_type: "delay", config: { min_minutes: 0.05, max_minutes: 0.05 } },
      { step_type: "message", config: { text: TEXTS[3]! } },
    ]);
    const byBotId = new Map(bots.map((b) => [b.botId, b.telegramBotId]));
    const pids = { api: stack.api!.pid, worker: stack.worker!.pid };
    const users = Array.from({ length: USERS }, (_, i) => ({ bot: bots[i % BOTS]!, id: 4_100_000 + i }));

    const answers: { status: number; at: number }[] = [];
    const acked: { user: number; botId: string; k: number; updateId: number; at: number }[] = [];
    const deadline = Date.now() + 120_000;
    let cutAt = Number.POSITIVE_INFINITY;
    let restoredAt = Number.POSITIVE_INFINITY;
    let readyDuringOutage = 0;
    const inWindow = new Set<string>();

    const outage = (async () => {
      await sleep(2500);
      await stack.proxy.cut();
      cutAt = Date.now();
      log(`Postgres cut (${stack.proxy.connectionsCut} connections dropped)`);
      await sleep(OUTAGE_MS / 2);
      readyDuringOutage = (await request(`${stack.apiUrl}/health/ready`, { timeoutMs: 5000 })).status;
      await sleep(Math.max(0, cutAt + OUTAGE_MS - Date.now()));
      // Sends Telegram answered whose commit the outage prevented: the only place a duplicate may come from.
      try {
        const got = receipts(stack, telegramIds);
        for (const key of await pendingOutboxKeys(stack, TENANT, byBotId)) if (got.has(key)) inWindow.add(key);
      } finally {
        await stack.proxy.restore();
        restoredAt = Date.now();
        log("Postgres back");
      }
    })();
    outage.catch(() => undefined); // awaited below, also when the driver fails

    try {
      await inParallel(users, 20, async (u, i) => {
        await sleep((i % 20) * 25);
        for (let k = 0; k <= 2; k++) {
          const update = answerUpdate(u.id, "s4", k, (n) => answer(u.id, n));
          const ack = await deliverUntilAcked(
            stack,
            u.bot,
            update,
            deadline,
            (status, at) => answers.push({ status, at }),
            () => stack.requireAlive("api", "worker"),
          );
          acked.push({ user: u.id, botId: u.bot.botId, k, updateId: update.update_id, at: ack.at });
          await sleep(100 + ((u.id * 7 + k * 13) % 200));
        }
      });
    } finally {
      await outage; // Postgres is back before anything else runs
    }
    log(`${acked.length} updates acknowledged; waiting for every message`);

    const expected = users.flatMap((u) => TEXTS.map((t) => receiptKey(u.bot.telegramBotId, u.id, t)));
    await waitForReceipts(stack, telegramIds, expected, log, 90_000);
    await sleep(1000);

    const { rows: claimed } = await stack.db.query<{ key: string }>(
      "SELECT bot_id || '|' || update_id AS key FROM processed_updates WHERE bot_id = ANY($1)",
      [bots.map((b) => b.botId)],
    );
    const claimedSet = new Set(claimed.map((r) => r.key));
    const { rows: sessions } = await stack.db.query<{ user: number; status: string; answers: Record<string, unknown> }>(
      "SELECT telegram_user_id::float8 AS user, status, answers FROM journey_user_sessions WHERE tenant_id = $1",
      [TENANT],
    );
    const byUser = new Map<number, typeof sessions>();
    for (const s of sessions) byUser.set(Number(s.user), [...(byUser.get(Number(s.user)) ?? []), s]);

    const lostUpdates = acked.filter((a) => {
      const s = byUser.get(a.user)?.[0];
      return !(
        claimedSet.has(`${a.botId}|${a.updateId}`) &&
        s !== undefined &&
        (a.k === 0 || s.answers?.[`a${a.k}`] === answer(a.user, a.k))
      );
    }).length;
    const wrongSessions = users.filter((u) => {
      const mine = byUser.get(u.id) ?? [];
      return !(
        mine.length === 1 &&
        mine[0]!.status === "completed" &&
        JSON.stringify(mine[0]!.answers) === JSON.stringify({ a1: answer(u.id, 1), a2: answer(u.id, 2) })
      );
    }).length;
    const doubleRows = await sessionsWithDoubleRows(stack, TENANT);
    const { got, lost: lostMessages, duplicates } = tallyReceipts(stack, telegramIds, expected);
    const outsideWindow = [...got].filter(([k, n]) => n > 1 && !inWindow.has(k)).length;
    const during = (a: { at: number }) => a.at >= cutAt && a.at <= restoredAt;
    const ackedDuringOutage = answers.filter((a) => a.status >= 200 && a.status < 300 && during(a)).length;
    const failedDuringOutage = answers.filter((a) => (a.status === 0 || a.status >= 500) && during(a)).length;
    const serverErrors = answers.filter(
      (a) => a.status >= 500 && !(a.at >= cutAt && a.at <= restoredAt + GRACE_MS),
    ).length;

    checks.eq(acked.length, USERS * 3, "updates acknowledged in the end");
    checks.eq(lostUpdates, 0, "acknowledged updates whose effect is not in Postgres");
    checks.eq(lostMessages, 0, "messages never received after recovery");
    checks.eq(wrongSessions + doubleRows, 0, "sessions with wrong answers, status, or a step run twice");
    checks.eq(outsideWindow, 0, "duplicates other than sends whose commit the outage cut off");
    checks.ok(failedDuringOutage > 0, "updates were refused while Postgres was away (the outage was hit)");
    checks.eq(readyDuringOutage, 503, "/health/ready during the outage");
    checks.ok(stack.api!.pid === pids.api && stack.api!.alive(), "the API process survived the outage");
    checks.ok(stack.worker!.pid === pids.worker && stack.worker!.alive(), "the worker process survived the outage");
    checks.eq(serverErrors, 0, `5xx answers outside the outage (and ${GRACE_MS / 1000} s after it)`);
    return {
      tried: acked.length + expected.length,
      lost: lostUpdates + lostMessages,
      duplicates,
      double_advanced: wrongSessions + doubleRows,
      server_errors: serverErrors,
      metrics: {
        updates: USERS * 3,
        messages: expected.length,
        outage_ms: restoredAt - cutAt,
        refused_during_outage: failedDuringOutage,
        acked_during_outage: ackedDuringOutage,
        answered_not_committed_at_cut: inWindow.size,
        ready_status_during_outage: readyDuringOutage,
      },
    };
  },
};
