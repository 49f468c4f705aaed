/**
 * What scenario 6's case groups share: the tenants they act as, the counted request (every 5xx, dropped
 * connection and leak of tenant B's data is recorded), and fast-check properties reported as checks.
 */
import { createHmac } from "node:crypto";
import fc from "fast-check";
import type { AdminClient, Bot } from "../../../scripts/lib/harness/admin-client.ts";
import { type HttpResult, jsonBody, type RequestInit, request } from "../../../scripts/lib/harness/http.ts";
import { webhookRequest } from "../../../scripts/lib/harness/webhook.ts";
import type { Checks } from "../../lib/report.ts";
import type { Ctx } from "../../lib/scenario.ts";

export interface Env {
  ctx: Ctx;
  checks: Checks;
  /** A random tag in this run's tenant ids and names. */
  tag: string;
  /** The tenant that sends the hostile input, to its own bot and journeys. */
  a: { admin: AdminClient; bot: Bot; journeyId: string };
  /** The victim: its markers (ids, names, a private answer) must never show up in A's responses. */
  b: { admin: AdminClient; bot: Bot; journeyId: string; markers: string[]; answer: string };
  /** Journeys with hostile names. */
  c: { admin: AdminClient; bot: Bot };
  /** Steps and triggers with hostile texts. */
  d: { admin: AdminClient; journeyId: string };
  stats: {
    requests: number;
    serverErrors: number;
    noAnswer: number;
    leaks: number;
    notVerbatim: number;
    examples: string[];
  };
}

/** One request, counted: a 5xx or no answer at all is recorded with what caused it. */
export async function hit(env: Env, label: string, url: string, init: RequestInit): Promise<HttpResult> {
  const res = await request(url, { timeoutMs: 20_000, ...init });
  env.stats.requests++;
  if (res.status >= 500 || res.status === 0) {
    if (res.status === 0) env.stats.noAnswer++;
    else env.stats.serverErrors++;
    if (env.stats.examples.length < 10) {
      const sent = typeof init?.body === "string" ? init.body.slice(0, 160) : "";
      env.stats.examples.push(
        `${label}: ${res.status || res.error} ${res.body.slice(0, 120)} ← ${JSON.stringify(sent)}`,
      );
    }
  }
  return res;
}

export const webhook = (env: Env, bot: Bot, body: string, headers: Record<string, string> = {}) =>
  hit(env, `webhook ${bot.botId}`, `${env.ctx.stack.apiUrl}${bot.path}`, webhookRequest(bot, body, headers));

export function asTenant(env: Env, admin: { token: string }, method: string, path: string, body?: unknown) {
  const json = jsonBody(body);
  return hit(env, `${method} ${path}`, `${env.ctx.stack.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${admin.token}`, ...json.headers },
    body: json.body,
  });
}

export const below500 = (res: HttpResult) => res.status > 0 && res.status < 500;

/** B's markers in a response — other than those the request itself carried (an echoed input is no leak). */
export function leaks(env: Env, res: HttpResult, sent = ""): boolean {
  const found = env.b.markers.filter((m) => res.body.includes(m) && !sent.includes(m));
  if (found.length) env.stats.leaks++;
  return found.length > 0;
}

export const b64url = (x: object | string) =>
  Buffer.from(typeof x === "string" ? x : JSON.stringify(x)).toString("base64url");

export function jwt(header: object, payload: object, secret: string | null, alg: "sha256" | "sha512" = "sha256") {
  const head = `${b64url(header)}.${b64url(payload)}`;
  return secret === null ? `${head}.` : `${head}.${createHmac(alg, secret).update(head).digest("base64url")}`;
}

let lastUser = 6_100_000 - 1;
/** A Telegram user no case has used yet. */
export const nextUser = () => ++lastUser;

/** Runs one property; a counterexample becomes a failed check (fast-check's report, shortened). */
export async function property<T>(
  env: Env,
  name: string,
  arb: fc.Arbitrary<T>,
  numRuns: number,
  predicate: (value: T) => Promise<boolean | undefined>,
): Promise<void> {
  const t0 = Date.now();
  const before = env.stats.requests;
  try {
    await fc.assert(
      fc.asyncProperty(arb, async (v) => {
        const ok = await predicate(v);
        return ok !== false;
      }),
      { numRuns, seed: env.ctx.seed, interruptAfterTimeLimit: 40_000, markInterruptAsFailure: false },
    );
  } catch (err) {
    const lines = String((err as Error).message).split("\n");
    const counterexample = lines.find((l) => l.startsWith("Counterexample")) ?? "";
    env.checks.failures.push(`${name}: ${lines[0]} ${counterexample.slice(0, 500)}`);
  }
  env.ctx.log(`  ${name}: ${env.stats.requests - before} requests in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}
