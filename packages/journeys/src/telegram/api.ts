import { autoRetry } from "@grammyjs/auto-retry";
import { Api, GrammyError, HttpError } from "grammy";

export { GrammyError, HttpError };

/** The one webhook route for all bots; the bot id in the path selects the tenant_bots row. */
export const webhookPath = (botId: string) => `/telegram/webhook/${encodeURIComponent(botId)}`;

export interface ApiOptions {
  /** Retry 429 (honouring retry_after), 5xx and network errors inside the call, within these bounds. */
  retry?: { maxRetryAttempts: number; maxDelaySeconds: number } | false;
}

/** A grammY Bot API client aimed at TELEGRAM_API_ROOT (the fake Bot API in tests and local runs). */
export function createApi(token: string, apiRoot: string, opts: ApiOptions = {}): Api {
  const api = new Api(token, { apiRoot, timeoutSeconds: 30 });
  if (opts.retry !== false) {
    api.config.use(autoRetry(opts.retry ?? { maxRetryAttempts: 3, maxDelaySeconds: 30 }));
  }
  return api;
}

/** Telegram says the user blocked the bot / deleted the chat: stop talking to them. */
export function isBlockedError(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 403;
}

/** Telegram refused the bot's token (revoked, or replaced by a new one): nothing sends until it is reconnected. */
export function isUnauthorizedError(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code === 401;
}

/** A request Telegram will never accept as sent (bad chat id, bad text): retrying cannot help. */
export function isPermanentError(err: unknown): boolean {
  return err instanceof GrammyError && err.error_code >= 400 && err.error_code < 500 && err.error_code !== 429;
}
