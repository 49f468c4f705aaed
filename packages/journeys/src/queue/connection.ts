import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";

/**
 * A standalone Redis or a Redis Cluster. Every command this code sends names keys of one slot
 * (QUEUE_PREFIX holds a hash tag on a cluster, see config.ts), so both answer it the same way.
 */
export type RedisClient = Redis | Cluster;

/** Where Redis is: REDIS_URL, with REDIS_CLUSTER when it lists seed nodes of a Redis Cluster. */
export interface RedisTarget {
  redisUrl: string;
  redisCluster: boolean;
}

/**
 * Two kinds of Redis connection. A worker's must wait out an outage (BullMQ requires
 * maxRetriesPerRequest: null); a web request's must fail fast so the webhook can still answer —
 * the rows are already in Postgres and the sweeper enqueues them later.
 */
export function workerConnection(target: RedisTarget, extra: RedisOptions = {}): RedisClient {
  return connect(target, { maxRetriesPerRequest: null, enableReadyCheck: true, ...extra });
}

export function producerConnection(target: RedisTarget, extra: RedisOptions = {}): RedisClient {
  return connect(target, {
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    connectTimeout: 2000,
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...extra,
  });
}

/**
 * On a cluster the same options apply per node (ioredis's `redisOptions`: timeouts, retries per
 * command, credentials, TLS), except those ioredis takes for the cluster as a whole: reconnecting
 * (`clusterRetryStrategy`), the offline queue, the ready check and lazy connecting. Credentials and
 * TLS come from the first seed URL; the nodes' own addresses come from the cluster itself.
 */
function connect(target: RedisTarget, options: RedisOptions): RedisClient {
  if (!target.redisCluster) return new Redis(target.redisUrl, options);
  const seeds = clusterSeeds(target.redisUrl);
  const first = new URL(target.redisUrl.split(",")[0]!.trim());
  const { retryStrategy, enableOfflineQueue, enableReadyCheck, lazyConnect, ...perNode } = options;
  const clusterOptions: ClusterOptions = {
    enableOfflineQueue,
    enableReadyCheck,
    lazyConnect,
    redisOptions: {
      ...perNode,
      ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
      ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
      ...(first.protocol === "rediss:" ? { tls: {} } : {}),
    },
  };
  if (retryStrategy) clusterOptions.clusterRetryStrategy = (times) => retryStrategy(times);
  return new Cluster(seeds, clusterOptions);
}

/** REDIS_URL's comma-separated seed nodes as host and port (6379 when the URL names none). */
export function clusterSeeds(redisUrl: string): { host: string; port: number }[] {
  return redisUrl.split(",").map((raw) => {
    const u = new URL(raw.trim());
    return { host: u.hostname.replace(/^\[(.*)\]$/, "$1"), port: u.port ? Number(u.port) : 6379 };
  });
}
