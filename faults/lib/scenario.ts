/** What every scenario gets, and small helpers they share. */
import type { Stack } from "../../scripts/lib/harness/stack.ts";
import { waitFor } from "./client.ts";
import type { Checks, ScenarioResult } from "./report.ts";

export interface Ctx {
  stack: Stack;
  /** The run's seed; scenarios derive their random choices from it. */
  seed: number;
  log(message: string): void;
}

export type Figures = Pick<ScenarioResult, "tried" | "lost" | "duplicates" | "double_advanced" | "server_errors"> & {
  metrics: ScenarioResult["metrics"];
};

export interface Scenario {
  id: number;
  name: string;
  run(ctx: Ctx, checks: Checks): Promise<Figures>;
}

/** How many times the fake Bot API received each (bot, chat, text) from the given bots. */
export function receipts(stack: Stack, telegramBotIds: number[]): Map<string, number> {
  const wanted = new Set(telegramBotIds);
  const counts = new Map<string, number>();
  for (const m of stack.fake.sent()) {
    if (!wanted.has(m.botId)) continue;
    const key = receiptKey(m.botId, m.chatId, m.text);
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

export const receiptKey = (telegramBotId: number, chatId: number, text: string) => `${telegramBotId}|${chatId}|${text}`;

/** Extra copies beyond the first, over all messages. */
export const extraCopies = (counts: Map<string, number>) =>
  [...counts.values()].reduce((n, c) => n + Math.max(0, c - 1), 0);

/** What the fake Bot API got of the `expected` receipt keys: `lost` never arrived, `duplicates` are extra copies. */
export function tallyReceipts(stack: Stack, telegramBotIds: number[], expected: string[]) {
  const got = receipts(stack, telegramBotIds);
  return {
    got,
    tried: expected.length,
    lost: expected.filter((k) => !got.has(k)).length,
    duplicates: extraCopies(got),
  };
}

/**
 * Wait up to `timeoutMs` for every `expected` receipt while the API and the worker stay alive. A
 * timeout is logged, not thrown: the scenario's checks then count what is missing.
 */
export async function waitForReceipts(
  stack: Stack,
  telegramBotIds: number[],
  expected: string[],
  log: (message: string) => void,
  timeoutMs: number,
): Promise<void> {
  await waitFor(
    "every message to arrive",
    () => {
      stack.requireAlive("api", "worker");
      const got = receipts(stack, telegramBotIds);
      return expected.every((k) => got.has(k));
    },
    timeoutMs,
    250,
  ).catch((err: Error) => log(err.message));
}

/** The figures of a scenario whose `tried` are the messages it expected (see tallyReceipts). */
export function messageFigures(
  tally: { tried: number; lost: number; duplicates: number },
  doubleAdvanced: number,
  serverErrors: number,
  metrics: Figures["metrics"],
): Figures {
  return {
    tried: tally.tried,
    lost: tally.lost,
    duplicates: tally.duplicates,
    double_advanced: doubleAdvanced,
    server_errors: serverErrors,
    metrics,
  };
}

/**
 * Outbox rows of a tenant still pending, as receipt keys: with `receipts`, "Telegram answered but
 * the commit did not happen (yet)" — the one window where a duplicate is possible.
 */
export async function pendingOutboxKeys(stack: Stack, tenantId: string, botIds: Map<string, number>) {
  const { rows } = await stack.db.query<{ bot_id: string; chat: number; text: string }>(
    `SELECT bot_id, telegram_chat_id::float8 AS chat, message_content->>'text' AS text
       FROM journey_outbox WHERE tenant_id = $1 AND status = 'pending'`,
    [tenantId],
  );
  return new Set(rows.map((r) => receiptKey(botIds.get(r.bot_id)!, Number(r.chat), r.text)));
}

/** Count of rows by status in a table for one tenant. */
export async function statusCounts(stack: Stack, table: string, tenantId: string): Promise<Record<string, number>> {
  const { rows } = await stack.db.query<{ status: string; n: number }>(
    `SELECT status, count(*)::int AS n FROM ${table} WHERE tenant_id = $1 GROUP BY status`,
    [tenantId],
  );
  return Object.fromEntries(rows.map((r) => [r.status, r.n]));
}

/** Sessions of a tenant with some message row written twice: a step that ran twice (double advance). */
export async function sessionsWithDoubleRows(stack: Stack, tenantId: string): Promise<number> {
  const { rows } = await stack.db.query<{ n: number }>(
    `SELECT count(DISTINCT session_id)::int AS n FROM (
       SELECT session_id FROM journey_outbox WHERE tenant_id = $1
        GROUP BY session_id, message_content->>'text' HAVING count(*) > 1) d`,
    [tenantId],
  );
  return rows[0]!.n;
}
