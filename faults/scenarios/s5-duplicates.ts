/**
 * 5. Duplicates and races. Every update is delivered 1–3 times, all copies of a round shuffled
 * together and sent concurrently; in one round each session also gets two different answers at
 * once. Each session must advance exactly once per distinct answer — the two simultaneous answers
 * are serialised onto two consecutive questions, never rejected, never applied twice — and no
 * answer may be stored twice.
 */
import { type Update, updates } from "@journeys/fake-telegram";
import type { Bot } from "../../scripts/lib/harness/admin-client.ts";
import { botsWithJourney, deliverUntilAcked, inParallel, prng } from "../lib/client.ts";
import type { Scenario } from "../lib/scenario.ts";

const TENANT = "faults-s5";
const BOTS = 2;
const USERS = 80;
const answer = (user: number, k: number) => `user ${user} answer ${k}`;

export const duplicatesAndRaces: Scenario = {
  id: 5,
  name: "5 duplicate deliveries + concurrent answers",
  async run({ stack, seed, log }, checks) {
    const rnd = prng(seed + 5);
    const steps = [
      ...[1, 2, 3, 4].map((k) => ({
        step_type: "question",
        config: { text: `s5: question ${k}`, answer_key: `q${k}`, validation: "text" },
      })),
      { step_type: "message", config: { text: "s5: done" } },
    ];
    const { bots } = await botsWithJourney(stack, TENANT, BOTS, "s5", steps);
    const users = Array.from({ length: USERS }, (_, i) => ({ bot: bots[i % BOTS]!, id: 5_100_000 + i }));

    // Rounds: /start; answer 1; answers 2 and 3 at once; answer 4. Each update 1–3 copies.
    const text = (u: { id: number }, k: number) => updates.textMessage(answer(u.id, k), { userId: u.id });
    const rounds: ((u: { id: number }) => Update[])[] = [
      (u) => [updates.startCommand("s5", { userId: u.id })],
      (u) => [text(u, 1)],
      (u) => [text(u, 2), text(u, 3)],
      (u) => [text(u, 4)],
    ];
    let deliveries = 0;
    let serverErrors = 0;
    const outcomes = { processed: 0, duplicate: 0, other: 0 };
    const deadline = Date.now() + 120_000;
    for (const round of rounds) {
      const copies: { bot: Bot; update: Update }[] = [];
      for (const u of users) {
        for (const update of round(u)) {
          const n = rnd.int(1, 3);
          for (let c = 0; c < n; c++) copies.push({ bot: u.bot, update });
        }
      }
      deliveries += copies.length;
      await inParallel(rnd.shuffle(copies), 48, async ({ bot, update }) => {
        const ack = await deliverUntilAcked(
          stack,
          bot,
          update,
          deadline,
          (status) => {
            if (status >= 500) serverErrors++;
          },
          () => stack.requireAlive("api"),
        );
        if (ack.outcome === "processed") outcomes.processed++;
        else if (ack.outcome === "duplicate") outcomes.duplicate++;
        else outcomes.other++;
      });
    }
    log(`${deliveries} deliveries: ${JSON.stringify(outcomes)}`);

    const { rows: sessions } = await stack.db.query<{
      id: string;
      user: number;
      status: string;
      answers: Record<string, unknown>;
    }>("SELECT id, telegram_user_id::float8 AS user, status, answers FROM journey_user_sessions WHERE tenant_id = $1", [
      TENANT,
    ]);
    const { rows: outbox } = await stack.db.query<{ session_id: string; texts: string[] }>(
      `SELECT session_id, array_agg(message_content->>'text' ORDER BY id) AS texts
         FROM journey_outbox WHERE tenant_id = $1 GROUP BY session_id`,
      [TENANT],
    );
    const texts = new Map(outbox.map((r) => [r.session_id, JSON.stringify(r.texts)]));
    const wantTexts = JSON.stringify(steps.map((s) => s.config.text));
    let doubleAdvanced = 0;
    let storedTwice = 0;
    let lost = 0;
    for (const u of users) {
      const mine = sessions.filter((s) => Number(s.user) === u.id);
      const s = mine[0];
      const a = s?.answers ?? {};
      const values = Object.values(a).map(String);
      if (new Set(values).size !== values.length) storedTwice++;
      const want = [1, 2, 3, 4].map((k) => answer(u.id, k));
      lost += want.filter((w) => !values.includes(w)).length;
      const serialised =
        a.q1 === want[0] &&
        a.q4 === want[3] &&
        ((a.q2 === want[1] && a.q3 === want[2]) || (a.q2 === want[2] && a.q3 === want[1]));
      const right =
        mine.length === 1 &&
        s?.status === "completed" &&
        values.length === 4 &&
        serialised &&
        texts.get(s.id) === wantTexts;
      if (!right) doubleAdvanced++;
    }
    const distinct = USERS * 5;
    checks.eq(outcomes.processed, distinct, "deliveries processed (exactly one per distinct update)");
    checks.eq(outcomes.duplicate, deliveries - distinct, "deliveries answered as duplicates");
    checks.eq(doubleAdvanced, 0, "sessions that did not advance exactly once per distinct answer");
    checks.eq(storedTwice, 0, "sessions with an answer stored twice");
    checks.eq(lost, 0, "answers missing");
    checks.eq(serverErrors, 0, "5xx answers");
    return {
      tried: deliveries,
      lost,
      duplicates: deliveries - distinct,
      double_advanced: doubleAdvanced,
      server_errors: serverErrors,
      metrics: {
        sessions: USERS,
        distinct_updates: distinct,
        processed: outcomes.processed,
        answered_duplicate: outcomes.duplicate,
        answers_stored_twice: storedTwice,
      },
    };
  },
};
