/** Telegram's side of a bot's webhook: one update POSTed as Telegram posts it. */
import type { Bot } from "./admin-client.ts";
import { type HttpResult, type RequestInit, request } from "./http.ts";

/** The request Telegram makes for `body` (a string is sent as it is: malformed bodies too). */
export function webhookRequest(
  bot: Pick<Bot, "secret">,
  body: unknown,
  headers: Record<string, string> = {},
): RequestInit {
  return {
    method: "POST",
    headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": bot.secret, ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  };
}

/** One webhook delivery; status 0 when no answer came within `timeoutMs`. */
export function deliver(
  apiUrl: string,
  bot: Pick<Bot, "path" | "secret">,
  body: unknown,
  timeoutMs = 15_000,
): Promise<HttpResult> {
  return request(`${apiUrl}${bot.path}`, { ...webhookRequest(bot, body), timeoutMs });
}
