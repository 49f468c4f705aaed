/**
 * 2. API SIGKILL while 2,000 updates arrive. The driver plays Telegram: each user's updates in
 * order, and anything not answered 2xx (reset, refused, 5xx) is delivered again until it is. Then
 * Postgres is checked against what was acknowledged: every acknowledged update has its effect
 * (0 acknowledged-but-lost), and every session holds exactly its own answers, each at its own
 * question, with exactly one message per step (0 double-advanced).
 */
import {
  type Acked,
  answerUpdate,
  botsWithJourney,
  deliverUntilAcked,
  Fatal,
  inParallel,
  prng,
  sleep,
} from "../lib/client.ts";
import type { Scenario } from "../lib/scenario.ts";

const TENANT = "faults-s2";
const BOTS = 8;
const USERS = 400;
const QUESTIONS = 4;
const LANES = 64;

const questionText = (k: number) => `s2: question ${k}`;
const answerText = (user: number, k: number) => `user ${user} answer ${k}`;

export const apiKill: Scenario = {
  id: 2,
  name: "2 API SIGKILL under 2,000 updates",
  async run({ stack, seed, log }, checks) {
    const rnd = prng(seed + 2);
    const steps = [
      ...Array.from({ length: QUESTIONS }, (_, i) => ({
        step_type: "question",
        config: { text: questionText(i + 1), answer_key: `a${i + 1}`, validation: "text" },
      })),
      { step_type: "message", config: { text: "s2: done" } },
    ];
    const { bots } = await botsWithJourney(stack, TENANT, BOTS, "s2", steps);
    const users = Array.from({ length: USERS }, (_, i) => ({ bot: bots[i % BOTS]!, id: 2_100_000 + i }));

    // Only the webhook is under test: the worker stands aside so the API gets the CPU (its sends
    // would compete for this machine's two cores), and the messages are cancelled at the end.
    await stack.stopWorker();

    let serverErrors = 0;
    let noAnswer = 0;
    const acked: { user: number; botId: string; k: number; ack: Acked }[] = [];
    let done = false;
    const deadline = Date.now() + 100_000;
    const t0 = Date.now();

    // Kill the API after every random 300–500 more acknowledged updates (so the number of kills
    // does not depend on this machine's speed), restart it at once; until the driver is done.
    let kills = 0;
    const killer = (async () => {
      while (!done) {
        await stack.waitApiReady(60_000);
        const target = acked.length + rnd.int(300, 500);
        while (!done && acked.length < target) await sleep(20);
        if (done) break;
        await stack.crash(stack.api!);
        kills++;
        log(`  API kill ${kills}: ${acked.length} updates acknowledged so far`);
        await stack.startApi(false);
      }
    })();
    // A restarted API that cannot come up ends the run now, not at the driver's deadline.
    let killerFailed: string | undefined;
    killer.catch((err: Error) => {
      killerFailed = err.message;
    });
    const guard = () => {
      if (killerFailed) throw new Fatal(killerFailed);
    };

    try {
      await inParallel(users, LANES, async (u) => {
        for (let k = 0; k <= QUESTIONS; k++) {
          const ack = await deliverUntilAcked(
            stack,
            u.bot,
            answerUpdate(u.id, "s2", k, (n) => answerText(u.id, n)),
            deadline,
            (status) => {
              if (status >= 500) serverErrors++;
              if (status === 0) noAnswer++;
            },
            guard,
          );
          acked.push({ user: u.id, botId: u.bot.botId, k, ack });
        }
      });
    } finally {
      done = true;
      await killer;
    }
    await stack.waitApiReady(60_000);
    const seconds = (Date.now() - t0) / 1000;
    log(`${acked.length} updates acknowledged in ${seconds.toFixed(1)} s; ${kills} API kills`);

    // Acknowledged but lost: the (bot, update_id) claim and the effect must both be in Postgres.
    const { rows: claimed } = await stack.db.query<{ bot_id: string; update_id: number }>(
      "SELECT bot_id, update_id::float8 AS update_id FROM processed_updates WHERE bot_id = ANY($1)",
      [bots.map((b) => b.botId)],
    );
    const claimedSet = new Set(claimed.map((r) => `${r.bot_id}|${Number(r.update_id)}`));
    const { rows: sessions } = await stack.db.query<{
      user: number;
      status: string;
      answers: Record<string, unknown>;
      id: string;
    }>("SELECT id, telegram_user_id::float8 AS user, status, answers FROM journey_user_sessions WHERE tenant_id = $1", [
      TENANT,
    ]);
    const byUser = new Map<number, typeof sessions>();
    for (const s of sessions) byUser.set(Number(s.user), [...(byUser.get(Number(s.user)) ?? []), s]);
    const { rows: outbox } = await stack.db.query<{ session_id: string; texts: string[] }>(
      `SELECT session_id, array_agg(message_content->>'text' ORDER BY id) AS texts
         FROM journey_outbox WHERE tenant_id = $1 GROUP BY session_id`,
      [TENANT],
    );
    const textsBySession = new Map(outbox.map((r) => [r.session_id, r.texts]));

    let lost = 0;
    for (const a of acked) {
      const session = byUser.get(a.user)?.[0];
      const stored =
        claimedSet.has(`${a.botId}|${a.ack.updateId}`) &&
        session !== undefined &&
        (a.k === 0 || session.answers?.[`a${a.k}`] === answerText(a.user, a.k));
      if (!stored) lost++;
    }
    const expectedTexts = JSON.stringify([...steps.map((s) => String(s.config.text))]);
    let doubleAdvanced = 0;
    for (const u of users) {
      const mine = byUser.get(u.id) ?? [];
      const s = mine[0];
      const want = Object.fromEntries(
        Array.from({ length: QUESTIONS }, (_, i) => [`a${i + 1}`, answerText(u.id, i + 1)]),
      );
      const right =
        mine.length === 1 &&
        s?.status === "completed" &&
        JSON.stringify(s.answers) === JSON.stringify(want) &&
        JSON.stringify(textsBySession.get(s.id)) === expectedTexts;
      if (!right) doubleAdvanced++;
    }
    const redelivered = acked.filter((a) => a.ack.attempts > 1).length;
    const duplicates = acked.filter((a) => a.ack.outcome === "duplicate").length;

    await stack.db.query(
      "UPDATE journey_outbox SET status = 'cancelled', error = 'fault suite: scenario 2 sends nothing' WHERE tenant_id = $1 AND status = 'pending'",
      [TENANT],
    );
    await stack.startWorker();

    checks.eq(acked.length, USERS * (QUESTIONS + 1), "updates acknowledged");
    checks.eq(lost, 0, "acknowledged updates whose effect is not in Postgres");
    checks.eq(doubleAdvanced, 0, "sessions not holding exactly their own answers and one message per step");
    checks.ok(kills >= 3, `the API was killed at least 3 times while updates arrived (got ${kills})`);
    checks.eq(serverErrors, 0, "5xx answers");
    return {
      tried: USERS * (QUESTIONS + 1),
      lost,
      duplicates,
      double_advanced: doubleAdvanced,
      server_errors: serverErrors,
      metrics: {
        kills,
        sessions: USERS,
        redelivered_updates: redelivered,
        deliveries_without_answer: noAnswer,
        committed_before_kill_then_redelivered: duplicates,
        driver_seconds: Number(seconds.toFixed(1)),
      },
    };
  },
};
