import type { BotSummary } from "@journeys/core";
import { Type } from "typebox";
import { BotId, Timestamp } from "./common.ts";

export const ConnectBotBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200, description: "the bot token from @BotFather" }),
    bot_id: Type.Optional(
      BotId("our id for the bot (default: its numeric Telegram id; a digits-only bot_id must be that id)"),
    ),
  },
  { additionalProperties: false },
);

export const ConnectedBot = Type.Object({
  bot_id: Type.String(),
  username: Type.String(),
  telegram_bot_id: Type.Integer(),
  webhook_url: Type.String(),
});

/** Never the token, never the webhook secret: the response schema only has room for these. */
export const Bot = Type.Object({
  bot_id: Type.String(),
  tenant_id: Type.String(),
  telegram_bot_id: Type.Integer(),
  username: Type.String(),
  first_name: Type.String(),
  webhook_url: Type.String(),
  status: Type.Union([Type.Literal("connected"), Type.Literal("unauthorized")], {
    description:
      "unauthorized: Telegram refused the bot's token (401); its messages wait, pending, until the bot is connected again (POST /api/bots with a valid token)",
  }),
  unauthorized_at: Type.Union([Timestamp, Type.Null()]),
  created_at: Timestamp,
  updated_at: Timestamp,
});
export const BotList = Type.Object({ bots: Type.Array(Bot) });

export function botOut(b: BotSummary, webhookUrl: string) {
  return {
    bot_id: b.botId,
    tenant_id: b.tenantId,
    telegram_bot_id: b.telegramBotId,
    username: b.username,
    first_name: b.firstName,
    webhook_url: webhookUrl,
    status: b.unauthorizedAt ? ("unauthorized" as const) : ("connected" as const),
    unauthorized_at: b.unauthorizedAt?.toISOString() ?? null,
    created_at: b.createdAt.toISOString(),
    updated_at: b.updatedAt.toISOString(),
  };
}
