import pino from "pino";
import { describe, expect, it } from "vitest";
import { loadConfig } from "../../../packages/journeys/src/config.ts";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { addBot } from "../../../test/support/fixtures.ts";
import { buildApp } from "../src/app.ts";
import { createApiDeps } from "../src/deps.ts";
import { API_IP_RATE_LIMIT, clientKey } from "../src/plugins/rate-limit.ts";
import { WEBHOOK_LIMITS, webhookLimiter } from "../src/plugins/webhook-limit.ts";
import { algNone, call, claims } from "./admin-support.ts";

// One environment (so one set of Redis counters) per app: each starts with full budgets.
const direct = await startTestApi(await createTestEnv());
const proxiedEnv = await createTestEnv();
const proxied = await startTestApi(proxiedEnv, { TRUSTED_PROXIES: "127.0.0.1" });
const IP_LIMIT = API_IP_RATE_LIMIT.max as number;
const forged = algNone(claims("victim", "admin"));

const forgedCall = (app: typeof direct.app, forwardedFor?: string) =>
  call(app, {
    method: "GET",
    url: "/api/journeys",
    token: forged,
    headers: forwardedFor ? { "x-forwarded-for": forwardedFor } : {},
  });

describe("admin API limit per client address, before authentication", () => {
  it("limits requests with forged tokens, and a spoofed X-Forwarded-For buys no fresh budget", async () => {
    for (let i = 0; i < IP_LIMIT; i++) {
      const res = await forgedCall(direct.app, `198.51.100.${i % 250}`);
      if (res.statusCode !== 401) throw new Error(`request ${i}: ${res.statusCode} ${res.body}`);
    }
    const over = await forgedCall(direct.app, "203.0.113.77");
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({ error: "rate_limited" });
    expect(Number(over.headers["retry-after"])).toBeGreaterThan(0);
  });

  it("behind a trusted proxy, each forwarded client has its own budget", async () => {
    for (let i = 0; i < IP_LIMIT; i++) {
      const res = await forgedCall(proxied.app, "203.0.113.1");
      if (res.statusCode !== 401) throw new Error(`request ${i}: ${res.statusCode} ${res.body}`);
    }
    expect((await forgedCall(proxied.app, "203.0.113.1")).statusCode).toBe(429);
    // The proxy appends the address it saw: the client's own entries to the left do not count.
    expect((await forgedCall(proxied.app, "203.0.113.1, 203.0.113.2")).statusCode).toBe(401);
    expect((await forgedCall(proxied.app, "203.0.113.2, 203.0.113.1")).statusCode).toBe(429);
  });
});

describe("webhook limit", () => {
  it("cuts off an address after its budget of refused requests (unknown bot, wrong secret), before any lookup", async () => {
    const bot = await addBot(proxiedEnv, "tenant-webhook-limit");
    const hook = (botId: string, secret: string, forwardedFor: string) =>
      proxied.app.inject({
        method: "POST",
        url: `/telegram/webhook/${botId}`,
        headers: { "x-telegram-bot-api-secret-token": secret, "x-forwarded-for": forwardedFor },
        payload: { update_id: 1 },
      });
    for (let i = 0; i < WEBHOOK_LIMITS.failuresPerAddress; i++) {
      const res = i % 2 ? await hook(`nobot_${i}`, "x", "192.0.2.1") : await hook(bot.botId, "wrong", "192.0.2.1");
      expect(res.statusCode).toBe(i % 2 ? 404 : 401);
    }
    const over = await hook(bot.botId, bot.webhookSecret, "192.0.2.1");
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({ error: "rate_limited" });
    expect(Number(over.headers["retry-after"])).toBeGreaterThan(0);
    // Telegram, at another address, is not affected.
    const telegram = await hook(bot.botId, bot.webhookSecret, "149.154.167.220");
    expect(telegram.statusCode).not.toBe(429);
  });

  it("writes one WARN a minute per bot for wrong secrets, the rest at debug", async () => {
    const lines: { level: number; msg: string; bot_id?: string }[] = [];
    const log = pino({ level: "debug" }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const env = await createTestEnv();
    const deps = createApiDeps(loadConfig({ ...env.env, LOG_LEVEL: "debug" }), log);
    const app = await buildApp(deps);
    try {
      const bot = await addBot(env, "tenant-warn");
      for (let i = 0; i < 30; i++) {
        const res = await app.inject({
          method: "POST",
          url: `/telegram/webhook/${bot.botId}`,
          headers: { "x-telegram-bot-api-secret-token": `wrong-${i}` },
          payload: { update_id: i },
        });
        expect(res.statusCode).toBe(401);
      }
      const refused = lines.filter((l) => l.msg === "webhook secret token missing or wrong");
      expect(refused).toHaveLength(30);
      expect(refused.filter((l) => l.level === 40)).toHaveLength(1);
      expect(refused.filter((l) => l.level === 20)).toHaveLength(29);
    } finally {
      await app.close();
      await deps.close();
    }
  });

  it("bounds all requests per (address, bot), in fixed windows", () => {
    let t = 1_000_000;
    const limiter = webhookLimiter({ ...WEBHOOK_LIMITS, requestsPerAddressAndBot: 3, failuresPerAddress: 2 }, () => t);
    expect([1, 2, 3].map(() => limiter.admit("a", "bot1"))).toEqual([null, null, null]);
    expect(limiter.admit("a", "bot1")).toBeGreaterThan(0);
    expect(limiter.admit("a", "bot2")).toBeNull();
    expect(limiter.admit("b", "bot1")).toBeNull();
    expect(limiter.failed("c", "secret:bot1")).toBe(true);
    expect(limiter.failed("c", "secret:bot1")).toBe(false);
    expect(limiter.admit("c", "bot3")).toBeGreaterThan(0);
    t += WEBHOOK_LIMITS.windowMs;
    expect(limiter.admit("a", "bot1")).toBeNull();
    expect(limiter.admit("c", "bot3")).toBeNull();
    expect(limiter.failed("c", "secret:bot1")).toBe(true);
  });
});

describe("clientKey", () => {
  const key = (ip: string) => clientKey({ ip } as never);
  it("is the IPv4 address itself, and an IPv6 client's /64", () => {
    expect(key("192.0.2.7")).toBe("192.0.2.7");
    expect(key("::ffff:192.0.2.7")).toBe("::ffff:192.0.2.7");
    expect(key("2001:db8:1:2:aaaa::1")).toBe("2001:db8:1:2::/64");
    expect(key("2001:db8:1:2:bbbb:cccc:dddd:eeee")).toBe("2001:db8:1:2::/64");
    expect(key("2001:db8::1")).toBe("2001:db8:0:0::/64");
    expect(key("::1")).toBe("0:0:0:0::/64");
  });
});
