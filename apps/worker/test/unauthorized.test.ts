/**
 * A bot whose token Telegram stops accepting (401: revoked in BotFather, or replaced) mid-journey:
 * the bot is marked unauthorized (logged once), its sends pause with their rows kept pending — not
 * failed — and once the tenant connects the bot again with a valid token they go out, in order.
 */
import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { connectBot, createLogger } from "../../../packages/journeys/src/index.ts";
import { tenantWithJourney } from "../../../test/support/fixtures.ts";
import { outboxOf, scheduledOf } from "../../../test/support/rows.ts";
import { userSays, waitFor, workerTestFile } from "./support.ts";

const { env, fake, deps, worker } = await workerTestFile();

describe("a bot whose token is revoked mid-journey", () => {
  it("pauses its sends without failing them, and sends them in order once it is reconnected", async () => {
    const { bot, repo } = await tenantWithJourney(env, {
      tenantId: "t-revoked",
      startParam: "go",
      steps: [
        { step_type: "message", config: { text: "u-1" } },
        { step_type: "question", config: { text: "Name?", answer_key: "name", validation: "text" } },
        { step_type: "message", config: { text: "u-2" } },
        { step_type: "delay", config: { min_minutes: 0.01, max_minutes: 0.01 } },
        { step_type: "message", config: { text: "u-3" } },
      ],
    });
    const chat = 7301;
    await userSays(deps, bot, chat, "/start go");
    await fake.waitForMessages({ botId: bot.telegramBotId, chatId: chat, count: 2, timeoutMs: 20_000 });

    fake.revokeToken(bot.token);
    await userSays(deps, bot, chat, "Ann");
    const session = (await repo.sessions.recent(1))[0]!.session;
    // The delay fires (no Telegram call needed) and queues u-3 behind u-2; nothing goes out.
    await waitFor("the delay to fire", async () => (await scheduledOf(env, session.id))[0]?.status === "sent");
    await waitFor(
      "the bot to be marked unauthorized",
      async () => (await repo.bots.get(bot.botId)).unauthorizedAt !== null,
    );
    await new Promise((r) => setTimeout(r, 1500)); // a few sweeps: paused rows are handed jobs again
    const paused = await outboxOf(env, session.id);
    expect(paused.map((o) => [o.messageContent.text, o.status, o.attempts])).toEqual([
      ["u-1", "sent", 1],
      ["Name?", "sent", 1],
      ["u-2", "pending", 0],
      ["u-3", "pending", 0],
    ]);
    expect(fake.sent({ botId: bot.telegramBotId, chatId: chat }).map((m) => m.text)).toEqual(["u-1", "Name?"]);
    expect(
      worker().count(
        "Telegram refused the bot's token (401): bot marked unauthorized, its sends paused until it is connected again",
      ),
    ).toBe(1);

    // The tenant connects the bot again (POST /api/bots) with its new token.
    const token = `${bot.telegramBotId}:${randomBytes(24).toString("base64url")}`;
    fake.registerBot(token, { id: bot.telegramBotId, username: bot.username, first_name: bot.firstName });
    const connectDeps = {
      db: env.handle.db,
      encryptionKey: env.config.botTokenEncryptionKey,
      telegramApiRoot: fake.apiRoot,
      publicBaseUrl: "http://127.0.0.1:9",
      log: createLogger("silent"),
    };
    const { bot: reconnected } = await connectBot(connectDeps, "t-revoked", { token, botId: bot.botId });
    expect(reconnected.unauthorizedAt).toBeNull();

    const sent = await fake.waitForMessages({ botId: bot.telegramBotId, chatId: chat, count: 4, timeoutMs: 20_000 });
    expect(sent.map((m) => m.text)).toEqual(["u-1", "Name?", "u-2", "u-3"]);
    const after = await waitFor("every row to be marked sent", async () => {
      const rows = await outboxOf(env, session.id);
      return rows.every((r) => r.status === "sent") && rows;
    });
    expect(after.map((o) => o.attempts)).toEqual([1, 1, 1, 1]);
  });
});
