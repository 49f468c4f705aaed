import type { Api } from "grammy";
import type { Database } from "../db/client.ts";
import { transition } from "../engine/transition.ts";
import { DomainError } from "../errors.ts";
import { type Logger, scrubToken } from "../logger.ts";
import { OutboxLeases, SystemRepo, stateOf, TenantRepository } from "../repo/index.ts";
import { GrammyError, HttpError, isBlockedError, isPermanentError, isUnauthorizedError } from "../telegram/api.ts";
import { logTransition } from "../transition-log.ts";
import { type BotApis, BotPausedError } from "./bot-apis.ts";
import { alreadyDone, callBotApi, type OutCall, outCallOf } from "./out-call.ts";
import { RetryLaterError } from "./retry-later.ts";

export interface SendDeps {
  db: Database;
  encryptionKey: Buffer;
  bots: BotApis;
  log: Logger;
  /** Tries per message before it is marked failed (default MAX_SEND_ATTEMPTS). */
  maxAttempts?: number;
  /** How long a claimed row is this sender's (default SEND_LEASE_MS; tests shorten it). */
  leaseMs?: number;
}

/** Retryable failures (429 beyond the in-call wait, 5xx, network) a message gets before it fails. */
export const MAX_SEND_ATTEMPTS = 8;

/**
 * A 429 whose retry_after is at most this is waited out inside the call, up to IN_CALL_RETRIES
 * times: the row stays leased, so order holds and nothing else for the chat overtakes it. A longer
 * wait, a 5xx or a network error goes back to the job (the row pending, its attempt counted).
 */
export const IN_CALL_MAX_WAIT_S = 5;
const IN_CALL_RETRIES = 2;
/** A job whose chat waits behind another row's retry looks again this much later. */
const BEHIND_RETRY_MS = 5000;
/**
 * A send place further away than this is not waited for: the job is rescheduled for then, so its
 * worker slot serves other bots meanwhile (one bot's backlog must not hold up every other bot).
 * About two sends' spacing: a bot keeps at most two jobs of a process waiting, enough to send at
 * the full rate.
 */
export const MAX_PLACE_WAIT_MS = 60;

export interface FlushResult {
  sent: number;
  failed: number;
}

/**
 * How long a claimed row is its sender's alone (the `claimed_until` lease). A send still without
 * Telegram's answer LEASE_MARGIN_MS before then is aborted and counted as a failed try, so two
 * senders never have one row in flight at once; a sender that dies leaves the row to be claimed
 * again once the lease has run out.
 */
export const SEND_LEASE_MS = 15_000;
const LEASE_MARGIN_MS = 2_000;

/** What one send attempt came to: the flush loop's next move. */
type SendOutcome =
  | { kind: "done" }
  | { kind: "sent"; more: boolean }
  | { kind: "failed"; more: boolean }
  | { kind: "retry"; error: RetryLaterError }
  | { kind: "behind"; outboxId: number }
  | { kind: "busy"; outboxId: number }
  | { kind: "paused" }
  | { kind: "other-bot"; botId: string };

/**
 * Send the outbox row `outboxId` — by flushing its whole chat (same bot and Telegram chat) in id
 * order, one row at a time. A row is one Bot API call (a message, a callback answer, a keyboard
 * edit) and each takes a place in the bot's send limit (`botId`, from the job, else read from the
 * row; before any claim, so nothing is held while waiting for it — a place far off reschedules the
 * job with RetryLaterError), then claims the chat's earliest pending row with a lease (one
 * statement, no transaction left open), makes the call, then marks the row sent — the same
 * statement says whether the chat has more. Telegram therefore sees one chat's calls in journey
 * order, retries included. While another sender's lease on the chat's first row runs, this job
 * ends: that sender flushes the rest of the chat (its mark sees this job's row), and if it dies its
 * own job's retry or the sweeper's does. A call that cannot be made now stops the flush with
 * RetryLaterError (later rows must not overtake it). One that can never succeed (a 400: a bad chat,
 * an expired callback query, a message to edit that is gone) is marked failed and the flush goes
 * on; an edit refused as "message is not modified" was done already, so it is marked sent. A row
 * already being retried is left to its own job (which flushes the chat once it is through), so a
 * row's attempts follow its own backoff, not the number of jobs queued behind it. Dying between
 * Telegram's answer and the mark leaves the row pending: it is sent again once its lease has run
 * out (at-least-once).
 */
export async function sendOutboxChat(deps: SendDeps, outboxId: number, botHint?: string): Promise<FlushResult> {
  const result: FlushResult = { sent: 0, failed: 0 };
  const system = new SystemRepo(deps.db);
  const leases = new OutboxLeases(deps.db);
  let botId = botHint ?? (await system.outboxRow(outboxId))?.botId;
  if (botId === undefined) return result; // gone
  for (;;) {
    const slot = await deps.bots.reserve(botId, MAX_PLACE_WAIT_MS);
    if (!slot.ok) throw new RetryLaterError("waiting for a place in the bot's send limit", slot.waitMs);
    const forBot: string = botId;
    const step = await slot.run(() => sendNext(deps, leases, outboxId, forBot));
    switch (step.kind) {
      case "done":
        return result;
      case "retry":
        throw step.error;
      case "other-bot": // the job named another bot than the row's: take a place of the row's bot
        botId = step.botId;
        continue;
      case "behind":
        deps.log.debug(
          { outbox_id: outboxId, behind_outbox_id: step.outboxId },
          "chat waits for an earlier row's retry",
        );
        throw new RetryLaterError(
          `waiting for outbox row ${step.outboxId} of this chat to be retried`,
          BEHIND_RETRY_MS,
        );
      case "paused":
        // The bot's token is refused: the chat's rows stay pending; the sweeper hands them a job
        // again, and they go out in order once the bot is connected with a valid token.
        deps.log.debug({ outbox_id: outboxId, bot_id: botId }, "bot unauthorized: sends paused");
        return result;
      case "busy":
        // Its holder flushes the chat on after it (its mark sees this job's row: committed before
        // this job was queued), or — dying — leaves its own job to be retried or swept, which does.
        deps.log.debug({ outbox_id: outboxId, busy_outbox_id: step.outboxId }, "chat is being sent by another job");
        return result;
      default:
        result[step.kind]++;
        if (!step.more) return result;
    }
  }
}

async function sendNext(deps: SendDeps, leases: OutboxLeases, outboxId: number, botId: string): Promise<SendOutcome> {
  const leaseMs = deps.leaseMs ?? SEND_LEASE_MS;
  const claim = await leases.claim(outboxId, botId, leaseMs);
  if (!claim) return { kind: "done" };
  if (claim.botId !== botId) return { kind: "other-bot", botId: claim.botId };
  const message = claim.claimed;
  if (!message) {
    // Nothing claimed. The job's own row settled (sent by a flush of its chat, failed, cancelled):
    // nothing left for this job. Else the chat's first row is held by another sender, or retried.
    if (claim.ownStatus !== "pending" || claim.nextId === null) return { kind: "done" };
    if ((claim.leaseLeftMs ?? 0) > 0) return { kind: "busy", outboxId: claim.nextId };
    return { kind: "behind", outboxId: claim.nextId };
  }
  const deadline = Date.now() + leaseMs - Math.min(LEASE_MARGIN_MS, leaseMs / 2);
  const repo = new TenantRepository(deps.db, claim.tenantId, deps.encryptionKey);
  const attempt = message.attempts + 1;
  const call = outCallOf(message.messageContent);
  const log = deps.log.child({
    tenant_id: claim.tenantId,
    bot_id: botId,
    journey_id: claim.journeyId,
    session_id: message.sessionId,
    outbox_id: message.id,
    method: "invalid" in call ? "none" : call.method,
  });
  if ("invalid" in call) {
    const more = await repo.outbox.markFailed(message.id, call.invalid);
    log.error({ attempt, err: call.invalid }, "message rejected: failed");
    return { kind: "failed", more };
  }
  try {
    const api = await deps.bots.forBot(repo, botId);
    await sendWaitingOutShort429(api, claim.telegramChatId, call, deadline, log, attempt);
  } catch (err) {
    if (!alreadyDone(call, err)) return failedSend(deps, repo, botId, message, attempt, err, log);
    log.info({ attempt }, "keyboard already as asked (message is not modified): sent");
  }
  const more = await repo.outbox.markSent(message.id);
  log.info({ attempt }, "message sent");
  return { kind: "sent", more };
}

/**
 * Make the row's call, waiting out a short 429 in the call (the lease keeps the row, so order
 * holds). Every try ends by `deadline`, the lease's end less a margin: a try still waiting then is
 * aborted (an HttpError, so a retryable failure), and a 429 whose wait would pass it goes back to
 * the job.
 */
async function sendWaitingOutShort429(
  api: Api,
  chatId: number,
  call: OutCall,
  deadline: number,
  log: Logger,
  attempt: number,
) {
  for (let retry = 1; ; retry++) {
    try {
      return await callBotApi(api, chatId, call, AbortSignal.timeout(Math.max(1, deadline - Date.now())));
    } catch (err) {
      const wait = err instanceof GrammyError ? err.parameters.retry_after : undefined;
      if (wait === undefined || wait > IN_CALL_MAX_WAIT_S || retry > IN_CALL_RETRIES) throw err;
      if (Date.now() + wait * 1000 + LEASE_MARGIN_MS > deadline) throw err;
      log.warn({ attempt, retry_after: wait, retry }, "Telegram rate limit (429): waiting retry_after, then retrying");
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
  }
}

async function failedSend(
  deps: SendDeps,
  repo: TenantRepository,
  botId: string,
  message: { id: number; sessionId: string | null },
  attempt: number,
  err: unknown,
  log: Logger,
): Promise<SendOutcome> {
  if (err instanceof BotPausedError) {
    await repo.outbox.release(message.id);
    return { kind: "paused" };
  }
  if (isUnauthorizedError(err)) {
    await repo.outbox.release(message.id); // not a try of the message: kept pending, uncounted
    if (await repo.bots.markUnauthorized(botId)) {
      log.error(
        { attempt },
        "Telegram refused the bot's token (401): bot marked unauthorized, its sends paused until it is connected again",
      );
    }
    return { kind: "paused" };
  }
  const notFound = err instanceof DomainError && err.code === "NOT_FOUND";
  if (!notFound && !(err instanceof GrammyError) && !(err instanceof HttpError)) throw err; // db, decrypt: retry the job
  const error = scrubToken(err instanceof Error ? err.message : String(err));
  if (isBlockedError(err)) {
    log.warn({ attempt, err: error }, "user blocked the bot: message failed");
    await userBlocked(repo, message, error, log);
    return { kind: "failed", more: true }; // the cancel may have changed the chat's rows: look again
  }
  if (notFound || isPermanentError(err)) {
    const more = await repo.outbox.markFailed(message.id, error);
    log.warn({ attempt, err: error }, "message rejected: failed");
    return { kind: "failed", more };
  }
  const maxAttempts = deps.maxAttempts ?? MAX_SEND_ATTEMPTS;
  if (attempt >= maxAttempts) {
    const more = await repo.outbox.markFailed(message.id, `${error} (gave up after ${attempt} attempts)`);
    log.error({ attempt, err: error }, "message failed after its last attempt");
    return { kind: "failed", more };
  }
  await repo.outbox.recordAttempt(message.id, error);
  const retryAfter = err instanceof GrammyError ? err.parameters.retry_after : undefined;
  log.warn({ attempt, max_attempts: maxAttempts, retry_after: retryAfter, err: error }, "send failed: will retry");
  return { kind: "retry", error: new RetryLaterError(error, retryAfter === undefined ? undefined : retryAfter * 1000) };
}

/**
 * Telegram's 403 for a message: the row fails and its session gets the engine's `user_blocked` event,
 * in one transaction under the session lock — so no other sender finds the chat's next row pending
 * between the two (it waits on the row lock, then sees it cancelled).
 */
async function userBlocked(
  repo: TenantRepository,
  message: { id: number; sessionId: string | null },
  error: string,
  log: Logger,
) {
  const logLines = await repo.transaction(async (tx) => {
    const read = message.sessionId ? await tx.sessions.lock(message.sessionId) : null;
    await tx.outbox.markFailed(message.id, error);
    if (!read) return () => {};
    const journey = await tx.sessions.journeyOf(read);
    const event = { type: "user_blocked", source: "send_forbidden" } as const;
    const result = transition(journey, stateOf(read), event, { now: new Date(), random: Math.random });
    const applied = await tx.sessions.apply(result, { botId: read.botId });
    return () => applied.applied && logTransition(log, result, { journeyId: read.journeyId, ...applied });
  });
  logLines(); // once committed
}
