import { JOBS, RetryLaterError, type SendDeps, sendOutboxChat } from "@journeys/core";
import { DelayedError } from "bullmq";
import { defineProcessor } from "./base.ts";

/**
 * send-outbox {outboxId}: flush the row's chat in order. When Telegram said how long to wait
 * (retry_after) the job waits exactly that; other retryable failures use the job's backoff.
 * The row counts attempts, so neither path retries forever.
 */
export const sendOutboxProcessor = (deps: SendDeps) =>
  defineProcessor(JOBS.sendOutbox, async ({ outboxId, botId }, { job, token }) => {
    try {
      return await sendOutboxChat(deps, outboxId, botId);
    } catch (err) {
      if (err instanceof RetryLaterError && err.retryAfterMs !== undefined) {
        await job.moveToDelayed(Date.now() + err.retryAfterMs, token);
        throw new DelayedError();
      }
      throw err;
    }
  });
