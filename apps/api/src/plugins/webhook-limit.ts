/**
 * The webhook's limiter, in process rather than in Redis: it sits on the hottest path (every
 * Telegram update), where a Redis round trip per request would cost more than the flood it stops,
 * and a bound per API replica is enough to keep one client from flooding Postgres and the log.
 *
 * Two budgets, both per fixed one-minute window:
 * - failures (unknown bot, missing or wrong secret) per client address, checked before the bot is
 *   looked up: a prober with random bot ids or secrets is cut off without a query each;
 * - all requests per (client address, bot): generous, as Telegram sends a bot's updates from few
 *   addresses, yet bounded.
 */
export const WEBHOOK_LIMITS = {
  windowMs: 60_000,
  failuresPerAddress: 120,
  requestsPerAddressAndBot: 30_000,
  /** Keys a window may hold; past it, new keys go uncounted (a flood of ids still fails per address). */
  maxKeys: 100_000,
};

/** Counts hits per key in fixed windows; the whole map starts over with each window. */
export class WindowCounter {
  private counts = new Map<string, number>();
  private windowStart = 0;

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
    private readonly now: () => number = Date.now,
  ) {}

  private roll(): void {
    const t = this.now();
    if (t - this.windowStart >= this.windowMs) {
      this.counts.clear();
      this.windowStart = t - (t % this.windowMs);
    }
  }

  /** Count one hit; returns the key's count in this window, this one included. */
  hit(key: string): number {
    this.roll();
    const n = (this.counts.get(key) ?? 0) + 1;
    if (this.counts.has(key) || this.counts.size < this.maxKeys) this.counts.set(key, n);
    return n;
  }

  peek(key: string): number {
    this.roll();
    return this.counts.get(key) ?? 0;
  }

  /** Whole seconds until this window ends (for Retry-After). */
  secondsLeft(): number {
    return Math.max(1, Math.ceil((this.windowStart + this.windowMs - this.now()) / 1000));
  }
}

export interface WebhookLimiter {
  /** Before the bot lookup: a Retry-After in seconds when the address is over a budget, else null. */
  admit(address: string, botId: string): number | null;
  /** A refused request (unknown bot, wrong secret); true for the first of the window for this key (log it). */
  failed(address: string, key: string): boolean;
}

export function webhookLimiter(limits = WEBHOOK_LIMITS, now: () => number = Date.now): WebhookLimiter {
  const failures = new WindowCounter(limits.windowMs, limits.maxKeys, now);
  const requests = new WindowCounter(limits.windowMs, limits.maxKeys, now);
  const logged = new WindowCounter(limits.windowMs, limits.maxKeys, now);
  return {
    admit(address, botId) {
      if (failures.peek(address) >= limits.failuresPerAddress) return failures.secondsLeft();
      if (requests.hit(`${address}\n${botId}`) > limits.requestsPerAddressAndBot) return requests.secondsLeft();
      return null;
    },
    failed(address, key) {
      failures.hit(address);
      return logged.hit(key) === 1;
    },
  };
}
