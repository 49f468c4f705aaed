import type { Database } from "../db/client.ts";
import type { BotTexts } from "../engine/bot-texts.ts";
import { textTaker, transition } from "../engine/transition.ts";
import type { Clock, JourneyDef, SessionState, TransitionResult } from "../engine/types.ts";
import type { Logger } from "../logger.ts";
import { type Dispatcher, type Effects, emptyEffects } from "../queue/effects.ts";
import { type SessionRead, stateOf, TenantRepository } from "../repo/index.ts";
import { pgCode, withRetry } from "../retry.ts";
import { logTransition } from "../transition-log.ts";
import { type ClassifiedUpdate, classifyUpdate, updateIdOf } from "./parse.ts";

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
    const done = await answerWithoutLock(base, bot.botId, updateId, update, log, clock);
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
          const detail = await answerLocked(repo, run, bot.botId, live, update.text);
          return { status: "processed", updateId, kind: update.kind, detail } as const;
        }
        if (!(await repo.updates.claim(bot.botId, updateId))) return { status: "duplicate", updateId } as const;
        const detail = await applyOther(repo, run, bot.botId, update);
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
 * transition() on the one the text answers, and its result written in one statement that records
 * the update and applies only if that session's row version is still the one read. A text no
 * session waits for changes nothing: recording it is all there is to do. Null — the update seen
 * before, a claim that failed, a session changed since the read — leaves it to the locking path.
 */
export async function answerWithoutLock(
  repo: TenantRepository,
  botId: string,
  updateId: number,
  update: { userId: number; text: string },
  log: Logger,
  clock: () => Clock = systemClock,
  /** The read, when the caller made it (a test putting a concurrent write between read and write). */
  peeked?: { seen: boolean; live: SessionRead[] },
): Promise<{ detail: string; effects: Effects } | null> {
  const { seen, live } = peeked ?? (await repo.sessions.peekLive(botId, updateId, update.userId));
  if (seen) return null;
  const taker = textTaker(await candidates(repo, live));
  if (!taker) {
    return (await repo.updates.claim(botId, updateId))
      ? { detail: "no_session_waiting", effects: emptyEffects() }
      : null;
  }
  const result = transition(taker.journey, taker.session, { type: "text", text: update.text }, clock());
  if (result.changes.length !== 1 || result.firedDelay) return null;
  const applied = await unlessRecorded(repo.sessions.apply(result, { botId, version: taker.read.version, updateId }));
  if (!applied?.applied) return null;
  logTransition(log, result, { journeyId: taker.journey.id, ...applied });
  return { detail: result.outcome, effects: applied.effects };
}

/** A write that also records the update: null when the update was recorded meanwhile. */
async function unlessRecorded<T>(write: Promise<T>): Promise<T | null> {
  try {
    return await write;
  } catch (err) {
    const e = err as { table?: string; cause?: { table?: string } };
    if (pgCode(err) === "23505" && (e.table ?? e.cause?.table) === "processed_updates") return null;
    throw err;
  }
}

/** A text under the session locks: the answer of the first live session that waits on a question. */
export async function answerLocked(
  repo: TenantRepository,
  run: Run,
  botId: string,
  live: SessionRead[],
  text: string,
): Promise<string> {
  const taker = textTaker(await candidates(repo, live));
  if (!taker) return "no_session_waiting";
  const result = transition(taker.journey, taker.session, { type: "text", text }, run.clock());
  await run.apply(repo, botId, taker.journey.id, result);
  return result.outcome;
}

/** Every other update, once claimed (a text is answered above). */
async function applyOther(
  repo: TenantRepository,
  run: Run,
  botId: string,
  update: Exclude<ClassifiedUpdate, { kind: "text" }>,
): Promise<string | undefined> {
  switch (update.kind) {
    case "start": {
      if (update.invalidParam) {
        run.log.info("deep-link param outside [A-Za-z0-9_-]{1,64}: ignored");
        return "invalid_param";
      }
      if (!update.param) return "no_param";
      const row = await repo.journeys.activeByDeeplink(botId, update.param);
      if (!row) {
        run.log.info({ start_param: update.param }, "no active journey for deep link");
        return "no_journey";
      }
      const journey = await repo.sessions.journey(row);
      const event = { type: "start", param: update.param, user: { id: update.userId, chatId: update.chatId } } as const;
      // The partial unique index settles concurrent starts: the loser inserts nothing and reads again.
      for (let attempt = 0; attempt < 3; attempt++) {
        const live = await repo.sessions.lockLiveInJourney(journey.id, update.userId);
        const result = transition(journey, live ? stateOf(live) : null, event, run.clock());
        const applied = await run.apply(repo, botId, journey.id, result);
        if (applied.applied) return result.outcome;
      }
      throw new Error(`could not start journey ${journey.id} for user ${update.userId}: live session kept changing`);
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
