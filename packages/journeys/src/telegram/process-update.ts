import type { Database } from "../db/client.ts";
import { answerIfUnchanged, answerTaker, handleAnswer } from "../engine/answer.ts";
import { type Dispatcher, type Effects, type EngineContext, emptyEffects } from "../engine/context.ts";
import { startJourneyForUser } from "../engine/start.ts";
import type { Logger } from "../logger.ts";
import { type LiveWithSteps, TenantRepository } from "../repo/index.ts";
import { withRetry } from "../retry.ts";
import { type ClassifiedUpdate, classifyUpdate, updateIdOf } from "./parse.ts";

export interface UpdateDeps {
  db: Database;
  encryptionKey: Buffer;
  dispatcher: Dispatcher;
  log: Logger;
}

/** The bot a webhook route resolved: tenant and bot come from here, never from the update body. */
export interface WebhookBot {
  botId: string;
  tenantId: string;
  username: string;
}

export type UpdateResult =
  | { status: "malformed" }
  | { status: "duplicate"; updateId: number }
  | { status: "processed"; updateId: number; kind: ClassifiedUpdate["kind"]; detail?: string };

/**
 * Process one Telegram update at most once: the (bot, update_id) claim, the session transition
 * and its outbox rows commit together, so a redelivered update is a no-op and a failed one leaves
 * nothing behind for Telegram's retry to trip over. Jobs are enqueued only after the commit.
 */
export async function processUpdate(deps: UpdateDeps, bot: WebhookBot, body: unknown): Promise<UpdateResult> {
  const updateId = updateIdOf(body);
  if (updateId === null) return { status: "malformed" };
  const log = deps.log.child({ tenant_id: bot.tenantId, bot_id: bot.botId, update_id: updateId });
  const update = classifyUpdate(body as Record<string, unknown>, bot.username);
  const base = new TenantRepository(deps.db, bot.tenantId, deps.encryptionKey);

  if (update.kind === "text") {
    const effects = emptyEffects();
    const detail = await textWithoutTransaction({ repo: base, botId: bot.botId, log, effects }, updateId, update);
    if (detail) {
      log.debug({ kind: update.kind, detail }, "update processed");
      await deps.dispatcher.dispatch(effects);
      return { status: "processed", updateId, kind: update.kind, detail };
    }
  }

  let effects: Effects = emptyEffects();
  const result = await withRetry(
    () =>
      base.transaction(async (repo) => {
        effects = emptyEffects();
        const ctx: EngineContext = { repo, botId: bot.botId, log, effects };
        if (update.kind === "text") {
          // The most frequent update, an answer: claim and session lock in one round trip.
          const { claimed, live } = await repo.sessions.claimUpdateLockingLive(bot.botId, updateId, update.userId);
          if (!claimed) {
            await repo.bots.get(bot.botId); // not this tenant's bot → NOT_FOUND; otherwise a duplicate
            return { status: "duplicate", updateId } as const;
          }
          const detail = await answer(ctx, live, update.text);
          return { status: "processed", updateId, kind: update.kind, detail } as const;
        }
        if (!(await repo.bots.claimUpdate(bot.botId, updateId))) return { status: "duplicate", updateId } as const;
        const detail = await apply(ctx, update);
        return { status: "processed", updateId, kind: update.kind, detail } as const;
      }),
    { log },
  );
  if (result.status === "duplicate") log.info("duplicate update ignored");
  else log.debug({ kind: result.kind, detail: result.detail }, "update processed");
  await deps.dispatcher.dispatch(effects);
  return result;
}

/**
 * The most frequent updates, answers to questions (valid with a question after it, or invalid), in
 * one statement and no transaction, when nothing changed since a read without locks; a text no
 * session waits for changes nothing, so recording it is all there is to do. Null — the update
 * seen before, a claim that failed (a duplicate, or not this tenant's bot), a write that did not
 * apply — leaves the update to the locking transaction.
 */
async function textWithoutTransaction(
  ctx: EngineContext,
  updateId: number,
  update: { userId: number; text: string },
): Promise<string | null> {
  const { seen, live } = await ctx.repo.sessions.peekLive(ctx.botId, updateId, update.userId);
  if (seen) return null;
  if (answerTaker(live)) return (await answerIfUnchanged(ctx, updateId, live, update.text))?.outcome ?? null;
  return (await ctx.repo.bots.claimUpdate(ctx.botId, updateId)) ? "no_session_waiting" : null;
}

/** A text is the answer of the first locked live session that waits on a question. */
async function answer(ctx: EngineContext, live: LiveWithSteps[], text: string): Promise<string> {
  for (const { session, step, next } of live) {
    const r = await handleAnswer(ctx, session, text, { step, next });
    if (r.outcome !== "not_waiting") return r.outcome;
  }
  return "no_session_waiting";
}

/** Every other update, once claimed (a text is answered above). */
async function apply(
  ctx: EngineContext,
  update: Exclude<ClassifiedUpdate, { kind: "text" }>,
): Promise<string | undefined> {
  switch (update.kind) {
    case "start": {
      if (update.invalidParam) {
        ctx.log.info("deep-link param outside [A-Za-z0-9_-]{1,64}: ignored");
        return "invalid_param";
      }
      if (!update.param) return "no_param";
      const journey = await ctx.repo.journeys.activeByDeeplink(ctx.botId, update.param);
      if (!journey) {
        ctx.log.info({ start_param: update.param }, "no active journey for deep link");
        return "no_journey";
      }
      const r = await startJourneyForUser(ctx, journey, {
        telegramUserId: update.userId,
        telegramChatId: update.chatId,
      });
      return r.outcome;
    }
    case "blocked": {
      const live = await ctx.repo.sessions.liveForUserOnBot(ctx.botId, update.userId, { forUpdate: true });
      for (const session of live) {
        await ctx.repo.sessions.cancel(session.id, "user blocked the bot");
        ctx.log.info(
          { journey_id: session.journeyId, session_id: session.id },
          "user blocked the bot: session cancelled",
        );
      }
      return `cancelled_${live.length}`;
    }
    case "ignored":
      ctx.log.debug({ type: update.type }, "update type ignored");
      return update.type;
  }
}
