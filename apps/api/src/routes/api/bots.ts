import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { connectBot, DomainError, disconnectBot, type Logger, rotateWebhookSecret, webhookPath } from "@journeys/core";
import { Type } from "typebox";
import type { ApiDeps } from "../../deps.ts";
import { Bot, BotList, botOut, ConnectBotBody, ConnectedBot, UpdateBotBody } from "../../schemas/bots.ts";
import { BotId, bearer, ErrorBody, errors } from "../../schemas/common.ts";
import { tenantRepo } from "./tenant-repo.ts";

const TelegramRefused = Type.Object(ErrorBody.properties, {
  description: "Telegram refused setWebhook or could not be reached (the message says which); the old secret stays",
});

export function botRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const webhookUrl = (botId: string) => `${deps.config.publicBaseUrl}${webhookPath(botId)}`;
  const connectDeps = (req: { log: unknown }) => ({
    db: deps.db.db,
    encryptionKey: deps.config.botTokenEncryptionKey,
    telegramApiRoot: deps.config.telegramApiRoot,
    publicBaseUrl: deps.config.publicBaseUrl,
    log: req.log as Logger,
  });
  const BotParams = Type.Object({ botId: BotId("the bot's bot_id") });
  return async (app) => {
    app.post(
      "/bots",
      {
        schema: {
          tags: ["bots"],
          summary: "Connect a bot: getMe, store the token encrypted, setWebhook with a per-bot secret",
          description:
            "A token Telegram refuses answers 400 with Telegram's description. Connecting again with the same " +
            "bot_id replaces the token and registers a new webhook secret; texts given are set, others kept.",
          security: bearer,
          body: ConnectBotBody,
          response: { 201: ConnectedBot, ...errors(400, 409, 413, 415) },
        },
      },
      async (req, reply) => {
        const { token, bot_id: botId, ...texts } = req.body;
        const { bot, webhookUrl: url } = await connectBot(connectDeps(req), req.user.tenant_id, {
          token,
          botId,
          texts,
        });
        return reply.status(201).send({
          bot_id: bot.botId,
          username: bot.username,
          telegram_bot_id: bot.telegramBotId,
          webhook_url: url,
          texts: bot.texts,
        });
      },
    );

    app.get(
      "/bots",
      {
        schema: {
          tags: ["bots"],
          summary: "The tenant's bots (never the token nor the webhook secret)",
          security: bearer,
          response: { 200: BotList, ...errors() },
        },
      },
      async (req) => {
        const bots = await tenantRepo(deps, req).bots.list();
        return { bots: bots.map((b) => botOut(b, webhookUrl(b.botId))) };
      },
    );

    app.get(
      "/bots/:botId",
      {
        schema: {
          tags: ["bots"],
          summary: "One of the tenant's bots (never the token nor the webhook secret)",
          operationId: "getBot",
          security: bearer,
          params: BotParams,
          response: { 200: Bot, ...errors(404) },
        },
      },
      async (req) => {
        const bot = await tenantRepo(deps, req).bots.get(req.params.botId);
        return botOut(bot, webhookUrl(bot.botId));
      },
    );

    app.patch(
      "/bots/:botId",
      {
        schema: {
          tags: ["bots"],
          summary: "Set or reset the bot's texts",
          description:
            "Any subset of the texts: a string sets it, null restores the default, an absent field is kept. " +
            "The webhook sees a change within 5 seconds (each API process caches bot rows that long).",
          operationId: "updateBot",
          security: bearer,
          params: BotParams,
          body: UpdateBotBody,
          response: { 200: Bot, ...errors(400, 404, 413, 415) },
        },
      },
      async (req) => {
        const bot = await tenantRepo(deps, req).bots.setTexts(req.params.botId, req.body);
        return botOut(bot, webhookUrl(bot.botId));
      },
    );

    app.post(
      "/bots/:botId/webhook-secret",
      {
        schema: {
          tags: ["bots"],
          summary: "Rotate the webhook secret: a new one, registered with setWebhook, then stored (hashed)",
          description:
            "The new secret is never shown: Telegram holds it and sends it with every update. When Telegram " +
            "refuses setWebhook (or cannot be reached) the answer is 502 with Telegram's reason, and the old " +
            "secret stays in force. Updates sent with the new secret may be refused for up to 5 seconds " +
            "(the bot-row cache); Telegram delivers them again.",
          operationId: "rotateWebhookSecret",
          security: bearer,
          params: BotParams,
          response: { 200: Bot, 502: TelegramRefused, ...errors(404) },
        },
      },
      async (req, reply) => {
        try {
          const bot = await rotateWebhookSecret(connectDeps(req), req.user.tenant_id, req.params.botId);
          return botOut(bot, webhookUrl(bot.botId));
        } catch (err) {
          // The bot's stored token is ours, not the request's: Telegram refusing it is a bad gateway.
          if (err instanceof DomainError && err.code === "TELEGRAM_REJECTED") {
            return reply.status(502).send({ error: "telegram_rejected", message: err.message });
          }
          throw err;
        }
      },
    );

    app.delete(
      "/bots/:botId",
      {
        schema: {
          tags: ["bots"],
          summary: "Disconnect a bot: deleteWebhook at Telegram, then forget the bot and its token",
          description:
            "A bot still used by a journey that is not archived answers 409. A token Telegram no longer " +
            "accepts does not stop the disconnect; any other refusal of deleteWebhook answers 400.",
          security: bearer,
          params: BotParams,
          response: { 204: { description: "disconnected", type: "null" }, ...errors(400, 404, 409) },
        },
      },
      async (req, reply) => {
        await disconnectBot(connectDeps(req), req.user.tenant_id, req.params.botId);
        return reply.status(204).send(null);
      },
    );
  };
}
