import { checkPayload, DomainError, type JobName, type JobPayloads, type Logger } from "@journeys/core";
import { type Job, UnrecoverableError } from "bullmq";

export interface JobContext {
  job: Job;
  /** The worker's lock token for the job (needed to move it back to delayed). */
  token: string | undefined;
  log: Logger;
}

/** One job name, one domain call: translate the payload in, the outcome out. */
export interface Processor<N extends JobName = JobName> {
  readonly name: N;
  run(payload: JobPayloads[N], ctx: JobContext): Promise<unknown>;
}

export type AnyProcessor = { [N in JobName]: Processor<N> }[JobName];

export const defineProcessor = <N extends JobName>(name: N, run: Processor<N>["run"]): Processor<N> => ({
  name,
  run,
});

/**
 * What every job goes through. The payload is checked before anything runs, and failures that a
 * retry cannot fix — a malformed payload, a DomainError (not found, invalid, …) — become BullMQ's
 * UnrecoverableError, so the job fails at once instead of retrying. Anything else is retried
 * with the job's backoff.
 */
export async function runJob(processor: AnyProcessor, job: Job, token: string | undefined, log: Logger) {
  const problem = checkPayload(job.name, job.data);
  if (problem) {
    log.error({ job_id: job.id, job_name: job.name, problem }, "malformed job payload: failed without retry");
    throw new UnrecoverableError(`malformed ${job.name} payload: ${problem}`);
  }
  const run = processor.run as (payload: unknown, ctx: JobContext) => Promise<unknown>;
  try {
    return await run(job.data, { job, token, log });
  } catch (err) {
    if (err instanceof DomainError) throw new UnrecoverableError(`${err.code}: ${err.message}`);
    throw err;
  }
}
