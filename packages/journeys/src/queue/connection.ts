import { Redis, type RedisOptions } from "ioredis";

/**
 * Two kinds of Redis connection. A worker's must wait out an outage (BullMQ requires
 * maxRetriesPerRequest: null); a web request's must fail fast so the webhook can still answer —
 * the rows are already in Postgres and the sweeper enqueues them later.
 */
export function workerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra });
}

export function producerConnection(url: string, extra: RedisOptions = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  });
}
