/**
 * Per test file: a fresh database copied from the migrated template, a unique queue prefix, and a
 * config pointing at both. Everything is dropped/deleted in afterAll.
 */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, inject } from "vitest";
import { type Config, loadConfig } from "../../packages/journeys/src/config.ts";
import { createDb, type DbHandle } from "../../packages/journeys/src/db/client.ts";
import { adminQuery, databaseUrl, REDIS_URL } from "./pg.ts";

export interface TestEnv {
  dbName: string;
  config: Config;
  handle: DbHandle;
  /** Extra environment to hand to child processes (start:api / start:worker) for this file. */
  env: Record<string, string>;
  /**
   * Stop something that may still write to this file's database or queue prefix (a worker process)
   * at the start of the cleanup, before the database is dropped and the prefix deleted. Hooks run
   * in reverse order of registration, so an afterAll registered before createTestEnv — e.g. one a
   * support module registers when it is imported — runs after the cleanup, too late for that.
   */
  beforeCleanup(stop: () => Promise<void>): void;
}

export const TEST_ENCRYPTION_KEY = randomBytes(32).toString("hex");
export const TEST_JWT_SECRET = randomBytes(32).toString("hex");

export async function createTestEnv(overrides: Record<string, string> = {}): Promise<TestEnv> {
  const runId = inject("runId");
  const suffix = randomBytes(4).toString("hex");
  const dbName = `jt_${runId}_${suffix}`;
  await adminQuery(`CREATE DATABASE "${dbName}" TEMPLATE "${inject("templateDb")}"`);
  const env: Record<string, string> = {
    NODE_ENV: "test",
    DATABASE_URL: databaseUrl(dbName),
    REDIS_URL,
    QUEUE_PREFIX: `jt-${runId}-${suffix}`,
    JWT_SECRET: TEST_JWT_SECRET,
    BOT_TOKEN_ENCRYPTION_KEY: TEST_ENCRYPTION_KEY,
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? "silent",
    SCHEDULER_SWEEP_INTERVAL_MS: "1000",
    ...overrides,
  };
  const config = loadConfig(env);
  const handle = createDb(config.databaseUrl, { max: 10 });
  const stops: (() => Promise<void>)[] = [];
  const testEnv: TestEnv = { dbName, config, handle, env, beforeCleanup: (stop) => void stops.push(stop) };
  afterAll(async () => {
    // A writer still running here (its test failed before stopping it) would fail its jobs on the
    // dropped database and write them to Redis after the prefix is deleted: stop it first.
    const stopped = await Promise.allSettled(stops.map((stop) => stop()));
    await handle.close();
    await adminQuery(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`);
    await deleteRedisPrefix(config.queuePrefix);
    for (const r of stopped) if (r.status === "rejected") throw r.reason;
  });
  return testEnv;
}

export async function deleteRedisPrefix(prefix: string): Promise<void> {
  const redis = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}:*`, "COUNT", 1000);
      cursor = next;
      if (keys.length) await redis.del(...keys);
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
