import type { Session, Step } from "../repo/index.ts";
import { type ValidationKind, validateAnswer } from "../validation/index.ts";
import type { EngineContext } from "./context.ts";
import { logAsked, runFrom, say } from "./run.ts";

export type AnswerOutcome =
  | { outcome: "not_waiting" }
  | { outcome: "invalid"; session: Session; error: string }
  | { outcome: "accepted"; session: Session; value: unknown };

/**
 * A text reply to a locked, live session. If it waits on a question: validate; on failure re-prompt
 * and stay; on success store the normalised value and run on to the next blocking step. `steps`,
 * when the caller read them with the lock, are the session's current step and the one after it.
 */
export async function handleAnswer(
  ctx: EngineContext,
  session: Session,
  text: string,
  steps?: { step: Step | null; next: Step | null },
): Promise<AnswerOutcome> {
  if (session.status !== "active" || !session.currentStepId) return { outcome: "not_waiting" };
  // The step after it comes with it (one statement); it is used only if the answer is valid.
  const { step, next } =
    steps?.step?.id === session.currentStepId ? steps : await ctx.repo.stepAndNext(session.currentStepId);
  if (step?.stepType !== "question" || step.removedAt) return { outcome: "not_waiting" };
  const config = step.config as Record<string, unknown>;
  const log = ctx.log.child({ journey_id: session.journeyId, session_id: session.id, step_id: step.id });
  const result = validateAnswer(config.validation as ValidationKind, text);
  if (!result.ok) {
    const error = typeof config.error_text === "string" ? config.error_text : result.error;
    await say(ctx, session, error);
    await ctx.repo.sessions.update(session.id, {});
    log.info({ answer_key: config.answer_key, validation: config.validation }, "answer invalid: re-prompted");
    return { outcome: "invalid", session, error };
  }
  if (next?.stepType === "question") {
    // The most frequent case: store, stand on the next question and queue its text in one
    // statement — what storeAnswerAndAdvance and runFrom's question step do in two.
    const nextConfig = next.config as Record<string, unknown>;
    const asked = await ctx.repo.sessions.storeAnswerAndAsk(session.id, String(config.answer_key), result.value, {
      stepId: next.id,
      botId: ctx.botId,
      text: String(nextConfig.text),
    });
    ctx.effects.outbox.push({ id: asked.outboxId, botId: ctx.botId });
    log.info({ answer_key: config.answer_key }, "answer stored");
    logAsked(ctx.log, next, { journey_id: session.journeyId, session_id: session.id });
    return { outcome: "accepted", session: asked.session, value: result.value };
  }
  const stored = await ctx.repo.sessions.storeAnswerAndAdvance(
    session.id,
    String(config.answer_key),
    result.value,
    next?.id ?? null,
  );
  log.info({ answer_key: config.answer_key }, "answer stored");
  const after = await runFrom(ctx, stored, next);
  return { outcome: "accepted", session: after, value: result.value };
}
