import type { BotSummary } from "@journeys/core";
import { BOT_TEXT_FIELDS, type BotTexts, DEFAULT_BOT_TEXTS } from "@journeys/core/engine/bot-texts";
import { BOT_TEXT_MAX } from "@journeys/core/repo/bots";
import { type TSchema, Type } from "typebox";
import { BotId, Nullable, Timestamp } from "./common.ts";

/** What each of a bot's texts is for (SPEC §10 "Bot texts"). */
const TEXT_USE: Record<keyof BotTexts, string> = {
  welcome_text: "a bare /start from a user with no live session on this bot",
  unknown_link_text: "/start with a parameter that matches no active journey of this bot",
  help_text: "/help",
  waiting_text: "a reply while the session waits on a delay (once per delay)",
  unavailable_text: "a journey that cannot take the user now",
};
const textFields = <T extends TSchema>(schema: (field: keyof BotTexts) => T) =>
  Object.fromEntries(BOT_TEXT_FIELDS.map((f) => [f, schema(f)])) as Record<keyof BotTexts, T>;

/** The texts a request may set: each optional; a string sets it, null restores the default. */
const TextInputs = textFields((f) =>
  Type.Optional(
    Nullable(
      Type.String({
        minLength: 1,
        maxLength: BOT_TEXT_MAX,
        description: `What the bot says on ${TEXT_USE[f]} (1–${BOT_TEXT_MAX} characters, not blank; null: the default, "${DEFAULT_BOT_TEXTS[f]}")`,
      }),
    ),
  ),
);

/** The texts a bot says, as they take effect: the stored ones, else the defaults. */
export const BotTextsOut = Type.Object(
  textFields((f) => Type.String({ description: `on ${TEXT_USE[f]}` })),
  { description: "the bot's texts as it sends them: the stored ones, else the defaults" },
);

export const ConnectBotBody = Type.Object(
  {
    token: Type.String({ minLength: 1, maxLength: 200, description: "the bot token from @BotFather" }),
    bot_id: Type.Optional(
      BotId("our id for the bot (default: its numeric Telegram id; a digits-only bot_id must be that id)"),
    ),
    ...TextInputs,
  },
  { additionalProperties: false },
);

/** PATCH: any subset of the texts (an empty body changes nothing). */
export const UpdateBotBody = Type.Object(TextInputs, { additionalProperties: false });

export const ConnectedBot = Type.Object({
  bot_id: Type.String(),
  username: Type.String(),
  telegram_bot_id: Type.Integer(),
  webhook_url: Type.String(),
  texts: BotTextsOut,
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
  texts: BotTextsOut,
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
    texts: b.texts,
    created_at: b.createdAt.toISOString(),
    updated_at: b.updatedAt.toISOString(),
  };
}
