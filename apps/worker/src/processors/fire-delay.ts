import { type FireDeps, fireScheduledMessage, JOBS } from "@journeys/core";
import { DelayedError } from "bullmq";
import { defineProcessor } from "./base.ts";

/** fire-delay {scheduledMessageId}: fire the delay row; an early job goes back to wait in Redis. */
export const fireDelayProcessor = (deps: FireDeps) =>
  defineProcessor(JOBS.fireDelay, async ({ scheduledMessageId }, { job, token }) => {
    const result = await fireScheduledMessage(deps, scheduledMessageId);
    if (result.outcome === "early") {
      await job.moveToDelayed(result.scheduledFor.getTime(), token);
      throw new DelayedError();
    }
    return result;
  });
