import type { Session, Step } from "../repo/index.ts";
import { pickDelayMs } from "../step-config.ts";
import type { EngineContext } from "./context.ts";

/** A journey has at most 200 steps; the bound only guards against a loop we did not foresee. */
const MAX_STEPS_PER_RUN = 250;

async function say(ctx: EngineContext, session: Session, text: string) {
  const row = await ctx.repo.sessions.addOutbox({
    sessionId: session.id,
    botId: ctx.botId,
    telegramChatId: session.telegramChatId,
    text,
  });
  ctx.effects.outbox.push({ id: row.id, botId: ctx.botId });
  return row;
}

/** The log line of a question put to the user; `log` or `bindings` name the journey and the session. */
function logAsked(log: EngineContext["log"], step: Step, bindings: Record<string, unknown> = {}) {
  const config = step.config as Record<string, unknown>;
  log.info(
    { ...bindings, step_id: step.id, step_order: step.stepOrder, answer_key: config.answer_key },
    "question asked",
  );
}

/**
 * Run a locked session from `step` until a step blocks (question, delay) or the journey ends.
 * Caller holds the session's row lock inside the transaction `ctx.repo` is bound to.
 */
export async function runFrom(ctx: EngineContext, session: Session, start: Step | null): Promise<Session> {
  const log = ctx.log.child({ journey_id: session.journeyId, session_id: session.id });
  let step = start;
  for (let i = 0; i < MAX_STEPS_PER_RUN; i++) {
    if (!step) {
      log.info("journey completed");
      return ctx.repo.sessions.update(session.id, { status: "completed", currentStepId: null });
    }
    const config = step.config as Record<string, unknown>;
    switch (step.stepType) {
      case "message":
        await say(ctx, session, String(config.text));
        log.debug({ step_id: step.id, step_order: step.stepOrder }, "message step queued");
        break;
      case "question":
        await say(ctx, session, String(config.text));
        logAsked(log, step);
        // Every caller passes the session as its own statement just wrote it (last_activity_at is
        // fresh): when that write already stood it on this question, a second update adds nothing.
        if (session.status === "active" && session.currentStepId === step.id) return session;
        return ctx.repo.sessions.update(session.id, { status: "active", currentStepId: step.id });
      case "delay": {
        const now = ctx.now?.() ?? new Date();
        const delayMs = pickDelayMs(config, ctx.random);
        const scheduledFor = new Date(now.getTime() + delayMs);
        const row = await ctx.repo.sessions.scheduleMessage({
          sessionId: session.id,
          stepId: step.id,
          telegramChatId: session.telegramChatId,
          payload: { kind: "resume_after_delay", delay_minutes: Math.round(delayMs / 600) / 100 },
          scheduledFor,
        });
        ctx.effects.scheduled.push({ id: row.id, scheduledFor });
        log.info(
          {
            step_id: step.id,
            scheduled_message_id: row.id,
            scheduled_for: scheduledFor.toISOString(),
            delay_ms: delayMs,
          },
          "delay scheduled",
        );
        return ctx.repo.sessions.update(session.id, { status: "waiting_delay", currentStepId: step.id });
      }
      case "conditional":
        log.info({ step_id: step.id, step_order: step.stepOrder }, "conditional step skipped (not supported in v1)");
        break;
    }
    step = await ctx.repo.nextStepAfter(session.journeyId, step.stepOrder);
  }
  throw new Error(`session ${session.id} ran more than ${MAX_STEPS_PER_RUN} steps in one transition`);
}

export { logAsked, say };
