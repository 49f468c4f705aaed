/**
 * The only reader of process.env. Parses and validates SPEC §7 once at start-up into a typed,
 * frozen object; every bad or missing value is named in one error.
 */
import { isIP } from "node:net";
import { parseKey } from "./crypto.ts";

export interface Config {
  nodeEnv: string;
  databaseUrl: string;
  /** One Redis URL, or with `redisCluster` one or more seed nodes of a Redis Cluster, comma-separated. */
  redisUrl: string;
  /**
   * REDIS_CLUSTER=true: every Redis client is an ioredis Cluster seeded from REDIS_URL. BullMQ
   * needs all of a queue's keys in one slot, so QUEUE_PREFIX must then hold a hash tag ({journeys}).
   */
  redisCluster: boolean;
  host: string;
  port: number;
  jwtSecret: string;
  botTokenEncryptionKey: Buffer;
  telegramApiRoot: string;
  publicBaseUrl: string;
  adminHosts: string[];
  /**
   * Proxies whose X-Forwarded-For / -Host / -Proto the API believes (IPs, CIDRs, or proxy-addr's
   * names loopback, linklocal, uniquelocal). Empty: nobody's — the raw Host header and the socket's
   * address decide, so a client cannot pick its host (ADMIN_HOSTS) or its rate-limit key.
   */
  trustedProxies: string[];
  /** The API's bound on receiving one whole request (headers and body): slower clients get 408. */
  requestTimeoutMs: number;
  sweepIntervalMs: number;
  queuePrefix: string;
  logLevel: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration: ${problems.join("; ")}`);
    this.name = "ConfigError";
  }
}

const DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef";
const DEV_ENCRYPTION_KEY = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const PROXY_NAMES = ["loopback", "linklocal", "uniquelocal"];

/** An IP, a CIDR (address/prefix within the family's bits) or one of proxy-addr's names. */
function isProxySpec(spec: string): boolean {
  if (PROXY_NAMES.includes(spec)) return true;
  const [addr = "", prefix, ...rest] = spec.split("/");
  const family = isIP(addr);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"];

type Env = Record<string, string | undefined>;

export interface LoadOptions {
  /** The worker verifies no tokens: it runs without JWT_SECRET. */
  requireJwtSecret?: boolean;
}

export function loadConfig(env: Env = process.env, opts: LoadOptions = {}): Config {
  const problems: string[] = [];
  const nodeEnv = env.NODE_ENV ?? "production";
  const dev = nodeEnv === "development";
  const get = (name: string, fallback: string) => {
    const v = env[name];
    return v === undefined || v === "" ? fallback : v.trim();
  };

  const checkUrl = (name: string, raw: string, protocols: string[]) => {
    try {
      const u = new URL(raw);
      if (!protocols.includes(u.protocol))
        problems.push(`${name} must use ${protocols.join(" or ")} (got ${u.protocol})`);
    } catch {
      problems.push(`${name} is not a valid URL`);
    }
    return raw.replace(/\/+$/, "");
  };
  const url = (name: string, fallback: string, protocols: string[]) => checkUrl(name, get(name, fallback), protocols);
  const int = (name: string, fallback: number, min: number, max: number) => {
    const raw = get(name, String(fallback));
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min || n > max) {
      problems.push(`${name} must be an integer from ${min} to ${max} (got "${raw}")`);
      return fallback;
    }
    return n;
  };

  const databaseUrl = url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/journeys", ["postgres:", "postgresql:"]);
  const rawCluster = get("REDIS_CLUSTER", "false").toLowerCase();
  if (rawCluster !== "true" && rawCluster !== "false")
    problems.push(`REDIS_CLUSTER must be true or false (got "${rawCluster}")`);
  const redisCluster = rawCluster === "true";
  const redisUrl = redisCluster
    ? get("REDIS_URL", "redis://127.0.0.1:6379")
        .split(",")
        .map((seed) => checkUrl("REDIS_URL", seed.trim(), ["redis:", "rediss:"]))
        .join(",")
    : url("REDIS_URL", "redis://127.0.0.1:6379", ["redis:", "rediss:"]);
  if (!redisCluster && redisUrl.includes(","))
    problems.push("REDIS_URL lists several nodes: that is a Redis Cluster's seeds (set REDIS_CLUSTER=true)");
  const telegramApiRoot = url("TELEGRAM_API_ROOT", "https://api.telegram.org", ["http:", "https:"]);
  const publicBaseUrl = url("PUBLIC_BASE_URL", "http://127.0.0.1:3000", ["http:", "https:"]);
  const host = get("HOST", "0.0.0.0");
  const port = int("PORT", 3000, 0, 65535);
  const requestTimeoutMs = int("REQUEST_TIMEOUT_MS", 30_000, 1000, 600_000);
  const sweepIntervalMs = int("SCHEDULER_SWEEP_INTERVAL_MS", 30000, 100, 3_600_000);

  let jwtSecret = get("JWT_SECRET", dev ? DEV_JWT_SECRET : "");
  if (!jwtSecret) {
    if (opts.requireJwtSecret !== false) {
      problems.push("JWT_SECRET is required (a dev default exists only with NODE_ENV=development)");
    }
  } else if (jwtSecret.length < 32) {
    problems.push("JWT_SECRET must be at least 32 characters");
    jwtSecret = "";
  }

  let botTokenEncryptionKey: Buffer = Buffer.alloc(0);
  const rawKey = get("BOT_TOKEN_ENCRYPTION_KEY", dev ? DEV_ENCRYPTION_KEY : "");
  if (!rawKey) problems.push("BOT_TOKEN_ENCRYPTION_KEY is required (32 bytes, hex or base64)");
  else {
    const key = parseKey(rawKey);
    if (!key) problems.push("BOT_TOKEN_ENCRYPTION_KEY must be 32 bytes, as 64 hex characters or base64");
    else botTokenEncryptionKey = key;
  }

  const queuePrefix = get("QUEUE_PREFIX", "journeys");
  if (!/^[A-Za-z0-9_{}-]{1,64}$/.test(queuePrefix))
    problems.push("QUEUE_PREFIX may hold only letters, digits, _ - { }");
  // Redis hashes only what is between the first { and the next }, when that is not empty.
  else if (redisCluster && !/^[^{]*\{[^}]+\}/.test(queuePrefix))
    problems.push(
      `QUEUE_PREFIX must hold a hash tag on a Redis Cluster, e.g. {journeys} (got "${queuePrefix}"): BullMQ needs all of a queue's keys in one slot`,
    );
  const logLevel = get("LOG_LEVEL", "info");
  if (!LOG_LEVELS.includes(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(", ")}`);
  const adminHosts = get("ADMIN_HOSTS", "")
    .split(",")
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const trustedProxies = get("TRUSTED_PROXIES", "")
    .split(",")
    .map((p) => p.trim().toLowerCase())
    .filter(Boolean);
  const badProxies = trustedProxies.filter((p) => !isProxySpec(p));
  if (badProxies.length > 0) {
    problems.push(
      `TRUSTED_PROXIES must list IPs, CIDRs or ${PROXY_NAMES.join("/")} (not ${badProxies.map((p) => `"${p}"`).join(", ")})`,
    );
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    nodeEnv,
    databaseUrl,
    redisUrl,
    redisCluster,
    host,
    port,
    jwtSecret,
    botTokenEncryptionKey,
    telegramApiRoot,
    publicBaseUrl,
    adminHosts,
    trustedProxies,
    requestTimeoutMs,
    sweepIntervalMs,
    queuePrefix,
    logLevel,
  });
}

/** For entry points: load the config or print one clear line per problem and exit 1 (no crash loop spam). */
export function loadConfigOrExit(env: Env = process.env, opts: LoadOptions = {}): Config {
  try {
    return loadConfig(env, opts);
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const p of err.problems) process.stderr.write(`config error: ${p}\n`);
      process.exit(1);
    }
    throw err;
  }
}
