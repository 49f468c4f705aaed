/**
 * setSteps (SPEC §3): validation, ids stable by position, the steps version the engine's step
 * cache follows, and sessions standing on a kept, changed or removed step (cancelled through
 * transition()). Also listSteps / journeys.steps / stepsByIds.
 */
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { type JourneyWorld, tenantWithJourney } from "../../../../test/support/fixtures.ts";
import {
  insertOutbox,
  insertScheduled,
  insertSession,
  outboxOf,
  sessionRow,
  stepRow,
  updateSession,
} from "../../../../test/support/rows.ts";
import type { StepInput } from "../../src/step-config.ts";
import { expectDomainError, FOUR_STEPS, newUser } from "./helpers.ts";

const env = await createTestEnv();

const journeyWithSteps = (steps: StepInput[] = FOUR_STEPS) => tenantWithJourney(env, { steps });

/** A live session standing on `stepId`, with a pending delay row and pending + sent outbox rows. */
async function sessionOn(ctx: JourneyWorld, stepId: string) {
  const { tenantId, bot, journey } = ctx;
  const user = newUser();
  const session = await insertSession(env, { tenantId, journeyId: journey.id, userId: user, currentStepId: stepId });
  const scheduled = await insertScheduled(env, {
    tenantId,
    sessionId: session.id,
    stepId,
    chatId: user,
    scheduledFor: new Date(Date.now() + 60_000),
  });
  const out = (text: string) =>
    insertOutbox(env, { tenantId, botId: bot.botId, sessionId: session.id, chatId: user, text });
  const pending = await out("p");
  const sent = await out("s");
  await env.handle.pool.query("UPDATE journey_outbox SET status = 'sent' WHERE id = $1", [sent.id]);
  return { session, scheduled, pending, sent };
}

/** The journey's steps as the engine reads them (through the step cache, at the journey's current steps version). */
async function engineSteps(ctx: JourneyWorld) {
  const journey = await ctx.repo.journeys.get(ctx.journey.id);
  return (await ctx.repo.sessions.journey(journey)).steps;
}

const CANCELLED = "session cancelled: step_removed_or_changed";

const msg = (text: string): StepInput => ({ step_type: "message", config: { text } });

describe("setSteps validation", () => {
  const bad: Array<[string, StepInput, RegExp]> = [
    ["unknown step_type", { step_type: "video", config: {} }, /unknown step_type/],
    ["missing text", { step_type: "message", config: {} }, /text/],
    ["blank text", { step_type: "message", config: { text: "   " } }, /text/],
    ["config not an object", { step_type: "message", config: "hi" }, /config/],
    [
      "bad validation",
      { step_type: "question", config: { text: "?", answer_key: "k", validation: "telepathy" } },
      /validation/,
    ],
    ["missing answer_key", { step_type: "question", config: { text: "?", validation: "text" } }, /answer_key/],
    ["min > max", { step_type: "delay", config: { min_minutes: 10, max_minutes: 5 } }, /min_minutes/],
    ["negative minutes", { step_type: "delay", config: { min_minutes: -1, max_minutes: 5 } }, /min_minutes/],
    ["text over 4096", msg("x".repeat(4097)), /4096/],
    ["max over 30 days", { step_type: "delay", config: { min_minutes: 0, max_minutes: 43_201 } }, /30 days/],
  ];
  it.each(bad)("%s → VALIDATION naming the index, nothing written", async (_name, step, reason) => {
    const { repo, journey, steps } = await journeyWithSteps();
    const err = await expectDomainError(repo.setSteps(journey.id, [msg("ok"), step]), "VALIDATION", reason);
    expect(err.message).toMatch(/steps\[1\]/);
    expect(await repo.listSteps(journey.id)).toEqual(steps);
  });

  it("accepts the limits: 4096 chars, 30 days, fractions, conditional", async () => {
    const { repo, journey } = await journeyWithSteps();
    const { steps } = await repo.setSteps(journey.id, [
      msg("x".repeat(4096)),
      { step_type: "delay", config: { min_minutes: 0.5, max_minutes: 43_200 } },
      { step_type: "conditional", config: { else: "end" } },
    ]);
    expect(steps.map((s) => s.stepType)).toEqual(["message", "delay", "conditional"]);
  });

  it("an unknown journey is NOT_FOUND", async () => {
    const { repo } = await journeyWithSteps();
    await expectDomainError(repo.setSteps(crypto.randomUUID(), [msg("x")]), "NOT_FOUND");
    await expectDomainError(repo.listSteps("nope"), "NOT_FOUND");
  });
});

describe("setSteps replacement", () => {
  it("updates in place by position: ids stay stable, order and config follow the input", async () => {
    const { repo, journey, steps } = await journeyWithSteps();
    const input = FOUR_STEPS.map((s, i) => (i === 1 ? msg("Thanks, updated") : s));
    const { steps: after, cancelledSessionIds } = await repo.setSteps(journey.id, input);
    expect(after.map((s) => s.id)).toEqual(steps.map((s) => s.id));
    expect(after.map((s) => s.stepOrder)).toEqual([1, 2, 3, 4]);
    expect(after[1]!.config).toEqual({ text: "Thanks, updated" });
    expect(cancelledSessionIds).toEqual([]);
    expect(await repo.journeys.steps(journey.id)).toEqual(after);
  });

  it("a session on a kept step keeps going with the new config", async () => {
    const ctx = await journeyWithSteps();
    const on = await sessionOn(ctx, ctx.steps[1]!.id);
    const { cancelledSessionIds } = await ctx.repo.setSteps(ctx.journey.id, [FOUR_STEPS[0]!, msg("New text")]);
    expect(cancelledSessionIds).toEqual([]);
    const session = await ctx.repo.sessions.get(on.session.id);
    expect([session.status, session.currentStepId]).toEqual(["active", ctx.steps[1]!.id]);
    expect((await stepRow(env, ctx.steps[1]!.id))?.config).toEqual({ text: "New text" });
    expect((await ctx.repo.scheduled.get(on.scheduled.id))?.status).toBe("pending");
    expect((await outboxOf(env, on.session.id)).map((o) => o.status)).toEqual(["pending", "sent"]);
  });

  it("a session on a step that changed type is cancelled with its pending rows", async () => {
    const ctx = await journeyWithSteps();
    const changed = await sessionOn(ctx, ctx.steps[0]!.id); // question → message
    const kept = await sessionOn(ctx, ctx.steps[1]!.id);
    const input = [msg("no longer a question"), ...FOUR_STEPS.slice(1)];
    const { steps, cancelledSessionIds } = await ctx.repo.setSteps(ctx.journey.id, input);
    expect(cancelledSessionIds).toEqual([changed.session.id]);
    expect(steps[0]).toMatchObject({ id: ctx.steps[0]!.id, stepType: "message", removedAt: null });

    expect((await ctx.repo.sessions.get(changed.session.id)).status).toBe("cancelled");
    expect(await ctx.repo.scheduled.get(changed.scheduled.id)).toMatchObject({ status: "cancelled", error: CANCELLED });
    const outbox = await outboxOf(env, changed.session.id);
    expect(outbox.map((o) => [o.id, o.status])).toEqual([
      [changed.pending.id, "cancelled"],
      [changed.sent.id, "sent"],
    ]);
    expect((await ctx.repo.sessions.get(kept.session.id)).status).toBe("active");
    expect((await ctx.repo.scheduled.get(kept.scheduled.id))?.status).toBe("pending");
  });

  it("a session on a removed step is cancelled; referenced steps are kept as removed, others deleted", async () => {
    const ctx = await journeyWithSteps();
    const onRemoved = await sessionOn(ctx, ctx.steps[2]!.id);
    const onKept = await sessionOn(ctx, ctx.steps[0]!.id);
    const { steps, cancelledSessionIds } = await ctx.repo.setSteps(ctx.journey.id, FOUR_STEPS.slice(0, 2));
    expect(cancelledSessionIds).toEqual([onRemoved.session.id]);
    expect(steps.map((s) => s.id)).toEqual(ctx.steps.slice(0, 2).map((s) => s.id));
    expect((await ctx.repo.sessions.get(onRemoved.session.id)).status).toBe("cancelled");
    expect(await ctx.repo.scheduled.get(onRemoved.scheduled.id)).toMatchObject({
      status: "cancelled",
      error: CANCELLED,
    });
    expect((await ctx.repo.sessions.get(onKept.session.id)).status).toBe("active");

    const { rows } = await env.handle.pool.query(
      "SELECT id, removed_at IS NOT NULL AS removed FROM journey_steps WHERE journey_id = $1 ORDER BY step_order",
      [ctx.journey.id],
    );
    expect(rows).toEqual([
      { id: ctx.steps[0]!.id, removed: false },
      { id: ctx.steps[1]!.id, removed: false },
      { id: ctx.steps[2]!.id, removed: true }, // referenced by the session and its delay row
    ]); // step 4 was referenced by nothing: deleted
    expect((await stepRow(env, ctx.steps[2]!.id))?.removedAt).toBeInstanceOf(Date);
    expect(await stepRow(env, ctx.steps[3]!.id)).toBeNull();
    expect((await ctx.repo.listSteps(ctx.journey.id)).map((s) => s.id)).toEqual(steps.map((s) => s.id));
    // The engine still sees the removed step (sessions may stand on it), flagged: no step follows step 2.
    expect((await engineSteps(ctx)).map((s) => [s.id, s.removed])).toEqual([
      [ctx.steps[0]!.id, false],
      [ctx.steps[1]!.id, false],
      [ctx.steps[2]!.id, true],
    ]);
  });

  it("a step referenced only by a delay row of a finished session is kept as removed", async () => {
    const ctx = await journeyWithSteps();
    const on = await sessionOn(ctx, ctx.steps[3]!.id);
    await updateSession(env, on.session.id, { status: "completed", currentStepId: null });
    const { cancelledSessionIds } = await ctx.repo.setSteps(ctx.journey.id, FOUR_STEPS.slice(0, 3));
    expect(cancelledSessionIds).toEqual([]);
    expect((await stepRow(env, ctx.steps[3]!.id))?.removedAt).toBeInstanceOf(Date);
    expect((await sessionRow(env, on.session.id))?.status).toBe("completed");
  });

  it("growing again adds new steps; the engine sees the removed one beside them, flagged", async () => {
    const ctx = await journeyWithSteps();
    await sessionOn(ctx, ctx.steps[2]!.id);
    await ctx.repo.setSteps(ctx.journey.id, FOUR_STEPS.slice(0, 2));
    const { steps } = await ctx.repo.setSteps(ctx.journey.id, [...FOUR_STEPS.slice(0, 2), msg("new 3"), msg("new 4")]);
    expect(steps.map((s) => s.stepOrder)).toEqual([1, 2, 3, 4]);
    expect(steps[2]!.id).not.toBe(ctx.steps[2]!.id);
    const seen = await engineSteps(ctx);
    expect(seen.filter((s) => !s.removed).map((s) => s.id)).toEqual(steps.map((s) => s.id));
    expect(seen.filter((s) => s.removed).map((s) => s.id)).toEqual([ctx.steps[2]!.id]);

    // Emptying the journey: no live step is left; the referenced old step 3 stays, still removed.
    expect((await ctx.repo.setSteps(ctx.journey.id, [])).steps).toEqual([]);
    const { rows } = await env.handle.pool.query(
      "SELECT id FROM journey_steps WHERE journey_id = $1 AND removed_at IS NULL",
      [ctx.journey.id],
    );
    expect(rows).toEqual([]);
    expect((await engineSteps(ctx)).map((s) => [s.id, s.removed])).toEqual([[ctx.steps[2]!.id, true]]);
  });

  it("each replacement bumps the steps version, and the engine's cached steps follow it; a refused one does not", async () => {
    const ctx = await journeyWithSteps();
    const v0 = ctx.journey.stepsVersion;
    expect((await engineSteps(ctx)).map((s) => s.stepType)).toEqual(["question", "message", "delay", "message"]);
    await ctx.repo.setSteps(ctx.journey.id, [msg("only")]);
    expect((await ctx.repo.journeys.get(ctx.journey.id)).stepsVersion).toBe(v0 + 1);
    expect((await engineSteps(ctx)).map((s) => [s.stepType, s.config])).toEqual([["message", { text: "only" }]]);
    await ctx.repo.setSteps(ctx.journey.id, [msg("only, reworded")]);
    expect((await ctx.repo.journeys.get(ctx.journey.id)).stepsVersion).toBe(v0 + 2);
    expect((await engineSteps(ctx)).map((s) => s.config)).toEqual([{ text: "only, reworded" }]);
    await expectDomainError(ctx.repo.setSteps(ctx.journey.id, [msg("")]), "VALIDATION");
    expect((await ctx.repo.journeys.get(ctx.journey.id)).stepsVersion).toBe(v0 + 2);
  });

  it("step reads: listSteps and journeys.steps in order, stepsByIds; malformed ids are simply not found", async () => {
    const { repo, journey, steps } = await journeyWithSteps();
    expect((await repo.listSteps(journey.id)).map((s) => s.stepType)).toEqual([
      "question",
      "message",
      "delay",
      "message",
    ]);
    expect(await repo.journeys.steps(journey.id)).toEqual(steps);
    expect(await repo.journeys.steps("nope")).toEqual([]);
    expect(await repo.journeys.stepsByIds([steps[1]!.id])).toEqual([steps[1]]);
  });
});
