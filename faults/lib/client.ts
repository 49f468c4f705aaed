/**
 * Driving the API as its users do: a scenario's tenant set up through the admin API (the harness's
 * admin client), and Telegram's side of the webhook — with Telegram's redelivery of anything not
 * answered 2xx. Updates are built with @journeys/fake-telegram's builders.
 */
import { type Update, updates } from "@journeys/fake-telegram";
import { AdminClient, type Bot, type StepSpec } from "../../scripts/lib/harness/admin-client.ts";
import { Fatal } from "../../scripts/lib/harness/services.ts";
import type { Stack } from "../../scripts/lib/harness/stack.ts";
import { deliver } from "../../scripts/lib/harness/webhook.ts";
import { inParallel } from "../../scripts/lib/parallel.ts";

/** An admin of `tenantId` on the stack's API. */
export const adminOf = (stack: Stack, tenantId: string, role: "admin" | "member" = "admin") =>
  new AdminClient(stack, tenantId, { role, sub: `faults-${tenantId}` });

/**
 * A scenario's tenant set-up: `count` bots connected through the admin API, each with the same
 * active journey of `steps` behind the deep link `startParam`.
 */
export async function botsWithJourney(
  stack: Stack,
  tenantId: string,
  count: number,
  startParam: string,
  steps: StepSpec[],
): Promise<{ bots: Bot[]; telegramIds: number[] }> {
  const admin = adminOf(stack, tenantId);
  const bots: Bot[] = [];
  for (let i = 0; i < count; i++) bots.push(await admin.connectBot());
  for (const bot of bots) await admin.createJourney(bot, { startParam, steps, name: `faults ${startParam}` });
  return { bots, telegramIds: bots.map((b) => b.telegramBotId) };
}

/** A user's `k`-th update in a journey of questions: the deep link `startParam` at 0, then answer `k`. */
export function answerUpdate(userId: number, startParam: string, k: number, answer: (k: number) => string): Update {
  return k === 0 ? updates.startCommand(startParam, { userId }) : updates.textMessage(answer(k), { userId });
}

export interface Acked {
  updateId: number;
  /** When the 2xx came (epoch ms). */
  at: number;
  attempts: number;
  /** The API's `status` field: "processed" or "duplicate" (already committed by an earlier try). */
  outcome: string;
  /** Every answer before the 2xx: HTTP statuses, 0 for no answer. */
  failures: number[];
}

/**
 * Telegram's redelivery: anything not answered 2xx (an error status, a reset connection, a refused
 * one, a timeout) is sent again, until it is acknowledged or `deadline` (epoch ms) passes.
 */
export async function deliverUntilAcked(
  stack: Stack,
  bot: Bot,
  update: Update,
  deadline: number,
  onAnswer?: (status: number, at: number) => void,
  /** Checked before each redelivery: throw (a Fatal) to stop, e.g. when the API died for good. */
  guard?: () => void,
): Promise<Acked> {
  const failures: number[] = [];
  for (let attempt = 1; ; attempt++) {
    guard?.();
    const res = await deliver(stack.apiUrl, bot, update, 10_000);
    const at = Date.now();
    onAnswer?.(res.status, at);
    if (res.status >= 200 && res.status < 300) {
      let outcome = "?";
      try {
        outcome = String((JSON.parse(res.body) as { status?: string }).status);
      } catch {
        // counted as "?"
      }
      return { updateId: update.update_id, at, attempts: attempt, outcome, failures };
    }
    failures.push(res.status);
    if (res.status >= 400 && res.status < 500) {
      throw new Error(`update ${update.update_id} answered ${res.status} (${res.body.slice(0, 200)}): not retryable`);
    }
    if (Date.now() > deadline) {
      throw new Error(
        `update ${update.update_id} not acknowledged after ${attempt} tries (last ${res.status || res.error})`,
      );
    }
    // Telegram backs off too; short here so a run stays within its budget.
    await new Promise((r) => setTimeout(r, Math.min(100 * attempt, 500) + Math.random() * 50));
  }
}

export { Fatal, inParallel };

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Poll `check` until it returns something other than undefined/false, or throw after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs: number,
  everyMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      if (err instanceof Fatal) throw err;
      // A failed look (e.g. the shared Postgres briefly out of connections) is "not yet".
      lastError = ` (last check failed: ${(err as Error).message})`;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError}`);
    await sleep(everyMs);
  }
}

/** A small seeded PRNG (mulberry32), so a run's random choices can be replayed from its seed. */
export function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    shuffle<T>(xs: T[]): T[] {
      const a2 = [...xs];
      for (let i = a2.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [a2[i], a2[j]] = [a2[j]!, a2[i]!];
      }
      return a2;
    },
  };
}
