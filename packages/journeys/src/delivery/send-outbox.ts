import type { Api } from "grammy";
import type { Database } from "../db/client.ts";
import { DomainError } from "../errors.ts";
import { type Logger, scrubToken } from "../logger.ts";
import { SystemRepo, TenantRepository } from "../repo/index.ts";
import { GrammyError, HttpError, isBlockedError, isPermanentError } from "../telegram/api.ts";
import type { BotApis } from "./bot-apis.ts";
import { RetryLaterError } from "./retry-later.ts";

export interface SendDeps {
  db: Database;
  encryptionKey: Buffer;
  bots: BotApis;
  log: Logger;
  /** Tries per message before it is marked failed (default MAX_SEND_ATTEMPTS). */
  maxAttempts?: number;
}

/** Retryable failures (429 beyond the in-call wait, 5xx, network) a message gets before it fails. */
export const MAX_SEND_ATTEMPTS = 8;

/**
 * A 429 whose retry_after is at most this is waited out inside the call, up to IN_CALL_RETRIES
 * times: the row stays locked, so order holds and nothing else for the chat overtakes it. A longer
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

type Step =
  | { kind: "done" }
  | { kind: "sent"; more: boolean }
  | { kind: "failed"; more: boolean }
  | { kind: "retry"; error: RetryLaterError }
  | { kind: "behind"; outboxId: number };

/**
 * Send the outbox row `outboxId` — by flushing its whole chat (same bot and Telegram chat) in id
 * order, one transaction per message: take a place in the bot's send limit (before the
 * transaction, so no connection or row lock waits for it; a place far off reschedules the job with
 * RetryLaterError), lock the chat's earliest pending row (waiting for any other sender of this
 * chat), send it, mark it sent, commit — the same statement says whether the chat has more. Telegram therefore sees one chat's messages
 * in journey order, retries included. A message that cannot be sent now stops the flush with
 * RetryLaterError (later rows must not overtake it); one that can never be sent is marked failed
 * and the flush goes on. A row already being retried is left to its own job (which flushes the
 * chat once it is through), so a row's attempts follow its own backoff, not the number of jobs
 * queued behind it. Dying between Telegram's answer and the commit leaves the row pending: it is
 * sent again (at-least-once).
 */
export async function sendOutboxChat(deps: SendDeps, outboxId: number): Promise<FlushResult> {
  const result: FlushResult = { sent: 0, failed: 0 };
  const own = await new SystemRepo(deps.db).outboxRow(outboxId);
  if (own?.status !== "pending") return result; // gone, or sent (by a flush of its chat), failed or cancelled
  const base = new TenantRepository(deps.db, own.tenantId, deps.encryptionKey);
  const log = deps.log.child({ tenant_id: own.tenantId, bot_id: own.botId });
  for (;;) {
    const slot = await deps.bots.reserve(own.botId, MAX_PLACE_WAIT_MS);
    if (!slot.ok) throw new RetryLaterError("waiting for a place in the bot's send limit", slot.waitMs);
    const step = await slot.run(() => base.transaction((repo) => sendNext(deps, repo, own, log)));
    if (step.kind === "done") return result;
    if (step.kind === "retry") throw step.error;
    if (step.kind === "behind") {
      log.debug({ outbox_id: outboxId, behind_outbox_id: step.outboxId }, "chat waits for an earlier row's retry");
      throw new RetryLaterError(`waiting for outbox row ${step.outboxId} of this chat to be retried`, BEHIND_RETRY_MS);
    }
    result[step.kind]++;
    if (!step.more) return result;
  }
}

async function sendNext(
  deps: SendDeps,
  repo: TenantRepository,
  own: { id: number; botId: string; telegramChatId: number },
  chatLog: Logger,
): Promise<Step> {
  const { botId, telegramChatId: chatId } = own;
  const next = await repo.sessions.nextPendingOutboxForChat(botId, chatId);
  if (!next) return { kind: "done" };
  const { message, journeyId } = next;
  if (message.id !== own.id && message.attempts > 0) return { kind: "behind", outboxId: message.id };
  const log = chatLog.child({ journey_id: journeyId, session_id: message.sessionId, outbox_id: message.id });
  const attempt = message.attempts + 1;
  try {
    const api = await deps.bots.forBot(repo, botId);
    await sendWaitingOutShort429(api, chatId, message.messageContent.text, log.child({ attempt }));
  } catch (err) {
    return failedSend(deps, repo, message, attempt, err, log);
  }
  const more = await repo.sessions.markOutboxSent(message.id);
  log.info({ attempt }, "message sent");
  return { kind: "sent", more };
}

async function sendWaitingOutShort429(api: Api, chatId: number, text: string, log: Logger) {
  for (let retry = 1; ; retry++) {
    try {
      return await api.sendMessage(chatId, text);
    } catch (err) {
      const wait = err instanceof GrammyError ? err.parameters.retry_after : undefined;
      if (wait === undefined || wait > IN_CALL_MAX_WAIT_S || retry > IN_CALL_RETRIES) throw err;
      log.warn({ retry_after: wait, retry }, "Telegram rate limit (429): waiting retry_after, then retrying");
      await new Promise((resolve) => setTimeout(resolve, wait * 1000));
    }
  }
}

async function failedSend(
  deps: SendDeps,
  repo: TenantRepository,
  message: { id: number; sessionId: string | null },
  attempt: number,
  err: unknown,
  log: Logger,
): Promise<Step> {
  const notFound = err instanceof DomainError && err.code === "NOT_FOUND";
  if (!notFound && !(err instanceof GrammyError) && !(err instanceof HttpError)) throw err; // db, decrypt: retry the job
  const error = scrubToken(err instanceof Error ? err.message : String(err));
  if (isBlockedError(err)) {
    await repo.sessions.markOutboxFailed(message.id, error);
    if (message.sessionId) await repo.sessions.cancel(message.sessionId, "user blocked the bot");
    log.warn({ attempt, err: error }, "user blocked the bot: message failed, session cancelled");
    return { kind: "failed", more: true }; // the cancel may have changed the chat's rows: look again
  }
  if (notFound || isPermanentError(err)) {
    const more = await repo.sessions.markOutboxFailed(message.id, error);
    log.warn({ attempt, err: error }, "message rejected: failed");
    return { kind: "failed", more };
  }
  const maxAttempts = deps.maxAttempts ?? MAX_SEND_ATTEMPTS;
  if (attempt >= maxAttempts) {
    const more = await repo.sessions.markOutboxFailed(message.id, `${error} (gave up after ${attempt} attempts)`);
    log.error({ attempt, err: error }, "message failed after its last attempt");
    return { kind: "failed", more };
  }
  await repo.sessions.recordOutboxAttempt(message.id, error);
  const retryAfter = err instanceof GrammyError ? err.parameters.retry_after : undefined;
  log.warn({ attempt, max_attempts: maxAttempts, retry_after: retryAfter, err: error }, "send failed: will retry");
  return { kind: "retry", error: new RetryLaterError(error, retryAfter === undefined ? undefined : retryAfter * 1000) };
}
