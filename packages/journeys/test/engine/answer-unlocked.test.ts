/**
 * An answer without a transaction (answerWithoutLock, processUpdate's first try for every text): it
 * applies transition()'s result only to the session as it was read, records the update with it, and
 * otherwise writes nothing and leaves the update to the locking path.
 */
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { repoFor, tenantWithJourney } from "../../../../test/support/fixtures.ts";
import { outboxOf } from "../../../../test/support/rows.ts";
import { createLogger } from "../../src/logger.ts";
import type { Effects } from "../../src/queue/effects.ts";
import type { SessionRead, TenantRepository } from "../../src/repo/index.ts";
import { answerWithoutLock, processUpdate } from "../../src/telegram/process-update.ts";
import { newTenant, newUser } from "../repo/helpers.ts";

const env = await createTestEnv();
const log = createLogger("silent");
const dispatched: Effects[] = [];
const deps = {
  db: env.handle.db,
  encryptionKey: env.config.botTokenEncryptionKey,
  dispatcher: { dispatch: async (e: Effects) => void dispatched.push(e) },
  log,
};
const steps = [1, 2, 3, 4, 5, 6].map((n) => ({
  step_type: "question" as const,
  config: { text: `Q${n}?`, answer_key: `a${n}`, validation: n === 1 ? "number" : "text" },
}));

let updateId = 1;
const say = (bot: { botId: string; tenantId: string; username: string }, user: number, text: string, id = updateId++) =>
  processUpdate(deps, bot, {
    update_id: id,
    message: { message_id: id, date: 0, text, chat: { id: user, type: "private" }, from: { id: user, is_bot: false } },
  });

/** A user standing on Q1 of a journey of six questions. */
async function started() {
  const { bot, repo } = await tenantWithJourney(env, { steps, startParam: "six", name: "Six questions" });
  const user = newUser();
  expect(await say(bot, user, "/start six")).toMatchObject({ status: "processed" });
  const session = async () => (await repo.sessions.recent(1))[0]!.session;
  return { bot, repo, user, session };
}

type Peeked = { seen: boolean; live: SessionRead[] };
/** The lock-free write of `text` for a read made earlier (`peeked`); null when it wrote nothing. */
const unlocked = (repo: TenantRepository, botId: string, user: number, id: number, peeked: Peeked, text: string) =>
  answerWithoutLock(
    repo,
    { botId, tenantId: repo.tenantId, username: "" },
    id,
    { userId: user, text },
    log,
    undefined,
    peeked,
  );

const recorded = async (botId: string, id: number) =>
  (await env.handle.pool.query("SELECT 1 FROM processed_updates WHERE bot_id = $1 AND update_id = $2", [botId, id]))
    .rowCount;

describe("an answer without a transaction", () => {
  it("stores the answer, asks the next question and records the update in one statement", async () => {
    const { bot, repo, user, session } = await started();
    const id = updateId++;
    const peeked = await repo.sessions.peekLive(bot.botId, id, user);
    expect(peeked.seen).toBe(false);
    expect(peeked.live).toHaveLength(1);
    const steps = await repo.listSteps(peeked.live[0]!.journeyId);
    expect(peeked.live[0]!.currentStepId).toBe(steps[0]!.id);

    const outcome = await unlocked(repo, bot.botId, user, id, peeked, "33");
    expect(outcome?.detail).toBe("accepted");
    const now = await session();
    expect(now.answers).toEqual({ a1: 33 });
    expect(now.currentStepId).toBe(steps[1]!.id);
    expect(await recorded(bot.botId, id)).toBe(1);
    const outbox = await outboxOf(env, now.id);
    expect(outbox.map((o) => o.messageContent.text)).toEqual(["Q1?", "Q2?"]);
    expect(outcome?.effects).toEqual({ outbox: [{ id: outbox[1]!.id, botId: bot.botId }], scheduled: [] });
    expect((await repo.sessions.peekLive(bot.botId, id, user)).seen).toBe(true);
  });

  it("writes nothing when the session changed after it was read; the update then takes the locking path", async () => {
    const { bot, repo, user, session } = await started();
    const id = updateId++;
    const stale = await repo.sessions.peekLive(bot.botId, id, user);
    expect(await say(bot, user, "40")).toMatchObject({ status: "processed", detail: "accepted" }); // Q1 → Q2
    const before = await session();
    const outboxBefore = await outboxOf(env, before.id);

    expect(await unlocked(repo, bot.botId, user, id, stale, "41")).toBeNull();
    expect(await session()).toEqual(before);
    expect(await outboxOf(env, before.id)).toEqual(outboxBefore);
    expect(await recorded(bot.botId, id)).toBe(0);

    // Delivered for real, the same update answers the question the session stands on now (Q2).
    expect(await say(bot, user, "later text", id)).toMatchObject({ status: "processed", detail: "accepted" });
    expect((await session()).answers).toEqual({ a1: 40, a2: "later text" });
  });

  it("writes nothing when the session was written at all since the read, even on the same step", async () => {
    const { bot, repo, user, session } = await started();
    const id = updateId++;
    const stale = await repo.sessions.peekLive(bot.botId, id, user);
    expect(await say(bot, user, "abc")).toMatchObject({ detail: "invalid" }); // re-prompted, still on Q1
    const before = await session();
    expect(before.currentStepId).toBe(stale.live[0]!.currentStepId);
    expect(await unlocked(repo, bot.botId, user, id, stale, "41")).toBeNull();
    expect(await session()).toEqual(before);
    expect(await recorded(bot.botId, id)).toBe(0);
  });

  it("writes nothing when the update was recorded after the read", async () => {
    const { bot, repo, user, session } = await started();
    const id = updateId++;
    const peeked = await repo.sessions.peekLive(bot.botId, id, user);
    expect(await repo.updates.claim(bot.botId, id)).toBe(true); // as a concurrent delivery would
    const before = await session();
    expect(await unlocked(repo, bot.botId, user, id, peeked, "50")).toBeNull();
    expect(await session()).toEqual(before);
    expect(await say(bot, user, "50", id)).toEqual({ status: "duplicate", updateId: id });
  });

  it("re-prompts an invalid answer in one statement too, only to the session as read", async () => {
    const { bot, repo, user, session } = await started();
    const id = updateId++;
    const peeked = await repo.sessions.peekLive(bot.botId, id, user);
    const before = await session();
    const outcome = await unlocked(repo, bot.botId, user, id, peeked, "abc");
    expect(outcome?.detail).toBe("invalid");
    const now = await session();
    expect(now.currentStepId).toBe(before.currentStepId);
    expect(now.answers).toEqual({});
    expect(now.lastActivityAt!.getTime()).toBeGreaterThan(before.lastActivityAt!.getTime());
    const outbox = await outboxOf(env, now.id);
    expect(outbox).toHaveLength(2);
    expect(outbox[1]!.messageContent.text).toMatch(/number/i);
    expect(outcome?.effects.outbox).toEqual([{ id: outbox[1]!.id, botId: bot.botId }]);
    expect(await recorded(bot.botId, id)).toBe(1);
    // The same read again: the session has changed since (touched), so nothing more is written.
    const again = updateId++;
    expect(await unlocked(repo, bot.botId, user, again, { ...peeked, seen: false }, "xyz")).toBeNull();
    expect(await outboxOf(env, now.id)).toHaveLength(2);
    expect(await recorded(bot.botId, again)).toBe(0);
  });

  it("records a text no session waits for, once, and nothing else", async () => {
    const { bot } = await started();
    const stranger = newUser();
    const id = updateId++;
    expect(await say(bot, stranger, "hello?", id)).toEqual({
      status: "processed",
      updateId: id,
      kind: "text",
      detail: "no_session_waiting",
    });
    expect(await recorded(bot.botId, id)).toBe(1);
    expect(await say(bot, stranger, "hello?", id)).toEqual({ status: "duplicate", updateId: id });
    const { rows } = await env.handle.pool.query(
      "SELECT count(*)::int AS n FROM journey_outbox WHERE telegram_chat_id = $1",
      [stranger],
    );
    expect(rows[0].n).toBe(0);
    // Another tenant's bot id is not found, as on the locking path.
    const foreign = { ...bot, tenantId: newTenant() };
    await expect(say(foreign, stranger, "hello?")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("never writes another tenant's session", async () => {
    const { bot, repo, user, session } = await started();
    const id = updateId++;
    const peeked = await repo.sessions.peekLive(bot.botId, id, user);
    const other = repoFor(env, newTenant());
    // Its journey is not found for the other tenant (so no session waits), and neither is the bot.
    for (const text of ["5", "abc"]) {
      await expect(unlocked(other, bot.botId, user, id, peeked, text)).rejects.toMatchObject({ code: "NOT_FOUND" });
    }
    expect((await session()).answers).toEqual({});
    expect(await outboxOf(env, (await session()).id)).toHaveLength(1);
    expect(await recorded(bot.botId, id)).toBe(0);
    expect(await other.sessions.peekLive(bot.botId, id, user)).toEqual({ seen: false, live: [] });
  });

  it("applies concurrent answers one after another, each once, and a redelivered update once", async () => {
    const { bot, user, session } = await started();
    expect(await say(bot, user, "7")).toMatchObject({ detail: "accepted" }); // on Q2 (text) now
    const ids = [0, 1, 2, 3].map(() => updateId++);
    const results = await Promise.all(
      ids.flatMap((id, i) => [say(bot, user, `answer ${i}`, id), say(bot, user, `answer ${i}`, id)]),
    );
    expect(results.filter((r) => r.status === "processed")).toHaveLength(4);
    expect(results.filter((r) => r.status === "duplicate")).toHaveLength(4);
    const answers = (await session()).answers as Record<string, unknown>;
    // Four answers stored on Q2..Q5, in some order, each once.
    expect(Object.keys(answers).sort()).toEqual(["a1", "a2", "a3", "a4", "a5"]);
    expect(
      Object.entries(answers)
        .filter(([k]) => k !== "a1")
        .map(([, v]) => v)
        .sort(),
    ).toEqual(["answer 0", "answer 1", "answer 2", "answer 3"]);
  });
});
