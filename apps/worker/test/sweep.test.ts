/**
 * The sweeper over upcoming delay rows, in process on real Postgres and Redis: the jobs already
 * waiting on time are recognised in bulk (one ZMSCORE), and only the others are looked at one by
 * one — added, rescheduled or promoted.
 */
import { afterAll, describe, expect, it } from "vitest";
import {
  createLogger,
  delayJobId,
  delayJobsOnTime,
  enqueueDelay,
  sweep,
} from "../../../packages/journeys/src/index.ts";
import { world } from "../../../packages/journeys/test/repo/helpers.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { insertScheduled } from "../../../test/support/rows.ts";
import { testQueues } from "./support.ts";

const env = await createTestEnv();
const q = testQueues(env);

afterAll(async () => {
  await q.close();
});

describe("the sweep over upcoming delays", () => {
  it("leaves jobs waiting on time alone, checked in bulk, and mends the rest", async () => {
    const w = await world(env);
    const now = new Date();
    const at = (ms: number) => new Date(now.getTime() + ms);
    const row = (scheduledFor: Date) =>
      insertScheduled(env, {
        tenantId: w.tenantId,
        sessionId: w.session.id,
        stepId: w.steps[2]!.id,
        chatId: w.user,
        scheduledFor,
      });
    const onTime = [await row(at(60_000)), await row(at(61_000))];
    const missing = await row(at(62_000));
    const late = await row(at(63_000));
    const dueButDelayed = await row(at(-1_000));
    for (const r of onTime) await enqueueDelay(q.queues, r.id, r.scheduledFor);
    await enqueueDelay(q.queues, late.id, at(120_000)); // its job would fire a minute late
    await enqueueDelay(q.queues, dueButDelayed.id, at(30_000)); // due now, its job still waits
    await enqueueDelay(q.queues, w.scheduled.id, w.scheduled.scheduledFor); // world()'s row, in an hour

    const rows = [...onTime, missing, late, dueButDelayed, w.scheduled];
    const bulk = await delayJobsOnTime(q.queues, q.redis, rows, now);
    expect([...bulk].sort()).toEqual([...onTime.map((r) => r.id), w.scheduled.id].sort());

    const report = await sweep({
      db: env.handle.db,
      queues: q.queues,
      redis: q.redis,
      log: createLogger("silent"),
      intervalMs: 2 * 3_600_000,
      now: () => now,
    });
    expect(report.delays).toEqual({ present: 3, added: 1, rescheduled: 1, promoted: 1 });
    expect(report.errors).toBe(0);

    // Now every upcoming row's job waits on time; the due one is no longer delayed.
    const after = await delayJobsOnTime(q.queues, q.redis, rows, now);
    expect([...after].sort()).toEqual([...onTime, missing, late, w.scheduled].map((r) => r.id).sort());
    expect(await q.queues.delays.getJob(delayJobId(dueButDelayed.id)).then((j) => j?.getState())).toBe("waiting");
  });
});
