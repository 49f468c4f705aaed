import type { Logger } from "./logger.ts";

/** Postgres errors that mean "run the transaction again": deadlock, serialization failure. */
const RETRYABLE = new Set(["40P01", "40001"]);

/** The SQLSTATE of a Postgres error (drizzle may wrap it as the cause); undefined for anything else. */
export function pgCode(err: unknown): string | undefined {
  const e = err as { code?: string; cause?: { code?: string } } | null | undefined;
  return e?.code ?? e?.cause?.code;
}

export async function withRetry<T>(fn: () => Promise<T>, opts: { log?: Logger; attempts?: number } = {}): Promise<T> {
  const attempts = opts.attempts ?? 4;
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      const code = pgCode(err);
      if (i >= attempts || !code || !RETRYABLE.has(code)) throw err;
      opts.log?.warn({ pg_code: code, attempt: i }, "transaction conflict; retrying");
      await new Promise((r) => setTimeout(r, 5 * i + Math.random() * 20));
    }
  }
}
