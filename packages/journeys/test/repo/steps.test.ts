/**
 * setSteps (SPEC §3): validation, ids stable by position, and sessions standing on a kept,
 * changed or removed step. Also listSteps / firstStep / nextStepAfter / getStep / journeys.steps.
 */
import { describe, expect, it } from "vitest";
import { createTestEnv } from "../../../../test/support/context.ts";
import { addBot, repoFor } from "../../../../test/support/fixtures.ts";
import type { StepInput } from "../../src/step-config.ts";
import { expectDomainError, FOUR_STEPS, newTenant, newUser } from "./helpers.ts";

const env = await createTestEnv();

async function journeyWithSteps(steps: StepInput[] = FOUR_STEPS) {
  const tenantId = newTenant();
  const repo = repoFor(env, tenantId);
  const bot = await addBot(env, tenantId);
  const journey = await repo.journeys.create({ botId: bot.botId, name: "j", status: "active" });
  const result = await repo.setSteps(journey.id, steps);
  return { repo, bot, journey, steps: result.steps };
}

/** A live session standing on `stepId`, with a pending delay row and pending + sent outbox rows. */
async function sessionOn(ctx: Awaited<ReturnType<typeof journeyWithSteps>>, stepId: string) {
  const { repo, bot, journey } = ctx;
  const user = newUser();
  const created = await repo.sessions.insertLive(journey.id, user, user);
  const session = await repo.sessions.updateCurrentStep(created!.id, stepId);
  const scheduled = await repo.sessions.scheduleMessage({
    sessionId: session.id,
    stepId,
    telegramChatId: user,
    payload: {},
    scheduledFor: new Date(Date.now() + 60_000),
  });
  const pending = await repo.sessions.addOutbox({
    sessionId: session.id,
    botId: bot.botId,
    telegramChatId: user,
    text: "p",
  });
  const sent = await repo.sessions.addOutbox({
    sessionId: session.id,
    botId: bot.botId,
    telegramChatId: user,
    text: "s",
  });
  await env.handle.pool.query("UPDATE journey_outbox SET status = 'sent' WHERE id = $1", [sent.id]);
  return { session, scheduled, pending, sent };
}

const msg = (text: string): StepInput => ({ step_type: "message", config: { text } });

describe("setSteps validation", () => {
  const bad: Array<[string, StepInput, RegExp]> = [
    ["unknown step_type", { step_type: "video", config: {} }, /unknown step_type/],
    ["missing text", { step_type: "message", config: {} }, /text/],
    ["blank text", { step_type: "message", config: { text: "   " } }, /text/],
    ["config not an object", { step_type: "message", config: "hi" }, /config/],
    [
      "bad validation",
      { step_type: "question", config: { text: "?", answer_key: "k", validation: "email" } },
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
      { step_type: "conditional", config: {} },
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
    expect((await ctx.repo.getStep(ctx.steps[1]!.id))?.config).toEqual({ text: "New text" });
    expect((await ctx.repo.sessions.getScheduled(on.scheduled.id))?.status).toBe("pending");
    expect((await ctx.repo.sessions.listOutbox(on.session.id)).map((o) => o.status)).toEqual(["pending", "sent"]);
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
    expect((await ctx.repo.sessions.getScheduled(changed.scheduled.id))?.status).toBe("cancelled");
    const outbox = await ctx.repo.sessions.listOutbox(changed.session.id);
    expect(outbox.map((o) => [o.id, o.status])).toEqual([
      [changed.pending.id, "cancelled"],
      [changed.sent.id, "sent"],
    ]);
    expect((await ctx.repo.sessions.get(kept.session.id)).status).toBe("active");
    expect((await ctx.repo.sessions.getScheduled(kept.scheduled.id))?.status).toBe("pending");
  });

  it("a session on a removed step is cancelled; referenced steps are kept as removed, others deleted", async () => {
    const ctx = await journeyWithSteps();
    const onRemoved = await sessionOn(ctx, ctx.steps[2]!.id);
    const onKept = await sessionOn(ctx, ctx.steps[0]!.id);
    const { steps, cancelledSessionIds } = await ctx.repo.setSteps(ctx.journey.id, FOUR_STEPS.slice(0, 2));
    expect(cancelledSessionIds).toEqual([onRemoved.session.id]);
    expect(steps.map((s) => s.id)).toEqual(ctx.steps.slice(0, 2).map((s) => s.id));
    expect((await ctx.repo.sessions.get(onRemoved.session.id)).status).toBe("cancelled");
    expect((await ctx.repo.sessions.getScheduled(onRemoved.scheduled.id))?.status).toBe("cancelled");
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
    expect((await ctx.repo.getStep(ctx.steps[2]!.id))?.removedAt).toBeInstanceOf(Date);
    expect(await ctx.repo.getStep(ctx.steps[3]!.id)).toBeNull();
    expect((await ctx.repo.listSteps(ctx.journey.id)).map((s) => s.id)).toEqual(steps.map((s) => s.id));
    expect(await ctx.repo.nextStepAfter(ctx.journey.id, 2)).toBeNull();
  });

  it("a step referenced only by a delay row of a finished session is kept as removed", async () => {
    const ctx = await journeyWithSteps();
    const on = await sessionOn(ctx, ctx.steps[3]!.id);
    await ctx.repo.sessions.update(on.session.id, { status: "completed", currentStepId: null });
    const { cancelledSessionIds } = await ctx.repo.setSteps(ctx.journey.id, FOUR_STEPS.slice(0, 3));
    expect(cancelledSessionIds).toEqual([]);
    expect((await ctx.repo.getStep(ctx.steps[3]!.id))?.removedAt).toBeInstanceOf(Date);
  });

  it("growing again adds new steps; nextStepAfter and firstStep skip removed ones", async () => {
    const ctx = await journeyWithSteps();
    await sessionOn(ctx, ctx.steps[2]!.id);
    await ctx.repo.setSteps(ctx.journey.id, FOUR_STEPS.slice(0, 2));
    const { steps } = await ctx.repo.setSteps(ctx.journey.id, [...FOUR_STEPS.slice(0, 2), msg("new 3"), msg("new 4")]);
    expect(steps.map((s) => s.stepOrder)).toEqual([1, 2, 3, 4]);
    expect(steps[2]!.id).not.toBe(ctx.steps[2]!.id);
    expect(await ctx.repo.nextStepAfter(ctx.journey.id, 2)).toEqual(steps[2]);
    expect(await ctx.repo.nextStepAfter(ctx.journey.id, 3)).toEqual(steps[3]);
    expect(await ctx.repo.nextStepAfter(ctx.journey.id, 4)).toBeNull();
    expect(await ctx.repo.firstStep(ctx.journey.id)).toEqual(steps[0]);

    // Emptying the journey: no first step; the referenced old step 3 stays, still removed.
    expect((await ctx.repo.setSteps(ctx.journey.id, [])).steps).toEqual([]);
    expect(await ctx.repo.firstStep(ctx.journey.id)).toBeNull();
    const { rows } = await env.handle.pool.query(
      "SELECT id FROM journey_steps WHERE journey_id = $1 AND removed_at IS NULL",
      [ctx.journey.id],
    );
    expect(rows).toEqual([]);
    expect((await ctx.repo.getStep(ctx.steps[2]!.id))?.removedAt).toBeInstanceOf(Date);
  });

  it("step reads: listSteps in order, getStep by id, malformed ids are simply not found", async () => {
    const { repo, journey, steps } = await journeyWithSteps();
    expect((await repo.listSteps(journey.id)).map((s) => s.stepType)).toEqual([
      "question",
      "message",
      "delay",
      "message",
    ]);
    expect(await repo.getStep(steps[2]!.id)).toEqual(steps[2]);
    expect(await repo.getStep("nope")).toBeNull();
    expect(await repo.firstStep("nope")).toBeNull();
    expect(await repo.journeys.steps("nope")).toEqual([]);
    expect(await repo.journeys.stepsByIds([steps[1]!.id])).toEqual([steps[1]]);
  });
});
