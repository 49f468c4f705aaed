import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { type Logger, processUpdate, SystemRepo, secretMatchesHash, type WebhookBot } from "@journeys/core";
import { botTexts } from "@journeys/core/engine/bot-texts";
import { Type } from "typebox";
import type { ApiDeps } from "../deps.ts";
import { clientKey } from "../plugins/rate-limit.ts";
import { webhookLimiter } from "../plugins/webhook-limit.ts";

const SECRET_HEADER = "x-telegram-bot-api-secret-token";
const Ack = Type.Object({ ok: Type.Boolean(), status: Type.Optional(Type.String()) });
const Err = Type.Object({ error: Type.String(), message: Type.String() });

/**
 * Bot rows change rarely; a short cache keeps a Postgres round trip off most updates. A change
 * (texts, a rotated secret) shows within the TTL; an update refused meanwhile, Telegram re-delivers.
 */
function botCache(system: SystemRepo, ttlMs = 5000) {
  const cache = new Map<string, { at: number; bot: Awaited<ReturnType<SystemRepo["botForWebhook"]>> }>();
  return async (botId: string) => {
    const hit = cache.get(botId);
    if (hit && Date.now() - hit.at < ttlMs) return hit.bot;
    const bot = await system.botForWebhook(botId);
    if (cache.size > 10_000) cache.clear();
    cache.set(botId, { at: Date.now(), bot });
    return bot;
  };
}

/**
 * One webhook route for every bot. The bot (and so the tenant) comes from the path and the
 * tenant_bots row, never from the update. 2xx only after the update's effects are committed:
 * on any failure Telegram re-delivers, and the (bot, update_id) claim makes that safe.
 */
export function telegramWebhookRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    const findBot = botCache(new SystemRepo(deps.db.db));
    const webhookBots = new WeakMap<object, WebhookBot>();
    const limiter = webhookLimiter();
    app.post(
      "/telegram/webhook/:botId",
      {
        schema: {
          tags: ["telegram"],
          summary: "Telegram webhook (one route for all bots)",
          // No length limit here: any id that is not a bot's is an unknown bot (404), not a bad request.
          params: Type.Object({ botId: Type.String() }),
          headers: Type.Object({ [SECRET_HEADER]: Type.Optional(Type.String()) }),
          body: Type.Object({ update_id: Type.Integer({ minimum: 0 }) }, { additionalProperties: true }),
          response: { 200: Ack, 400: Err, 401: Err, 404: Err, 429: Err },
        },
        // Bot and secret are checked before the body is even parsed: a caller without the secret
        // learns nothing about what a valid body looks like.
        onRequest: async (req, reply) => {
          const botId = (req.params as { botId: string }).botId;
          const address = clientKey(req);
          const retryAfter = limiter.admit(address, botId);
          if (retryAfter !== null) {
            return reply
              .status(429)
              .header("retry-after", retryAfter)
              .send({ error: "rate_limited", message: `Rate limit exceeded, retry in ${retryAfter} seconds` });
          }
          const row = await findBot(botId);
          if (!row) {
            limiter.failed(address, "unknown-bot");
            return reply.status(404).send({ error: "not_found", message: "unknown bot" });
          }
          const given = req.headers[SECRET_HEADER];
          // Only the secret's SHA-256 is stored: the header's hash is compared, in constant time.
          if (typeof given !== "string" || !secretMatchesHash(given, row.webhookSecretHash)) {
            // One WARN per bot a minute: a prober must not be able to fill the log (the rest go to debug).
            const level = limiter.failed(address, `secret:${row.botId}`) ? "warn" : "debug";
            req.log[level]({ bot_id: row.botId }, "webhook secret token missing or wrong");
            return reply.status(401).send({ error: "unauthorized", message: "missing or wrong secret token" });
          }
          webhookBots.set(req, {
            botId: row.botId,
            tenantId: row.tenantId,
            username: row.username,
            texts: botTexts(row),
          });
        },
      },
      async (req, reply) => {
        const bot = webhookBots.get(req);
        if (!bot) throw new Error("webhook bot not resolved");
        const result = await processUpdate(
          {
            db: deps.db.db,
            encryptionKey: deps.config.botTokenEncryptionKey,
            dispatcher: deps.dispatcher,
            log: req.log as unknown as Logger,
          },
          bot,
          req.body,
        );
        if (result.status === "malformed")
          return reply.status(400).send({ error: "bad_request", message: "not a Telegram update" });
        return { ok: true, status: result.status };
      },
    );
  };
}
