import { openData } from "../callback-seal.ts";
import type { Database } from "../db/client.ts";
import type { BotTexts } from "../engine/bot-texts.ts";
import { type ConversationResult, converse, type UserEvent } from "../engine/conversation.ts";
import { questionWaitedOn, transition } from "../engine/transition.ts";
import type { Clock, JourneyDef, OutItem, SessionState, TelegramUser, TransitionResult } from "../engine/types.ts";
import type { Logger } from "../logger.ts";
import { type Dispatcher, type Effects, emptyEffects } from "../queue/effects.ts";
import { type SessionRead, stateOf, TenantRepository } from "../repo/index.ts";
import { pgCode, withRetry } from "../retry.ts";
import { logTransition } from "../transition-log.ts";
import { type ClassifiedUpdate, classifyUpdate, type From, updateIdOf } from "./parse.ts";

export interface UpdateDeps {
  db: Database;
  encryptionKey: Buffer;
  dispatcher: Dispatcher;
  log: Logger;
  /** Time and randomness for transition() (tests fix them); the system clock by default. */
  clock?: () => Clock;
}

/** The bot a webhook route resolved: tenant and bot come from here, never from the update body. */
export interface WebhookBot {
  botId: string;
  tenantId: string;
  username: string;
  /** The bot's texts (stored or default), read with the bot's row; the defaults when absent. */
  texts?: BotTexts;
}

export type UpdateResult =
  | { status: "malformed" }
  | { status: "duplicate"; updateId: number }
  | { status: "processed"; updateId: number; kind: ClassifiedUpdate["kind"]; detail?: string };

const systemClock = (): Clock => ({ now: new Date(), random: Math.random });

/**
 * Process one Telegram update at most once. The update becomes an engine event; transition()
 * decides; the applier writes its result together with the (bot, update_id) claim — in one
 * statement without a lock for most answers (answerWithoutLock), else in one transaction holding the
 * session row locks — so a redelivered update is a no-op and a failed one leaves nothing behind for
 * Telegram's retry to trip over. Jobs are enqueued, and log lines written, only after the commit.
 */
export async function processUpdate(deps: UpdateDeps, bot: WebhookBot, body: unknown): Promise<UpdateResult> {
  const updateId = updateIdOf(body);
  if (updateId === null) return { status: "malformed" };
  const log = deps.log.child({ tenant_id: bot.tenantId, bot_id: bot.botId, update_id: updateId });
  const update = classifyUpdate(body as Record<string, unknown>, bot.username);
  const base = new TenantRepository(deps.db, bot.tenantId, deps.encryptionKey);

  const clock = deps.clock ?? systemClock;

  if (update.kind === "text") {
    const done = await answerWithoutLock(base, bot, updateId, update, log, clock);
    if (done) {
      log.debug({ kind: update.kind, detail: done.detail }, "update processed");
      await deps.dispatcher.dispatch(done.effects);
      return { status: "processed", updateId, kind: update.kind, detail: done.detail };
    }
  }

  let run = new Run(log, clock);
  const result = await withRetry(
    () =>
      base.transaction(async (repo) => {
        run = new Run(log, clock);
        if (update.kind === "text") {
          // The answer's claim and session locks in one round trip.
          const { claimed, live } = await repo.sessions.claimUpdateLockingLive(bot.botId, updateId, update.userId);
          if (!claimed) {
            await repo.bots.get(bot.botId); // not this tenant's bot → NOT_FOUND; otherwise a duplicate
            return { status: "duplicate", updateId } as const;
          }
          const detail = await answerLocked(repo, run, bot, live, update);
          return { status: "processed", updateId, kind: update.kind, detail } as const;
        }
        if (!(await repo.updates.claim(bot.botId, updateId))) return { status: "duplicate", updateId } as const;
        const detail = await applyOther(repo, run, bot, update);
        return { status: "processed", updateId, kind: update.kind, detail } as const;
      }),
    { log },
  );
  run.committed();
  if (result.status === "duplicate") log.info("duplicate update ignored");
  else log.debug({ kind: result.kind, detail: result.detail }, "update processed");
  await deps.dispatcher.dispatch(run.effects);
  return result;
}

/** What a locking transaction applied: effects to dispatch and log lines to write once it commits. */
export class Run {
  readonly effects: Effects = emptyEffects();
  private readonly lines: (() => void)[] = [];
  constructor(
    readonly log: Logger,
    readonly clock: () => Clock,
  ) {}

  async apply(repo: TenantRepository, botId: string, journeyId: string, result: TransitionResult) {
    const applied = await repo.sessions.apply(result, { botId });
    if (!applied.applied) return applied;
    this.effects.outbox.push(...applied.effects.outbox);
    this.effects.scheduled.push(...applied.effects.scheduled);
    this.lines.push(() => logTransition(this.log, result, { journeyId, ...applied }));
    return applied;
  }

  /** What the bot says outside any session, queued to the chat. */
  async reply(repo: TenantRepository, botId: string, chatId: number, replies: readonly OutItem[]) {
    const effects = await repo.sessions.reply(botId, chatId, replies);
    this.effects.outbox.push(...effects.outbox);
    if (replies.length > 0)
      this.lines.push(() => this.log.info({ replies: replies.length }, "bot replied outside a session"));
  }

  /** A conversation's results for the candidates, then its replies. */
  async applyConversation(
    repo: TenantRepository,
    bot: WebhookBot,
    chatId: number,
    live: Candidate[],
    c: ConversationResult,
  ) {
    for (const { live: i, result } of c.sessions) {
      const target = live[i];
      if (target) await this.apply(repo, bot.botId, target.journey.id, result);
    }
    await this.reply(repo, bot.botId, chatId, c.replies);
  }

  committed() {
    for (const line of this.lines) line();
  }
}

interface Candidate {
  read: SessionRead;
  journey: JourneyDef;
  session: SessionState;
}

const candidates = (repo: TenantRepository, live: SessionRead[]): Promise<Candidate[]> =>
  Promise.all(
    live.map(async (read) => ({ read, journey: await repo.sessions.journeyOf(read), session: stateOf(read) })),
  );

/**
 * The most frequent update, an answer, without a transaction: the sessions read without locks,
 * converse() on them, and — when that changes one session and says nothing outside it — the result
 * written in one statement that records the update and applies only if that session's row version
 * is still the one read. A text that changes nothing is recorded and that is all. Null — the update
 * seen before, a claim that failed, a session changed since the read, a result that needs more than
 * one statement — leaves it to the locking path.
 */
export async function answerWithoutLock(
  repo: TenantRepository,
  b: WebhookBot,
  updateId: number,
  update: { userId: number; chatId?: number; text: string; forwarded?: boolean; languageCode?: string },
  log: Logger,
  clock: () => Clock = systemClock,
  /** The read, when the caller made it (a test putting a concurrent write between read and write). */
  peeked?: { seen: boolean; live: SessionRead[] },
): Promise<{ detail: string; effects: Effects } | null> {
  const { seen, live } = peeked ?? (await repo.sessions.peekLive(b.botId, updateId, update.userId));
  if (seen) return null;
  const cands = await candidates(repo, live);
  const c = converse(b.texts, cands, textEvent(update), clock());
  if (c.replies.length > 0 || c.sessions.length > 1) return null;
  const [only] = c.sessions;
  if (!only || only.result.changes.length === 0) {
    return (await repo.updates.claim(b.botId, updateId)) ? { detail: c.detail, effects: emptyEffects() } : null;
  }
  const taker = cands[only.live];
  const { result } = only;
  if (!taker || result.changes.length !== 1 || result.firedDelay) return null;
  const applied = await unlessRecorded(
    repo.sessions.apply(result, { botId: b.botId, version: taker.read.version, updateId }),
  );
  if (!applied?.applied) return null;
  logTransition(log, result, { journeyId: taker.journey.id, ...applied });
  return { detail: result.outcome, effects: applied.effects };
}

const textEvent = (u: { text: string; forwarded?: boolean; languageCode?: string }): UserEvent => ({
  type: "text",
  text: u.text,
  forwarded: u.forwarded ?? false,
  languageCode: u.languageCode ?? null,
});

/**
 * A write that also records the update: null when the update was recorded meanwhile, or when the
 * statement lost a deadlock. That one is real: a redelivery of the same update on the locking path
 * claims the update and then waits for the session row, while this statement holds the row and waits
 * for the claim. The statement is single and rolled back whole, so the locking path just takes over.
 */
async function unlessRecorded<T>(write: Promise<T>): Promise<T | null> {
  try {
    return await write;
  } catch (err) {
    const e = err as { table?: string; cause?: { table?: string } };
    if (pgCode(err) === "23505" && (e.table ?? e.cause?.table) === "processed_updates") return null;
    if (pgCode(err) === "40P01") return null;
    throw err;
  }
}

/** A text under the session locks: what converse() makes of it. */
export async function answerLocked(
  repo: TenantRepository,
  run: Run,
  b: WebhookBot,
  live: SessionRead[],
  u: { userId: number; chatId?: number; text: string; forwarded?: boolean; languageCode?: string },
): Promise<string> {
  const cands = await candidates(repo, live);
  const c = converse(b.texts, cands, textEvent(u), run.clock());
  const chatId = u.chatId ?? cands[0]?.session.telegramChatId ?? u.userId;
  await run.applyConversation(repo, b, chatId, cands, c);
  return c.detail;
}

const userOf = (u: From): TelegramUser => ({
  id: u.userId,
  chatId: u.chatId,
  ...(u.firstName ? { firstName: u.firstName } : {}),
  ...(u.lastName ? { lastName: u.lastName } : {}),
  ...(u.username ? { username: u.username } : {}),
  ...(u.languageCode ? { languageCode: u.languageCode } : {}),
});

/** Every other update, once claimed (a text is answered above). */
async function applyOther(
  repo: TenantRepository,
  run: Run,
  bot: WebhookBot,
  update: Exclude<ClassifiedUpdate, { kind: "text" }>,
): Promise<string | undefined> {
  const botId = bot.botId;
  /** converse() over the user's live sessions on the bot, locked. */
  const conversation = async (u: From, event: UserEvent | ((live: Candidate[]) => UserEvent)) => {
    const live = await candidates(repo, await repo.sessions.lockLiveOnBot(botId, u.userId));
    const c = converse(bot.texts, live, typeof event === "function" ? event(live) : event, run.clock());
    await run.applyConversation(repo, bot, u.chatId, live, c);
    return c.detail;
  };
  switch (update.kind) {
    case "start": {
      if (update.invalidParam) {
        run.log.info("deep-link param outside [A-Za-z0-9_-]{1,64}: unknown link");
        return conversation(update, { type: "unknown_link" });
      }
      if (!update.param) return conversation(update, { type: "command", name: "start" });
      const row = await repo.journeys.activeByDeeplink(botId, update.param);
      if (!row) {
        run.log.info({ start_param: update.param }, "no active journey for deep link");
        return conversation(update, { type: "unknown_link" });
      }
      const journey = { ...(await repo.sessions.journey(row)), ...(bot.texts ? { texts: bot.texts } : {}) };
      const event = { type: "start", param: update.param, user: userOf(update) } as const;
      // The partial unique index settles concurrent starts: the loser inserts nothing and reads again.
      for (let attempt = 0; attempt < 3; attempt++) {
        const live = await repo.sessions.lockLiveInJourney(journey.id, update.userId);
        const result = transition(journey, live ? stateOf(live) : null, event, run.clock());
        const applied = await run.apply(repo, botId, journey.id, result);
        if (applied.applied) return result.outcome;
      }
      throw new Error(`could not start journey ${journey.id} for user ${update.userId}: live session kept changing`);
    }
    case "command":
      return conversation(update, { type: "command", name: update.name });
    case "edit":
      return conversation(update, {
        type: "edit",
        text: update.text,
        sentAt: update.sentAt,
        languageCode: update.languageCode ?? null,
      });
    case "media":
      return conversation(update, { type: "media", kind: update.media });
    case "contact":
      return conversation(update, { type: "contact", phone: update.phone, own: update.own });
    case "button": {
      const key = repo.sessions.sealKey(botId);
      return conversation(update, (live) => ({
        type: "button",
        match: matchButton(key, update.data, update.chatId, live),
        callbackQueryId: update.callbackQueryId,
        messageId: update.messageId,
      }));
    }
    case "blocked": {
      const live = await repo.sessions.lockLiveOnBot(botId, update.userId);
      for (const c of await candidates(repo, live)) {
        const result = transition(c.journey, c.session, { type: "user_blocked", source: "kicked" }, run.clock());
        await run.apply(repo, botId, c.journey.id, result);
      }
      return `cancelled_${live.length}`;
    }
    case "ignored":
      run.log.debug({ type: update.type }, "update type ignored");
      return update.type;
  }
}

/**
 * Which live session's current question a press's callback_data was sealed for (callback-seal.ts):
 * authenticity only — whether the press still counts is transition()'s to say.
 */
function matchButton(
  key: Buffer,
  data: string,
  chatId: number,
  live: Candidate[],
): { live: number; stepId: string; index: number } | null {
  for (const [i, c] of live.entries()) {
    const step = questionWaitedOn(c.journey, c.session);
    if (!step || !c.session.stepEnteredAt) continue;
    const index = openData(key, data, chatId, step.id, c.session.stepEnteredAt.getTime());
    if (index !== null) return { live: i, stepId: step.id, index };
  }
  return null;
}
