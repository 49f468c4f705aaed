import type { LiveWithSteps, PeekedLive, Session, Step } from "../repo/index.ts";
import { pgCode } from "../retry.ts";
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
  if (!waitingOn(session, step)) return { outcome: "not_waiting" };
  const config = step.config as Record<string, unknown>;
  const log = ctx.log.child({ journey_id: session.journeyId, session_id: session.id, step_id: step.id });
  const result = validateAnswer(config.validation as ValidationKind, text);
  if (!result.ok) {
    const error = repromptText(config, result.error);
    await say(ctx, session, error);
    await ctx.repo.sessions.update(session.id, {});
    logReprompted(log, config);
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
    return acceptedAndAsked(ctx, log, session, next, asked, config, result.value);
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

/** The live session a text answer goes to: the first that waits on a question (as handleAnswer picks). */
export function answerTaker<L extends LiveWithSteps>(live: L[]): (L & { step: Step }) | undefined {
  return live.find((l): l is L & { step: Step } => waitingOn(l.session, l.step));
}

/** Whether `session` waits on `step`, a question: it is active, stands on it, and it is live. */
function waitingOn(session: Session, step: Step | null): step is Step {
  return (
    session.status === "active" &&
    step !== null &&
    step.id === session.currentStepId &&
    step.stepType === "question" &&
    !step.removedAt
  );
}

/** What an invalid answer is told: the question's own error_text, else the validator's message. */
const repromptText = (config: Record<string, unknown>, error: string) =>
  typeof config.error_text === "string" ? config.error_text : error;

const logReprompted = (log: EngineContext["log"], config: Record<string, unknown>) =>
  log.info({ answer_key: config.answer_key, validation: config.validation }, "answer invalid: re-prompted");

/** An answer stored with the next question queued: its effect, its log lines, its outcome. */
function acceptedAndAsked(
  ctx: EngineContext,
  log: EngineContext["log"],
  session: Session,
  next: Step,
  asked: { session: Session; outboxId: number },
  config: Record<string, unknown>,
  value: unknown,
): AnswerOutcome {
  ctx.effects.outbox.push({ id: asked.outboxId, botId: ctx.botId });
  log.info({ answer_key: config.answer_key }, "answer stored");
  logAsked(ctx.log, next, { journey_id: session.journeyId, session_id: session.id });
  return { outcome: "accepted", session: asked.session, value };
}

/**
 * The most frequent updates — an answer to a question, valid with another question after it, or
 * invalid — without a transaction: `live` was read without locks (peekLive). The session that takes
 * the answer is the one handleAnswer would pick (the first live session waiting on a question). One
 * statement then does what handleAnswer would — store the answer and ask the next question, or
 * re-prompt — records `updateId` with it, and applies only if that session is unchanged since it was
 * read. Null in every other case (no such session, another kind of next step, a session changed or
 * the update recorded in the meantime): nothing was written, and the caller takes the locking path.
 * `ctx.repo` is not in a transaction.
 */
export async function answerIfUnchanged(
  ctx: EngineContext,
  updateId: number,
  live: PeekedLive[],
  text: string,
): Promise<AnswerOutcome | null> {
  const taker = answerTaker(live);
  if (!taker) return null;
  const { session, step, next, version } = taker;
  const asRead = { id: session.id, version, stepId: step.id };
  const config = step.config as Record<string, unknown>;
  const result = validateAnswer(config.validation as ValidationKind, text);
  const log = ctx.log.child({ journey_id: session.journeyId, session_id: session.id, step_id: step.id });
  if (!result.ok) {
    const error = repromptText(config, result.error);
    const said = await unlessRecorded(ctx.repo.sessions.repromptIfUnchanged(asRead, updateId, ctx.botId, error));
    if (!said) return null;
    ctx.effects.outbox.push({ id: said.outboxId, botId: ctx.botId });
    logReprompted(log, config);
    return { outcome: "invalid", session: said.session, error };
  }
  if (next?.stepType !== "question") return null;
  const asked = await unlessRecorded(
    ctx.repo.sessions.storeAnswerAndAskIfUnchanged(asRead, updateId, String(config.answer_key), result.value, {
      stepId: next.id,
      botId: ctx.botId,
      text: String((next.config as Record<string, unknown>).text),
    }),
  );
  if (!asked) return null;
  return acceptedAndAsked(ctx, log, session, next, asked, config, result.value);
}

/** A write that also records the update: null when the update was recorded meanwhile. */
async function unlessRecorded<T>(write: Promise<T | null>): Promise<T | null> {
  try {
    return await write;
  } catch (err) {
    const e = err as { table?: string; cause?: { table?: string } };
    if (pgCode(err) === "23505" && (e.table ?? e.cause?.table) === "processed_updates") return null;
    throw err;
  }
}
