import { isBotId, isUuid } from "../repo/scope.ts";

/**
 * Queue and job names, typed. Payloads carry row ids only: the row (in Postgres) says which
 * tenant it belongs to, and no token or message text ever sits in Redis.
 */
export const QUEUES = {
  /** Delayed jobs that fire a journey_scheduled_messages row at its scheduled_for. */
  delays: "delays",
  /** Sends of journey_outbox rows, one chat at a time in row order. */
  outbox: "outbox",
  /** The repeatable sweeper tick. */
  maintenance: "maintenance",
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

export const JOBS = {
  fireDelay: "fire-delay",
  sendOutbox: "send-outbox",
  sweep: "sweep",
} as const;
export type JobName = (typeof JOBS)[keyof typeof JOBS];

export interface JobPayloads {
  [JOBS.fireDelay]: { scheduledMessageId: string };
  /** `botId`: the row's bot, whose send place the job takes first (jobs queued before it was added lack it). */
  [JOBS.sendOutbox]: { outboxId: number; botId?: string };
  [JOBS.sweep]: Record<string, never>;
}

/** Which queue each job runs on. */
export const JOB_QUEUE: Record<JobName, QueueName> = {
  [JOBS.fireDelay]: QUEUES.delays,
  [JOBS.sendOutbox]: QUEUES.outbox,
  [JOBS.sweep]: QUEUES.maintenance,
};

/** BullMQ custom ids may not contain ':' nor be all digits: derive them from the row id. */
export const delayJobId = (scheduledMessageId: string) => `delay-${scheduledMessageId}`;
export const outboxJobId = (outboxId: number) => `out-${outboxId}`;

/** Validate a payload when a job starts; returns a reason string when it is malformed. */
export function checkPayload(name: string, data: unknown): string | null {
  const d = (data ?? {}) as Record<string, unknown>;
  switch (name) {
    case JOBS.fireDelay:
      return typeof d.scheduledMessageId === "string" && isUuid(d.scheduledMessageId)
        ? null
        : "scheduledMessageId must be a uuid";
    case JOBS.sendOutbox:
      if (!Number.isSafeInteger(d.outboxId) || (d.outboxId as number) <= 0)
        return "outboxId must be a positive integer";
      return d.botId === undefined || (typeof d.botId === "string" && isBotId(d.botId))
        ? null
        : "botId must be a bot id";
    case JOBS.sweep:
      return null;
    default:
      return `unknown job name "${name}"`;
  }
}
