import {
  type BotApis,
  botApis,
  type Config,
  createDb,
  createQueues,
  type DbHandle,
  type Dispatcher,
  type Logger,
  producerConnection,
  type Queues,
  queueDispatcher,
  type RedisClient,
  redisSendRateLimiter,
} from "@journeys/core";
import { watchRedis } from "./redis-watch.ts";
import { POOL_SIZE } from "./settings.ts";

/** What the processors share, built once per process. */
export interface WorkerDeps {
  config: Config;
  log: Logger;
  db: DbHandle;
  /** Non-blocking commands: enqueueing, the sweeper's reads, the send rate limiter. */
  redis: RedisClient;
  queues: Queues;
  dispatcher: Dispatcher;
  bots: BotApis;
  close(): Promise<void>;
}

export function createWorkerDeps(config: Config, log: Logger): WorkerDeps {
  const db = createDb(config.databaseUrl, {
    max: POOL_SIZE,
    logErrors: (err) => log.error({ err: err.message }, "postgres pool error"),
  });
  // Fail fast rather than queue commands through an outage: the job errors and is retried, and a
  // lost enqueue is found again by the sweeper (the rows are in Postgres).
  const redis = producerConnection(config);
  watchRedis(redis, log.child({ connection: "commands" }));
  const queues = createQueues(redis, config.queuePrefix, log);
  return {
    config,
    log,
    db,
    redis,
    queues,
    dispatcher: queueDispatcher(queues, log),
    bots: botApis(config.telegramApiRoot, redisSendRateLimiter(redis, config.queuePrefix)),
    async close() {
      await queues.close();
      redis.disconnect();
      await db.close();
    },
  };
}
