/** Clean-up between phases, on the bench database and queues. */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { QUEUES } from "../../packages/journeys/src/queue/names.ts";
import type { Stack } from "../../scripts/lib/harness/stack.ts";

/** Fresh statistics and no dead rows left from the previous phase, so each run starts level. */
export async function vacuum(stack: Stack): Promise<void> {
  await stack.db.query("VACUUM (ANALYZE)");
}

/**
 * Drop the send backlog a phase left (the worker stopped): pending outbox rows cancelled and the
 * outbox queue emptied, so the next phase's sends are its own.
 */
export async function dropOutboxBacklog(stack: Stack, redisUrl = stack.redisUrl): Promise<number> {
  const r = await stack.db.query(
    "UPDATE journey_outbox SET status = 'cancelled', error = 'bench: backlog dropped' WHERE status = 'pending'",
  );
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const outbox = new Queue(QUEUES.outbox, { connection, prefix: stack.prefix });
  await outbox.obliterate({ force: true });
  await outbox.close();
  connection.disconnect();
  return r.rowCount ?? 0;
}
