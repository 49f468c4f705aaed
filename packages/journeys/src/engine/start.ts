import type { Journey, Session } from "../repo/index.ts";
import { ALREADY_IN_FLOW, type EngineContext } from "./context.ts";
import { runFrom, say } from "./run.ts";

export type StartOutcome =
  | { outcome: "started"; session: Session; restartedSessionId?: string }
  | { outcome: "blocked"; session: Session };

/**
 * Seed: create_or_apply_reentry_policy. Finds the user's live session in this journey (row-locked)
 * and applies the journey's re-entry policy; otherwise inserts a new live session. The partial
 * unique index settles concurrent starts: the loser inserts nothing and re-reads the winner.
 */
export async function createOrApplyReentryPolicy(
  ctx: EngineContext,
  journey: Journey,
  user: { telegramUserId: number; telegramChatId: number },
): Promise<StartOutcome> {
  const log = ctx.log.child({ journey_id: journey.id });
  for (let attempt = 0; attempt < 3; attempt++) {
    const live = await ctx.repo.sessions.getActive(journey.id, user.telegramUserId, { forUpdate: true });
    if (live) {
      if (journey.reEntryPolicy === "restart") {
        await ctx.repo.sessions.cancel(live.id, "restarted");
        log.info({ session_id: live.id }, "re-entry restart: previous session cancelled");
      } else {
        if (journey.reEntryPolicy === "allow") {
          log.info({ session_id: live.id }, "re-entry policy allow is not supported yet; behaving as block");
        }
        return { outcome: "blocked", session: live };
      }
    }
    const created = await ctx.repo.sessions.insertLive(journey.id, user.telegramUserId, user.telegramChatId);
    if (created) return { outcome: "started", session: created, restartedSessionId: live?.id };
  }
  throw new Error(`could not start journey ${journey.id} for user ${user.telegramUserId}: live session kept changing`);
}

/** Seed: engine.start_journey_for_user. Start (or re-enter) the journey and run to the first block. */
export async function startJourneyForUser(
  ctx: EngineContext,
  journey: Journey,
  user: { telegramUserId: number; telegramChatId: number },
): Promise<StartOutcome> {
  const result = await createOrApplyReentryPolicy(ctx, journey, user);
  const log = ctx.log.child({ journey_id: journey.id, session_id: result.session.id });
  if (result.outcome === "blocked") {
    await say(ctx, result.session, ALREADY_IN_FLOW);
    const step = result.session.currentStepId ? await ctx.repo.getStep(result.session.currentStepId) : null;
    if (result.session.status === "active" && step?.stepType === "question") {
      await say(ctx, result.session, String((step.config as Record<string, unknown>).text));
    }
    log.info({ policy: journey.reEntryPolicy }, "re-entry blocked: user already in this flow");
    return result;
  }
  log.info({ restarted_session_id: result.restartedSessionId }, "journey started");
  const first = await ctx.repo.firstStep(journey.id);
  const session = await runFrom(ctx, result.session, first);
  return { ...result, session };
}
