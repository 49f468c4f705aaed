/**
 * What a transition leaves to do after its transaction commits: outbox rows to send and delay rows
 * to schedule. The rows themselves are already in Postgres; these are only hints for the queue (the
 * worker's sweeper finds any hint that never made it to Redis).
 */
export interface Effects {
  /** Outbox rows by id, with their bot (so a send job takes the bot's send place before any read). */
  outbox: { id: number; botId: string }[];
  scheduled: { id: string; scheduledFor: Date }[];
}

export const emptyEffects = (): Effects => ({ outbox: [], scheduled: [] });

/** Turns committed effects into queue jobs (BullMQ in production). */
export interface Dispatcher {
  dispatch(effects: Effects): Promise<void>;
}
