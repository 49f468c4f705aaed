import { RateLimiterRedis, RateLimiterRes } from "rate-limiter-flexible";
import type { RedisClient } from "../queue/connection.ts";

/** Telegram: about 30 messages a second per bot for bulk sends. */
export const SENDS_PER_WINDOW = 30;
/** The window, a second plus a little for clocks that read the same instant a few ms apart. */
export const SEND_WINDOW_MS = 1020;
/** A send not reported finished by then (its worker died) stops holding its place in the window. */
const IN_FLIGHT_MAX_MS = 35_000;

/**
 * A sliding-window log for rate-limiter-flexible's RateLimiterRedis (its `customIncrTtlLuaScript`
 * hook), on Redis's clock. Counting grants alone is not enough: a message reaches Telegram some
 * time after its grant — usually a few ms, now and then 100+ ms (GC, a busy CPU) — so grants
 * spread over more than a second can still arrive within one. Here a send holds a place from its
 * grant until it has finished (`reward`) plus the window: whenever Telegram receives 31 messages
 * within a second, all 31 held places at once, which the log never allows. Places are counted,
 * not named, so any finished send releases the oldest in-flight place. Sends are also spaced
 * ≥ 75% of the even spacing apart (≈ 25 ms): no bursts of 30 at once.
 * A fixed window (RateLimiterRedis's own) would let 30 through at the end of one second and 30
 * at the start of the next.
 * A place given back unused (`cancel`: nothing was sent with it) leaves the log at once.
 * ARGV: points (1 = take a place, -1 = a send finished, -2 = a place given back unused), whole
 * seconds (unused), points limit,
 * duration in seconds. Returns RLF's {consumed, msBeforeNext}; consumed > limit means "wait".
 */
const SLIDING_LOG_LUA = `
local key = KEYS[1]
local limit = tonumber(ARGV[3])
local window = math.floor(tonumber(ARGV[4]) * 1000)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if tonumber(ARGV[1]) == -2 then
  local newest = redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')
  if newest[1] and newest[1] ~= 'last' and tonumber(newest[2]) > now then redis.call('ZREM', key, newest[1]) end
  return {0, 0}
end
if tonumber(ARGV[1]) < 0 then
  local flying = redis.call('ZRANGEBYSCORE', key, '(' .. now, '+inf', 'LIMIT', 0, 1)
  if flying[1] then redis.call('ZADD', key, 'XX', now, flying[1]) end
  return {0, 0}
end
local gap = math.floor(window / limit * 0.75)
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local last = tonumber(redis.call('ZSCORE', key, 'last'))
local n = redis.call('ZCARD', key)
local wait = 0
if last then
  n = n - 1
  wait = last + gap - now
end
if n >= limit then
  local first = redis.call('ZRANGE', key, 0, 1, 'WITHSCORES')
  local oldest = nil
  for i = 1, #first, 2 do
    if first[i] ~= 'last' then oldest = tonumber(first[i + 1]) break end
  end
  if oldest and oldest <= now then wait = math.max(wait, oldest + window - now) else wait = math.max(wait, gap) end
end
if wait > 0 then return {limit + 1, wait} end
redis.call('ZADD', key, now + ${IN_FLIGHT_MAX_MS}, t[1] .. '.' .. t[2] .. '-' .. n)
redis.call('ZADD', key, now, 'last')
redis.call('PEXPIRE', key, window + ${IN_FLIGHT_MAX_MS})
return {n + 1, window}
`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A place taken — `done` once the send has finished, or `cancel` when nothing was sent with it —
 * or how long until one is likely free.
 */
export type Reservation =
  | { ok: true; done: () => Promise<void>; cancel: () => Promise<void> }
  | { ok: false; waitMs: number };

export interface SendRateLimiter {
  /**
   * Wait (never fail) until one message for `botId` may be sent; call the returned `done` once
   * the send has finished, whatever its outcome.
   */
  acquire(botId: string): Promise<() => Promise<void>>;
  /**
   * Take a place for `botId` if one is free within `maxWaitMs`; otherwise do not wait — say how
   * long the caller should stay away, so a job does not hold a worker slot through a backlog.
   */
  reserve(botId: string, maxWaitMs: number): Promise<Reservation>;
}

/**
 * The per-bot send limit shared by every worker process: a RateLimiterRedis keyed by bot id under
 * `<QUEUE_PREFIX>:send-rate`. When the window is full `acquire` sleeps msBeforeNext and asks
 * again; `reserve` sleeps only short waits and otherwise says when to come back.
 * A Redis error while asking is thrown (the job is retried once Redis is back); one while
 * reporting a finished send is swallowed (the place frees itself after IN_FLIGHT_MAX_MS).
 */
export function redisSendRateLimiter(
  redis: RedisClient,
  prefix: string,
  opts: { points?: number; windowMs?: number } = {},
): SendRateLimiter {
  const limiter = new RateLimiterRedis({
    storeClient: redis,
    keyPrefix: `${prefix}:send-rate`,
    points: opts.points ?? SENDS_PER_WINDOW,
    duration: (opts.windowMs ?? SEND_WINDOW_MS) / 1000,
    customIncrTtlLuaScript: SLIDING_LOG_LUA,
  });
  const tails = new Map<string, Promise<unknown>>();
  const spacingMs = (opts.windowMs ?? SEND_WINDOW_MS) / (opts.points ?? SENDS_PER_WINDOW);
  /** Per bot, the latest time this process told a turned-away caller to come back. */
  const promised = new Map<string, number>();
  /** Per bot, reserve() calls of this process still waiting for their turn or their place. */
  const waiting = new Map<string, number>();

  async function take(botId: string, maxWaitMs = Number.POSITIVE_INFINITY): Promise<Reservation> {
    // The bound is on the whole wait: with every place in flight the limiter says "again in one
    // spacing" each time, and those short waits must not add up past maxWaitMs.
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      try {
        await limiter.consume(botId);
        let released = false;
        // reward(1) runs the script with -1 (finished), reward(2) with -2 (given back unused).
        const release = (points: 1 | 2) => async () => {
          if (released) return;
          released = true;
          await limiter.reward(botId, points).catch(() => undefined);
        };
        return { ok: true, done: release(1), cancel: release(2) };
      } catch (err) {
        if (!(err instanceof RateLimiterRes)) throw err;
        const wait = Number(err.msBeforeNext);
        if (Date.now() + wait > deadline) return { ok: false, waitMs: comeBackIn(botId, wait) };
        await sleep(wait + Math.random()); // processes should not ask in lockstep
      }
    }
  }

  /**
   * Callers turned away together would all come back at the same instant and be turned away again;
   * spread them one even spacing apart, so a backlog's jobs are rescheduled about once each.
   */
  function comeBackIn(botId: string, wait: number): number {
    const now = Date.now();
    const at = Math.max(now + wait, (promised.get(botId) ?? 0) + spacingMs);
    promised.set(botId, at);
    if (promised.size > 10_000) for (const [k, t] of promised) if (t < now) promised.delete(k);
    return Math.ceil(at - now);
  }

  /** Waiters in one process queue per bot, so only one of them polls Redis at a time. */
  function queued(botId: string, run: () => Promise<Reservation>): Promise<Reservation> {
    const next = (tails.get(botId) ?? Promise.resolve()).then(run);
    const tail = next.catch(() => undefined);
    tails.set(botId, tail);
    void tail.then(() => {
      if (tails.get(botId) === tail) tails.delete(botId);
    });
    return next;
  }

  return {
    async acquire(botId) {
      const r = await queued(botId, () => take(botId));
      if (!r.ok) throw new Error("unreachable: an unbounded wait always takes a place");
      return r.done;
    },
    async reserve(botId, maxWaitMs) {
      // Behind enough waiters of this process already, the place is surely further than maxWaitMs.
      const ahead = waiting.get(botId) ?? 0;
      if (ahead * spacingMs > maxWaitMs) return { ok: false, waitMs: comeBackIn(botId, ahead * spacingMs) };
      waiting.set(botId, ahead + 1);
      try {
        return await queued(botId, () => take(botId, maxWaitMs));
      } finally {
        const n = (waiting.get(botId) ?? 1) - 1;
        if (n > 0) waiting.set(botId, n);
        else waiting.delete(botId);
      }
    },
  };
}
