import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { connectBot, disconnectBot, type Logger, webhookPath } from "@journeys/core";
import { Type } from "typebox";
import type { ApiDeps } from "../../deps.ts";
import { BotList, botOut, ConnectBotBody, ConnectedBot } from "../../schemas/bots.ts";
import { BotId, bearer, errors } from "../../schemas/common.ts";
import { tenantRepo } from "./tenant-repo.ts";

export function botRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  const webhookUrl = (botId: string) => `${deps.config.publicBaseUrl}${webhookPath(botId)}`;
  const connectDeps = (req: { log: unknown }) => ({
    db: deps.db.db,
    encryptionKey: deps.config.botTokenEncryptionKey,
    telegramApiRoot: deps.config.telegramApiRoot,
    publicBaseUrl: deps.config.publicBaseUrl,
    log: req.log as Logger,
  });
  return async (app) => {
    app.post(
      "/bots",
      {
        schema: {
          tags: ["bots"],
          summary: "Connect a bot: getMe, store the token encrypted, setWebhook with a per-bot secret",
          description: "A token Telegram refuses answers 400 with Telegram's description.",
          security: bearer,
          body: ConnectBotBody,
          response: { 201: ConnectedBot, ...errors(400, 409, 413, 415) },
        },
      },
      async (req, reply) => {
        const { bot, webhookUrl: url } = await connectBot(connectDeps(req), req.user.tenant_id, {
          token: req.body.token,
          botId: req.body.bot_id,
        });
        return reply.status(201).send({
          bot_id: bot.botId,
          username: bot.username,
          telegram_bot_id: bot.telegramBotId,
          webhook_url: url,
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
          params: Type.Object({ botId: BotId("the bot's bot_id") }),
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
