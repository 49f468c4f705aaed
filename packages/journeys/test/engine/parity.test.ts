/**
 * The two ways of persisting a transition leave the same rows. For every case of {next step: question,
 * message, delay, end, removed} × {valid, invalid answer} × {fresh, stale read}, two identical worlds
 * get the same answer with the same clock: one through the locking transaction (answerLocked), one
 * through the lock-free statement (answerWithoutLock; on a stale read it writes nothing and the
 * locking path follows, as processUpdate does). Their session, answers, outbox, delay rows and
 * processed updates must be equal, ids aside.
 */
import { describe, expect, it } from "vitest";
import { createTestEnv, type TestEnv } from "../../../../test/support/context.ts";
import { tenantWithJourney } from "../../../../test/support/fixtures.ts";
import { insertSession } from "../../../../test/support/rows.ts";
import type { Clock } from "../../src/engine/types.ts";
import { createLogger } from "../../src/logger.ts";
import type { StepInput } from "../../src/step-config.ts";
import { answerLocked, answerWithoutLock, Run } from "../../src/telegram/process-update.ts";

const env: TestEnv = await createTestEnv();
const log = createLogger("silent");
const clock = (): Clock => ({ now: new Date("2026-12-04T12:00:00.000Z"), random: () => 0.37 });

const Q1: StepInput = { step_type: "question", config: { text: "Age?", answer_key: "age", validation: "number" } };
const NEXT: Record<string, { steps: StepInput[]; removed?: number }> = {
  question: {
    steps: [Q1, { step_type: "question", config: { text: "Name?", answer_key: "name", validation: "text" } }],
  },
  message: {
    steps: [
      Q1,
      { step_type: "message", config: { text: "Thanks" } },
      { step_type: "message", config: { text: "Bye" } },
    ],
  },
  delay: {
    steps: [
      Q1,
      { step_type: "message", config: { text: "Wait" } },
      { step_type: "delay", config: { min_minutes: 5, max_minutes: 10 } },
    ],
  },
  end: { steps: [Q1] },
  removed: {
    steps: [
      Q1,
      { step_type: "message", config: { text: "Gone" } },
      { step_type: "question", config: { text: "City?", answer_key: "city", validation: "text" } },
    ],
    removed: 2,
  },
};

/** A tenant, bot and journey with `steps`, one user standing on Q1 with an earlier answer. */
async function world(next: string) {
  const { tenantId, repo, bot, journey, steps } = await tenantWithJourney(env, {
    steps: NEXT[next]!.steps,
    startParam: null,
    name: `parity ${next}`,
  });
  const removed = NEXT[next]!.removed;
  if (removed) {
    await env.handle.pool.query("UPDATE journey_steps SET removed_at = now() WHERE id = $1", [steps[removed - 1]!.id]);
    await env.handle.pool.query("UPDATE journeys SET steps_version = steps_version + 1 WHERE id = $1", [journey.id]);
  }
  const user = 900_000 + Math.floor(Math.random() * 1e6);
  const session = await insertSession(env, {
    tenantId,
    journeyId: journey.id,
    userId: user,
    currentStepId: steps[0]!.id,
    answers: { earlier: "yes" },
  });
  return { tenantId, repo, botId: bot.botId, journeyId: journey.id, user, session, stepIds: steps.map((s) => s.id) };
}
type World = Awaited<ReturnType<typeof world>>;

/** A change a concurrent writer could have made: the row's version moves, its content does not. */
const touch = (w: World) =>
  env.handle.pool.query("UPDATE journey_user_sessions SET status = status WHERE id = $1", [w.session.id]);

async function locking(w: World, updateId: number, text: string) {
  const run = new Run(log, clock);
  await w.repo.transaction(async (tx) => {
    const { claimed, live } = await tx.sessions.claimUpdateLockingLive(w.botId, updateId, w.user);
    expect(claimed).toBe(true);
    await answerLocked(tx, run, { botId: w.botId, tenantId: tx.tenantId, username: "" }, live, {
      userId: w.user,
      text,
    });
  });
  run.committed();
}

async function lockFree(w: World, updateId: number, text: string, stale: boolean): Promise<boolean> {
  // The read, then (for a stale case) a concurrent write, then the statement.
  const { seen, live } = await w.repo.sessions.peekLive(w.botId, updateId, w.user);
  expect(seen).toBe(false);
  if (stale) await touch(w);
  const done = await answerWithoutLock(
    w.repo,
    { botId: w.botId, tenantId: w.repo.tenantId, username: "" },
    updateId,
    { userId: w.user, text },
    log,
    clock,
    { seen, live },
  );
  if (done) return true;
  await locking(w, updateId, text); // as processUpdate: the locking path takes over
  return false;
}

/** Everything an answer can write for the world, with ids replaced by what they stand for. */
async function rows(w: World) {
  const position = (id: string | null) => (id === null ? null : w.stepIds.indexOf(id) + 1);
  const q = async (sql: string) => (await env.handle.pool.query(sql, [w.session.id])).rows;
  const [session] = await q(
    "SELECT status, current_step_id, answers, completed_at, last_activity_at FROM journey_user_sessions WHERE id = $1",
  );
  const outbox = await q(
    "SELECT bot_id, telegram_chat_id, message_content, status, attempts, error FROM journey_outbox WHERE session_id = $1 ORDER BY id",
  );
  const scheduled = await q(
    "SELECT step_id, telegram_chat_id, message_content, scheduled_for, status, error FROM journey_scheduled_messages WHERE session_id = $1 ORDER BY scheduled_for",
  );
  const updates = (await env.handle.pool.query("SELECT update_id FROM processed_updates WHERE bot_id = $1", [w.botId]))
    .rows;
  return {
    session: { ...session, current_step_id: position(session.current_step_id) },
    outbox: outbox.map((o) => ({
      ...o,
      bot_id: o.bot_id === w.botId,
      telegram_chat_id: o.telegram_chat_id === w.user,
    })),
    scheduled: scheduled.map((s) => ({
      ...s,
      step_id: position(s.step_id),
      telegram_chat_id: s.telegram_chat_id === w.user,
    })),
    updates,
  };
}

const cases = Object.keys(NEXT).flatMap((next) =>
  ["valid", "invalid"].flatMap((answer) => ["fresh", "stale"].map((read) => ({ next, answer, read }))),
);

describe("the locking and the lock-free path leave the same rows", () => {
  it.each(cases)("next step $next, $answer answer, $read read", async ({ next, answer, read }) => {
    const a = await world(next);
    const b = await world(next);
    const text = answer === "valid" ? "41" : "forty-one";
    await locking(a, 77, text);
    const tookLockFree = await lockFree(b, 77, text, read === "stale");
    expect(tookLockFree).toBe(read === "fresh");
    const [ra, rb] = [await rows(a), await rows(b)];
    expect(rb).toEqual(ra);
    // And the rows say what the rule says: stored and moved on, or re-prompted and stayed.
    expect(ra.updates).toEqual([{ update_id: 77 }]);
    if (answer === "valid") {
      expect(ra.session.answers).toEqual({ earlier: "yes", age: 41 });
      expect(ra.session.current_step_id).not.toBe(1);
    } else {
      expect(ra.session).toMatchObject({ answers: { earlier: "yes" }, current_step_id: 1, status: "active" });
      expect(ra.outbox).toHaveLength(1);
    }
  });
});
