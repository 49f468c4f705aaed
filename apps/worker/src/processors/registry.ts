import { JOB_QUEUE, JOBS, type JobName, type Logger, type QueueName } from "@journeys/core";
import { type Job, UnrecoverableError } from "bullmq";
import { type AnyProcessor, runJob } from "./base.ts";

export interface Registry {
  /** The BullMQ processor function for one queue: dispatches each job by name. */
  handlerFor(queue: QueueName, log: Logger): (job: Job, token?: string) => Promise<unknown>;
}

/**
 * Maps every job name to exactly one processor. A name with none (or two) is a wiring mistake
 * that must stop the process at start-up, not surface as failed jobs hours later.
 */
export function createRegistry(processors: readonly AnyProcessor[]): Registry {
  const known = new Set<string>(Object.values(JOBS));
  const byName = new Map<JobName, AnyProcessor>();
  const problems: string[] = [];
  for (const p of processors) {
    if (!known.has(p.name)) problems.push(`processor for unknown job "${p.name}"`);
    else if (byName.has(p.name)) problems.push(`job "${p.name}" has two processors`);
    byName.set(p.name, p);
  }
  for (const name of Object.values(JOBS)) if (!byName.has(name)) problems.push(`job "${name}" has no processor`);
  if (problems.length > 0) throw new Error(`processor registry: ${problems.join("; ")}`);

  return {
    handlerFor(queue, log) {
      return async (job, token) => {
        const processor = byName.get(job.name as JobName);
        if (!processor || JOB_QUEUE[processor.name] !== queue) {
          throw new UnrecoverableError(`no processor for job "${job.name}" on queue "${queue}"`);
        }
        return runJob(processor, job, token, log);
      };
    },
  };
}
