import { type Logger, pino } from "pino";

export type { Logger };

/** Paths redacted on every line: tokens, secrets and auth headers never reach the logs. */
export const REDACT_PATHS = [
  "token",
  "*.token",
  "botToken",
  "*.botToken",
  "secret",
  "*.secret",
  "webhookSecret",
  "*.webhookSecret",
  "tokenEncrypted",
  "*.tokenEncrypted",
  "token_encrypted",
  "*.token_encrypted",
  "req.headers.authorization",
  "req.headers.cookie",
  'req.headers["x-telegram-bot-api-secret-token"]',
  "headers.authorization",
  'headers["x-telegram-bot-api-secret-token"]',
];

export function createLogger(level: string, name?: string): Logger {
  return pino({ level, name, redact: { paths: REDACT_PATHS, censor: "[redacted]" } });
}

/** Bot API URLs carry the token in their path (/bot<token>/method): scrub it from any text. */
export function scrubToken(text: string): string {
  return text.replace(/bot\d+:[A-Za-z0-9_-]+/g, "bot[redacted]");
}
