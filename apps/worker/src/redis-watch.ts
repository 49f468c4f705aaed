import type { Logger, RedisClient } from "@journeys/core";

/**
 * One log line when a Redis connection is lost and one when it is back — not one per reconnect
 * attempt (ioredis emits an error every retry). Also keeps 'error' handled, which ioredis requires.
 * Returns whether the connection has been lost since the last call to `takeOutage`.
 */
export function watchRedis(redis: RedisClient, log: Logger) {
  let lostAt: number | null = null;
  let outage = false;
  let intended = false;
  const lost = (reason: string) => {
    if (intended || lostAt !== null) return;
    lostAt = Date.now();
    outage = true;
    log.warn({ reason }, "redis connection lost; reconnecting");
  };
  redis.on("error", (err) => lost(err.message));
  redis.on("close", () => lost("connection closed"));
  redis.on("ready", () => {
    if (lostAt === null) return;
    log.info({ down_ms: Date.now() - lostAt }, "redis connection back");
    lostAt = null;
  });
  return {
    /** True once per outage that has ended since the last call. */
    takeOutage(): boolean {
      if (!outage || lostAt !== null) return false;
      outage = false;
      return true;
    },
    /** Lost and not back yet. */
    isDown(): boolean {
      return lostAt !== null;
    },
    /** Closing on purpose: not an outage. */
    closing() {
      intended = true;
    },
  };
}
