import {
  type Config,
  createDb,
  createLogger,
  createQueues,
  type DbHandle,
  type Dispatcher,
  type Logger,
  producerConnection,
  type Queues,
  queueDispatcher,
} from "@journeys/core";
import type { Redis } from "ioredis";

/** Everything the API's routes need, built once per process (or per test). */
export interface ApiDeps {
  config: Config;
  log: Logger;
  db: DbHandle;
  redis: Redis;
  queues: Queues;
  dispatcher: Dispatcher;
  close(): Promise<void>;
}

export function createApiDeps(config: Config, log: Logger = createLogger(config.logLevel, "api")): ApiDeps {
  const db = createDb(config.databaseUrl, {
    max: 20,
    logErrors: (err) => log.error({ err: err.message }, "postgres pool error"),
  });
  // Fail fast: a webhook must not hang on a Redis outage (rows are in Postgres; the sweeper enqueues).
  const redis = producerConnection(config.redisUrl);
  redis.on("error", (err) => log.warn({ err: err.message }, "redis connection error"));
  const queues = createQueues(redis, config.queuePrefix);
  // The connection's own listener above already reports an outage; without a listener here each
  // BullMQ Queue would print it to stderr once more.
  for (const q of [queues.delays, queues.outbox, queues.maintenance]) {
    q.on("error", (err) => log.debug({ err: err.message, queue: q.name }, "queue error"));
  }
  return {
    config,
    log,
    db,
    redis,
    queues,
    dispatcher: queueDispatcher(queues, log),
    async close() {
      await queues.close();
      redis.disconnect();
      await db.close();
    },
  };
}
