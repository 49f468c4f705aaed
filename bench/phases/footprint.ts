/**
 * 4. Footprint, Redis side: memory per pending scheduled message. `pending` delay jobs enqueued
 * with the product's own `enqueueDelay` (payload: the row id only) into a private, otherwise empty
 * redis-server; used_memory measured before and after. Process RSS is sampled throughout the run.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { createQueues, enqueueDelay } from "../../packages/journeys/src/queue/dispatcher.ts";
import type { Stack } from "../../scripts/lib/harness/stack.ts";
import { inParallel } from "../../scripts/lib/parallel.ts";

const usedMemory = async (redis: Redis) => Number(/used_memory:(\d+)/.exec(await redis.info("memory"))?.[1]);

export async function redisFootprint(stack: Stack, pending: number): Promise<number | null> {
  const server = await stack.startRedis();
  const connection = new Redis(server.url, { maxRetriesPerRequest: 1 });
  try {
    const queues = createQueues(connection, stack.prefix);
    const day = 24 * 3600 * 1000;
    const later = (i: number) => new Date(Date.now() + day + (i % 29) * day + (i % 1000) * 1000);
    await enqueueDelay(queues, randomUUID(), later(0)); // queue meta keys exist before the baseline
    const before = await usedMemory(connection);
    const ids = Array.from({ length: pending }, () => randomUUID());
    await inParallel(ids, 200, (id, i) => enqueueDelay(queues, id, later(i + 1)));
    const after = await usedMemory(connection);
    await queues.close();
    return Number.isFinite(before) && Number.isFinite(after) ? (after - before) / pending : null;
  } finally {
    connection.disconnect();
    await server.stop();
  }
}
