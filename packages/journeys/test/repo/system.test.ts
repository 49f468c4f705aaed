/**
 * What works across tenants: SystemRepo's lookups for the transports (webhook bot, due rows, stale
 * outbox), the send lease (OutboxLeases) and the pruning of processed update ids.
 */
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { addBot, repoFor } from "../../../../test/support/fixtures.ts";
import { insertOutbox, insertScheduled } from "../../../../test/support/rows.ts";
import { hashSecret } from "../../src/crypto.ts";
import { OutboxLeases, pruneProcessedUpdates, SystemRepo } from "../../src/repo/index.ts";
import { newTenant, world } from "./helpers.ts";

const env = await createTestEnv();
const system = new SystemRepo(env.handle.db);
const leases = new OutboxLeases(env.handle.db);

type World = Awaited<ReturnType<typeof world>>;

/** An outbox row of `w`'s session. */
const outboxRow = (w: World, text: string) =>
  insertOutbox(env, { tenantId: w.tenantId, botId: w.bot.botId, sessionId: w.session.id, chatId: w.user, text });

/** A delay row of `w`'s session, due at `at`, with `status`. */
async function delayRow(w: World, at: Date, status = "pending") {
  const row = await insertScheduled(env, {
    tenantId: w.tenantId,
    sessionId: w.session.id,
    stepId: w.steps[2]!.id,
    chatId: w.user,
    payload: {},
    scheduledFor: at,
  });
  if (status !== "pending") {
    await env.handle.pool.query("UPDATE journey_scheduled_messages SET status = $2 WHERE id = $1", [row.id, status]);
  }
  return row.id;
}

describe("SystemRepo", () => {
  it("botForWebhook returns the tenant, the webhook secret's hash and the stored texts, never the token", async () => {
    const tenantId = newTenant();
    const bot = await addBot(env, tenantId);
    await repoFor(env, tenantId).bots.setTexts(bot.botId, { help_text: "Ask us anything." });
    const found = await system.botForWebhook(bot.botId);
    expect(found).toEqual({
      botId: bot.botId,
      tenantId,
      telegramBotId: bot.telegramBotId,
      username: bot.username,
      firstName: bot.firstName,
      webhookSecretHash: hashSecret(bot.webhookSecret),
      welcome_text: null,
      unknown_link_text: null,
      help_text: "Ask us anything.",
      waiting_text: null,
      unavailable_text: null,
    });
    expect(JSON.stringify(found)).not.toContain(bot.token);
    expect(JSON.stringify(found)).not.toContain(bot.webhookSecret);
    expect(await system.botForWebhook("unknown_bot")).toBeNull();
    expect(await system.botForWebhook("../etc/passwd")).toBeNull();
    expect(await system.botForWebhook("")).toBeNull();
  });

  it("tenantIds lists each tenant with a bot once", async () => {
    const a = newTenant();
    const b = newTenant();
    await addBot(env, a);
    await addBot(env, a);
    await addBot(env, b);
    const ids = await system.tenantIds();
    expect(ids).toEqual(expect.arrayContaining([a, b]));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("pendingScheduledBefore: pending rows due by the horizon, oldest first, across tenants, limited", async () => {
    const a = await world(env);
    const b = await world(env);
    const now = new Date("2001-06-01T12:00:00Z");
    const at = (minutes: number) => new Date(now.getTime() + minutes * 60_000);
    const aOld = await delayRow(a, at(-30));
    const bMid = await delayRow(b, at(-20));
    const aNow = await delayRow(a, now);
    const bLater = await delayRow(b, at(1)); // after the horizon `now`, before at(5)
    for (const status of ["sent", "failed", "cancelled"]) await delayRow(a, at(-25), status);

    const ours = <T extends { tenantId: string }>(rows: T[]) =>
      rows.filter((r) => [a.tenantId, b.tenantId].includes(r.tenantId));
    const due = ours(await system.pendingScheduledBefore(now));
    expect(due.map((r) => [r.id, r.tenantId])).toEqual([
      [aOld, a.tenantId],
      [bMid, b.tenantId],
      [aNow, a.tenantId],
    ]);
    expect(due[0]!.scheduledFor).toEqual(at(-30));
    expect((await system.pendingScheduledBefore(now, 2)).map((r) => r.id)).toEqual([aOld, bMid]);
    expect(ours(await system.pendingScheduledBefore(at(5))).map((r) => r.id)).toEqual([aOld, bMid, aNow, bLater]);
  });

  it("stalePendingOutbox: pending rows older than the cut-off, by id; outboxRow reads one", async () => {
    const a = await world(env);
    const b = await world(env);
    const old1 = await outboxRow(a, "old1");
    const old2 = await outboxRow(b, "old2");
    const oldSent = await outboxRow(a, "old sent");
    const fresh = await outboxRow(a, "fresh");
    await env.handle.pool.query(
      "UPDATE journey_outbox SET created_at = now() - interval '1 hour' WHERE id = ANY($1::bigint[])",
      [[old1.id, old2.id, oldSent.id]],
    );
    await env.handle.pool.query("UPDATE journey_outbox SET status = 'sent' WHERE id = $1", [oldSent.id]);
    const stale = await system.stalePendingOutbox(new Date(Date.now() - 60_000));
    const ids = stale.map((r) => r.id);
    expect(ids).toEqual(expect.arrayContaining([old1.id, old2.id]));
    expect(ids).not.toContain(oldSent.id);
    expect(ids).not.toContain(fresh.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(stale.find((r) => r.id === old2.id)).toEqual({ id: old2.id, tenantId: b.tenantId, botId: b.bot.botId });
    expect(await system.stalePendingOutbox(new Date(), 1)).toHaveLength(1);

    expect(await system.outboxRow(fresh.id)).toEqual(fresh);
    expect(await system.outboxRow(2 ** 50)).toBeNull();
  });
});

describe("OutboxLeases", () => {
  it("claim leases the chat's earliest pending row, once, until it is marked or its lease ends", async () => {
    const w = await world(env);
    const other = await world(env); // another tenant's chat: never touched
    const add = (text: string) => outboxRow(w, text);
    const first = w.outbox; // "hi", added by world()
    const second = await add("second");
    const claimedUntil = async (id: number) =>
      (
        await env.handle.pool.query<{ until: Date | null }>(
          "SELECT claimed_until AS until FROM journey_outbox WHERE id = $1",
          [id],
        )
      ).rows[0]!.until;

    // The job of the later row claims the chat's earliest: the chat leaves in id order.
    const before = Date.now();
    const c1 = await leases.claim(second.id, w.bot.botId, 10_000);
    expect(c1).toMatchObject({
      tenantId: w.tenantId,
      botId: w.bot.botId,
      telegramChatId: w.user,
      ownStatus: "pending",
      nextId: first.id,
      journeyId: w.journey.id,
    });
    expect(c1!.claimed).toEqual({ ...first, claimedUntil: expect.any(Date) });
    const until = (await claimedUntil(first.id))!.getTime();
    expect(until).toBeGreaterThanOrEqual(before + 10_000 - 1_000);
    expect(until).toBeLessThanOrEqual(Date.now() + 10_000 + 1_000);

    // While the lease runs, nobody claims that row, nor overtakes it with the next one.
    const c2 = await leases.claim(first.id, w.bot.botId, 10_000);
    expect(c2).toMatchObject({ nextId: first.id, claimed: null });
    expect(c2!.leaseLeftMs).toBeGreaterThan(8_000);
    expect(await claimedUntil(second.id)).toBeNull();

    // Marked sent: the lease ends with it, and the chat's next row is free — also for the job of
    // the row just sent (a flush goes on through its chat).
    expect(await w.repo.outbox.markSent(first.id)).toBe(true);
    expect(await claimedUntil(first.id)).toBeNull();
    const c3 = await leases.claim(first.id, w.bot.botId, 10_000);
    expect(c3).toMatchObject({ ownStatus: "sent", nextId: second.id });
    expect(c3!.claimed?.id).toBe(second.id);

    // A lease that ran out (its sender died) is claimed again.
    await env.handle.pool.query("UPDATE journey_outbox SET claimed_until = now() - interval '1 second' WHERE id = $1", [
      second.id,
    ]);
    expect((await leases.claim(second.id, w.bot.botId, 10_000))!.claimed?.id).toBe(second.id);

    // A failed try ends the lease; the row, now retried, is left to its own job.
    await w.repo.outbox.recordAttempt(second.id, "503");
    expect(await claimedUntil(second.id)).toBeNull();
    const third = await add("third");
    const behind = await leases.claim(third.id, w.bot.botId, 10_000);
    expect(behind).toMatchObject({ nextId: second.id, nextAttempts: 1, claimed: null });
    expect(behind!.leaseLeftMs).toBeNull();
    expect((await leases.claim(second.id, w.bot.botId, 10_000))!.claimed?.id).toBe(second.id);

    // The job names another bot than the row's: the row's bot is said, nothing is claimed.
    await w.repo.outbox.markSent(second.id);
    const wrong = await leases.claim(third.id, other.bot.botId, 10_000);
    expect(wrong).toMatchObject({ botId: w.bot.botId, tenantId: w.tenantId, claimed: null });
    expect(await claimedUntil(third.id)).toBeNull();

    expect(await claimedUntil(other.outbox.id)).toBeNull();
    expect(await leases.claim(2 ** 50, w.bot.botId, 10_000)).toBeNull();
  });
});

describe("pruneProcessedUpdates", () => {
  it("forgets only claims older than the horizon", async () => {
    const tenantId = newTenant();
    const bot = await addBot(env, tenantId);
    const repo = (await world(env, { tenantId })).repo;
    for (const id of [1, 2, 3]) await repo.updates.claim(bot.botId, id);
    await env.handle.pool.query(
      "UPDATE processed_updates SET processed_at = now() - interval '80 hours' WHERE bot_id = $1 AND update_id IN (1, 2)",
      [bot.botId],
    );
    expect(await pruneProcessedUpdates(env.handle.db, 100)).toBe(0);
    expect(await pruneProcessedUpdates(env.handle.db)).toBe(2);
    expect(await repo.updates.claim(bot.botId, 1)).toBe(true);
    expect(await repo.updates.claim(bot.botId, 3)).toBe(false);
  });
});
