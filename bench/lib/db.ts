/** Direct SQL on the bench database for set-up and clean-up between phases. */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { QUEUES } from "../../packages/journeys/src/queue/names.ts";
import type { Stack } from "./stack.ts";

export async function withDb<T>(stack: Stack, fn: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: stack.dbUrl });
  await db.connect();
  try {
    return await fn(db);
  } finally {
    await db.end();
  }
}

/** Fresh statistics and no dead rows left from the previous phase, so each run starts level. */
export function vacuum(stack: Stack): Promise<void> {
  return withDb(stack, async (db) => {
    await db.query("VACUUM (ANALYZE)");
  });
}

/**
 * Drop the send backlog a phase left (the worker stopped): pending outbox rows cancelled and the
 * outbox queue emptied, so the next phase's sends are its own.
 */
export async function dropOutboxBacklog(stack: Stack, redisUrl = stack.base.redisUrl): Promise<number> {
  const cancelled = await withDb(stack, async (db) => {
    const r = await db.query(
      "UPDATE journey_outbox SET status = 'cancelled', error = 'bench: backlog dropped' WHERE status = 'pending'",
    );
    return r.rowCount ?? 0;
  });
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const outbox = new Queue(QUEUES.outbox, { connection, prefix: stack.prefix });
  await outbox.obliterate({ force: true });
  await outbox.close();
  connection.disconnect();
  return cancelled;
}
