/** The per-bot send limit on real Redis (each run under its own key prefix). */
import { randomBytes } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { deleteRedisPrefix } from "../../../test/support/context.ts";
import { REDIS_URL } from "../../../test/support/pg.ts";
import { redisSendRateLimiter, SENDS_PER_WINDOW } from "../src/delivery/send-rate.ts";

const prefix = `jt-rate-${randomBytes(4).toString("hex")}`;
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
const limiter = redisSendRateLimiter(redis, prefix);

afterAll(async () => {
  redis.disconnect();
  await deleteRedisPrefix(prefix);
});

async function fill(botId: string) {
  const held: (() => Promise<void>)[] = [];
  for (let i = 0; i < SENDS_PER_WINDOW; i++) {
    const place = await limiter.reserve(botId, 1000);
    if (place.ok) held.push(place.done);
  }
  return held;
}

describe("reserve", () => {
  it("gives every place of the window, then turns the next caller away instead of waiting", async () => {
    const held = await fill("full");
    expect(held).toHaveLength(SENDS_PER_WINDOW);
    // All places in flight: each answer is "again in one spacing", and those must not add up to
    // a wait far past maxWaitMs (it used to poll until the in-flight places expired, 35 s).
    const started = Date.now();
    const next = await limiter.reserve("full", 100);
    expect(next.ok).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000);
    if (!next.ok) expect(next.waitMs).toBeGreaterThan(0);
    for (const done of held) await done();
  });

  it("gives a place again once a finished send has left the window", async () => {
    const held = await fill("reuse");
    await held[0]!();
    const again = await limiter.reserve("reuse", 3000);
    expect(again.ok).toBe(true);
    if (again.ok) await again.done();
    for (const done of held.slice(1)) await done();
  });

  it("frees a place given back unused at once, not a window later", async () => {
    const given = [];
    for (let i = 0; i < SENDS_PER_WINDOW; i++) {
      const place = await limiter.reserve("unused", 1000);
      if (place.ok) given.push(place);
    }
    expect(given).toHaveLength(SENDS_PER_WINDOW);
    for (const place of given) await place.cancel();
    // Had they been sends (done), the next place would be most of a second away.
    const next = await limiter.reserve("unused", 200);
    expect(next.ok).toBe(true);
    if (next.ok) await next.done();
  });

  it("keeps bots apart: one bot's full window leaves another's free", async () => {
    const held = await fill("busy");
    const other = await limiter.reserve("idle", 0);
    expect(other.ok).toBe(true);
    if (other.ok) await other.done();
    for (const done of held) await done();
  });
});
