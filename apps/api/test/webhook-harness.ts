/**
 * Shared set-up for the webhook end-to-end tests: the real API app on loopback, the fake Bot API
 * playing Telegram (it holds each bot's webhook URL and secret after connectBot), and helpers that
 * read what the engine committed. No worker runs: outgoing messages stay `journey_outbox` rows.
 */
import { randomBytes } from "node:crypto";
import { connectBot, createLogger, schema, type TenantRepository } from "@journeys/core";
import { type Delivery, type FakeTelegram, startFakeTelegram } from "@journeys/fake-telegram";
import { asc, eq, sql } from "drizzle-orm";
import { afterAll, expect } from "vitest";
import { startTestApi, type TestApi } from "../../../test/support/api.ts";
import { createTestEnv, type TestEnv } from "../../../test/support/context.ts";
import { repoFor } from "../../../test/support/fixtures.ts";
import { outboxOf } from "../../../test/support/rows.ts";

export interface ConnectedBot {
  botId: string;
  tenantId: string;
  /** Telegram's numeric id: the key the fake delivers updates by. */
  telegramId: number;
  username: string;
  repo: TenantRepository;
  /** For `updates.*` builders that need the bot (callback queries, my_chat_member). */
  ref: { id: number; username: string; first_name: string };
  /** The webhook secret as Telegram holds it (the API stores only its hash): the fake's last setWebhook. */
  readonly secret: string;
  /** The user types `text` in their private chat with the bot; asserts the webhook answered 200. */
  say(userId: number, text: string): Promise<{ ok: boolean; status: string }>;
  /** Deliver any update (with the right secret) and return the raw answer. */
  deliver(update: object): Promise<Delivery>;
}

export interface Harness {
  env: TestEnv;
  fake: FakeTelegram;
  api: TestApi;
  log: ReturnType<typeof createLogger>;
  connect(tenantId: string): Promise<ConnectedBot>;
  newUser(): number;
}

let nextTelegramBotId = 6_000_000_000 + Math.floor(Math.random() * 100_000) * 1000;
let nextUserId = 100_000_000 + Math.floor(Math.random() * 100_000) * 1000;

export async function startHarness(): Promise<Harness> {
  const env = await createTestEnv();
  const fake = await startFakeTelegram();
  afterAll(() => fake.close());
  const api = await startTestApi(env, { TELEGRAM_API_ROOT: fake.apiRoot });
  const log = createLogger("silent");

  async function connect(tenantId: string): Promise<ConnectedBot> {
    const telegramId = nextTelegramBotId++;
    const token = `${telegramId}:${randomBytes(18).toString("base64url")}`;
    const deps = {
      db: env.handle.db,
      encryptionKey: env.config.botTokenEncryptionKey,
      telegramApiRoot: fake.apiRoot,
      publicBaseUrl: api.url,
      log,
    };
    const { bot } = await connectBot(deps, tenantId, { token });
    const deliver = (update: object) => fake.deliverUpdate(telegramId, update);
    return {
      botId: bot.botId,
      tenantId,
      telegramId,
      username: bot.username,
      repo: repoFor(env, tenantId),
      ref: { id: telegramId, username: bot.username, first_name: bot.firstName },
      deliver,
      get secret() {
        const secret = fake.webhookOf(telegramId)?.secretToken;
        if (!secret) throw new Error(`bot ${telegramId}: no webhook secret registered`);
        return secret;
      },
      async say(userId, text) {
        const res = await fake.userSays(telegramId, { userId, text });
        expect(res.status, res.body).toBe(200);
        return JSON.parse(res.body) as { ok: boolean; status: string };
      },
    };
  }

  return { env, fake, api, log, connect, newUser: () => nextUserId++ };
}

type StepSpec = { step_type: string; config: Record<string, unknown> };

export const ask = (text: string, answerKey: string, validation: string): StepSpec => ({
  step_type: "question",
  config: { text, answer_key: answerKey, validation },
});
export const message = (text: string): StepSpec => ({ step_type: "message", config: { text } });
export const delay = (min: number, max: number): StepSpec => ({
  step_type: "delay",
  config: { min_minutes: min, max_minutes: max },
});

/** Every session of a Telegram user, in any tenant (oldest first): the cross-tenant truth. */
export function sessionsOfUser(env: TestEnv, userId: number) {
  const s = schema.journeyUserSessions;
  return env.handle.db.select().from(s).where(eq(s.telegramUserId, userId)).orderBy(asc(s.startedAt), asc(s.id));
}

/** The texts queued for a session, in send order. */
export async function outboxTexts(env: TestEnv, sessionId: string): Promise<string[]> {
  // A row that is not a sendMessage (a callback answer, a keyboard edit) shows as its method.
  return (await outboxOf(env, sessionId)).map((o) => o.messageContent.text ?? String(o.messageContent.method));
}

/** Row counts of everything an update can write. */
export async function counts(env: TestEnv) {
  const res = await env.handle.db.execute<{ sessions: number; outbox: number; scheduled: number; updates: number }>(sql`
    SELECT (SELECT count(*)::int FROM journey_user_sessions) AS sessions,
           (SELECT count(*)::int FROM journey_outbox) AS outbox,
           (SELECT count(*)::int FROM journey_scheduled_messages) AS scheduled,
           (SELECT count(*)::int FROM processed_updates) AS updates`);
  return res.rows[0]!;
}
