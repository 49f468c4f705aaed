/**
 * Shared by the admin API, auth, docs and dashboard tests: tokens crafted by hand (so the tests do
 * not trust the signer they are testing), a client for `app.inject`, and small set-up helpers.
 */
import { createHmac, randomBytes } from "node:crypto";
import { updates } from "@journeys/fake-telegram";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { TEST_JWT_SECRET, type TestEnv } from "../../../test/support/context.ts";
import { addBot } from "../../../test/support/fixtures.ts";

const b64url = (x: object | string) => Buffer.from(typeof x === "string" ? x : JSON.stringify(x)).toString("base64url");
const now = () => Math.floor(Date.now() / 1000);

/** An HS256 JWT, signed with `secret` (the test files' JWT_SECRET by default). */
export function hs256(payload: object, secret = TEST_JWT_SECRET): string {
  const head = `${b64url({ alg: "HS256", typ: "JWT" })}.${b64url(payload)}`;
  return `${head}.${createHmac("sha256", secret).update(head).digest("base64url")}`;
}

/** The classic forgery: header alg "none" and an empty signature. */
export const algNone = (payload: object) => `${b64url({ alg: "none", typ: "JWT" })}.${b64url(payload)}.`;

export const claims = (tenant: string, role: string, extra: object = {}) => ({
  sub: `user-of-${tenant}`,
  tenant_id: tenant,
  role,
  iat: now(),
  exp: now() + 3600,
  ...extra,
});

export const tokenFor = (tenant: string, role: "admin" | "member" = "member", extra: object = {}) =>
  hs256(claims(tenant, role, extra));

export const expiredToken = (tenant: string) => tokenFor(tenant, "admin", { iat: now() - 7200, exp: now() - 60 });

/** A unique tenant id per test, so tests in one file never see each other's rows. */
export const newTenant = (label = "t") => `${label}-${randomBytes(4).toString("hex")}`;

export interface Call {
  method: "GET" | "POST" | "PUT" | "DELETE";
  url: string;
  token?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

/** One request through the real app; `body` strings are sent raw (malformed JSON, huge bodies). */
export function call(app: FastifyInstance, c: Call): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { ...c.headers };
  if (c.token) headers.authorization = `Bearer ${c.token}`;
  if (typeof c.body === "string") headers["content-type"] ??= "application/json";
  return app.inject({
    method: c.method,
    url: c.url,
    headers,
    ...(c.body === undefined ? {} : { payload: c.body as string | object }),
  });
}

/** A client bound to one token: `as.get("/api/journeys")`, `as.post(url, body)`… */
export function client(app: FastifyInstance, token: string) {
  return {
    get: (url: string) => call(app, { method: "GET", url, token }),
    post: (url: string, body?: unknown) => call(app, { method: "POST", url, token, body }),
    put: (url: string, body?: unknown) => call(app, { method: "PUT", url, token, body }),
  };
}

export type Client = ReturnType<typeof client>;

/** A tenant with a connected bot (stored directly: no Telegram round trip) and an API client. */
export async function tenantWithBot(app: FastifyInstance, env: TestEnv, role: "admin" | "member" = "member") {
  const tenant = newTenant();
  const bot = await addBot(env, tenant);
  return { tenant, bot, as: client(app, tokenFor(tenant, role)) };
}

/**
 * Create a journey through the API (asserting 201); returns its JSON. With `status: "active"` it is
 * created as draft, given one message step, then activated (no journey is active without steps).
 */
export async function createJourney(as: Client, botId: string, extra: Record<string, unknown> = {}) {
  const { status, ...rest } = extra;
  const first = status === "active" ? rest : extra;
  const res = await as.post("/api/journeys", { bot_id: botId, name: "Broker Sign Up", ...first });
  if (res.statusCode !== 201) throw new Error(`create journey: ${res.statusCode} ${res.body}`);
  if (status !== "active") return res.json();
  const id = res.json().id as string;
  const steps = await as.put(`/api/journeys/${id}/steps`, { steps: [MESSAGE] });
  if (steps.statusCode !== 200) throw new Error(`steps: ${steps.body}`);
  const activated = await as.put(`/api/journeys/${id}`, { status: "active" });
  if (activated.statusCode !== 200) throw new Error(`activate: ${activated.body}`);
  const { triggers: _t, ...journey } = activated.json();
  return journey;
}

/** Create an active journey with a deep link and the given steps through the API; returns its id. */
export async function activeJourney(as: Client, botId: string, startParam: string, steps: object[]) {
  // A journey becomes active only once it has steps: draft, steps, trigger, then activate.
  const created = await as.post("/api/journeys", { bot_id: botId, name: `J ${startParam}` });
  if (created.statusCode !== 201) throw new Error(`create journey: ${created.body}`);
  const id = created.json().id as string;
  const trig = await as.post(`/api/journeys/${id}/triggers`, {
    trigger_type: "telegram_deeplink",
    trigger_config: { start_param: startParam },
  });
  if (trig.statusCode !== 200) throw new Error(`trigger: ${trig.body}`);
  const put = await as.put(`/api/journeys/${id}/steps`, { steps });
  if (put.statusCode !== 200) throw new Error(`steps: ${put.body}`);
  const activate = await as.put(`/api/journeys/${id}`, { status: "active" });
  if (activate.statusCode !== 200) throw new Error(`activate: ${activate.body}`);
  return id;
}

/** A Telegram user sends `/start <param>` to the bot through the real webhook route. */
export async function userStarts(
  app: FastifyInstance,
  bot: { botId: string; webhookSecret: string },
  startParam: string,
  userId: number,
) {
  const res = await app.inject({
    method: "POST",
    url: `/telegram/webhook/${bot.botId}`,
    headers: { "x-telegram-bot-api-secret-token": bot.webhookSecret },
    payload: updates.startCommand(startParam, { userId }),
  });
  if (res.statusCode !== 200) throw new Error(`webhook: ${res.statusCode} ${res.body}`);
}

export const QUESTION = { step_type: "question", config: { text: "Age?", answer_key: "age", validation: "number" } };
export const MESSAGE = { step_type: "message", config: { text: "Thanks" } };
export const DELAY = { step_type: "delay", config: { min_minutes: 1, max_minutes: 2 } };
