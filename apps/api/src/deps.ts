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
  type RedisClient,
} from "@journeys/core";

/** Everything the API's routes need, built once per process (or per test). */
export interface ApiDeps {
  config: Config;
  log: Logger;
  db: DbHandle;
  redis: RedisClient;
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
  const redis = producerConnection(config);
  redis.on("error", (err) => log.warn({ err: err.message }, "redis connection error"));
  const queues = createQueues(redis, config.queuePrefix, log);
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
