/**
 * Outbox rows that are not plain texts: a message with an inline or reply keyboard, a callback
 * answer, a keyboard edit — each one Bot API call, sent by a real worker process in the chat's
 * order and under the bot's send limit, and a refusal of one not holding up the chat's next rows.
 * Rows are written here as the applier writes them (message_content is the call).
 */
import { describe, expect, it } from "vitest";
import {
  botApis,
  enqueueOutbox,
  redisSendRateLimiter,
  SENDS_PER_WINDOW,
} from "../../../packages/journeys/src/index.ts";
import { addBot, repoFor } from "../../../test/support/fixtures.ts";
import { waitFor, workerTestFile } from "./support.ts";

const { env, fake, q, worker } = await workerTestFile();

const KEYBOARD = {
  inline_keyboard: [
    [
      { text: "Yes", callback_data: "c1.0" },
      { text: "No", callback_data: "c1.1" },
    ],
    [{ text: "Read more", url: "https://example.org/terms" }],
  ],
};
const SHARE = { keyboard: [[{ text: "Share my phone number", request_contact: true }]], resize_keyboard: true };
const QUERY_TOO_OLD = "Bad Request: query is too old and response timeout expired or query ID is invalid";

type Content = Record<string, unknown>;

/** One chat's rows, in this order (ids ascending), and a send job for each, as the applier's effects add them. */
async function chatRows(tenant: string, botId: string, chatId: number, contents: Content[]) {
  const ids: number[] = [];
  for (const content of contents) {
    const { rows } = await env.handle.pool.query<{ id: number }>(
      `INSERT INTO journey_outbox (tenant_id, bot_id, telegram_chat_id, message_content)
       VALUES ($1, $2, $3, $4::jsonb) RETURNING id`,
      [tenant, botId, chatId, JSON.stringify(content)],
    );
    ids.push(rows[0]!.id);
  }
  for (const id of ids) await enqueueOutbox(q.queues, { id, botId });
  return ids;
}

async function settled(ids: number[]) {
  return waitFor("every row settled", async () => {
    const { rows } = await env.handle.pool.query<{ id: number; status: string; error: string | null }>(
      "SELECT id, status, error FROM journey_outbox WHERE id = ANY($1) ORDER BY id",
      [ids],
    );
    return rows.every((r) => r.status !== "pending") && rows;
  });
}

describe("rows of each Bot API method", () => {
  it("sends keyboards, callback answers and keyboard edits in the chat's order", async () => {
    const bot = await addBot(env, "t-markup");
    const chat = 61_001;
    const ids = await chatRows("t-markup", bot.botId, chat, [
      { text: "Continue?", reply_markup: KEYBOARD },
      { method: "answerCallbackQuery", callback_query_id: "4410001", text: "Saved" },
      // The fake numbers a chat's messages from 1: the keyboard above is message 1.
      {
        method: "editMessageReplyMarkup",
        message_id: 1,
        reply_markup: { inline_keyboard: [[{ text: "✓ Yes", callback_data: "c1.x" }]] },
      },
      { text: "Your phone number?", reply_markup: SHARE },
      { text: "Thanks", reply_markup: { remove_keyboard: true } },
      { text: "a row written before markup existed" },
      { method: "editMessageReplyMarkup", message_id: 1 },
    ]);
    const rows = await settled(ids);
    expect(rows.map((r) => r.status)).toEqual(Array(ids.length).fill("sent"));

    const events = fake.events({ botId: bot.telegramBotId, chatId: chat });
    expect(events.map((e) => e.kind)).toEqual([
      "message",
      "markup_edit",
      "message",
      "message",
      "message",
      "markup_edit",
    ]);
    const sent = fake.sent({ botId: bot.telegramBotId, chatId: chat });
    expect(sent.map((m) => [m.text, m.replyMarkup])).toEqual([
      ["Continue?", KEYBOARD],
      ["Your phone number?", SHARE],
      ["Thanks", { remove_keyboard: true }],
      ["a row written before markup existed", undefined],
    ]);
    const edits = fake.markupEdits({ botId: bot.telegramBotId, chatId: chat });
    expect(edits.map((e) => [e.messageId, e.replyMarkup])).toEqual([
      [1, { inline_keyboard: [[{ text: "✓ Yes", callback_data: "c1.x" }]] }],
      [1, undefined],
    ]);
    // The answer has no chat of its own (the fake did not issue the query): found by its id, in place.
    const [answer] = fake.callbackAnswers({ botId: bot.telegramBotId });
    expect(answer).toMatchObject({ callbackQueryId: "4410001", text: "Saved" });
    expect(answer!.seq).toBeGreaterThan(sent[0]!.seq);
    expect(answer!.seq).toBeLessThan(edits[0]!.seq);
    expect(worker().lines.some((l) => l.includes('"method":"answerCallbackQuery"') && l.includes("message sent"))).toBe(
      true,
    );
  });

  it("marks a refused callback answer or edit failed and goes on with the chat's next rows", async () => {
    const bot = await addBot(env, "t-markup-400");
    const chat = 61_002;
    fake.failNext("answerCallbackQuery", { status: 400, description: QUERY_TOO_OLD });
    const ids = await chatRows("t-markup-400", bot.botId, chat, [
      { method: "answerCallbackQuery", callback_query_id: "4410002", text: "Too late" },
      { text: "after the answer" },
      { method: "editMessageReplyMarkup", message_id: 999 },
      { text: "after the edit" },
      // Message 1 has no keyboard: removing it is "message is not modified", which is done already.
      { method: "editMessageReplyMarkup", message_id: 1 },
      { text: "after the unmodified edit" },
      { method: "sendPhoto", photo: "x" },
      { text: "after the unknown method" },
    ]);
    const rows = await settled(ids);
    expect(rows.map((r) => r.status)).toEqual(["failed", "sent", "failed", "sent", "sent", "sent", "failed", "sent"]);
    expect(rows[0]!.error).toContain("query is too old");
    expect(rows[2]!.error).toContain("message to edit not found");
    expect(rows[6]!.error).toContain("unknown method");
    expect(fake.sent({ botId: bot.telegramBotId, chatId: chat }).map((m) => m.text)).toEqual([
      "after the answer",
      "after the edit",
      "after the unmodified edit",
      "after the unknown method",
    ]);
    // Telegram was asked once each: a 400 is not retried.
    const asked = fake.calls.filter((c) => c.botId === bot.telegramBotId).map((c) => [c.method, c.status]);
    expect(asked.filter(([m]) => m !== "sendMessage")).toEqual([
      ["answerCallbackQuery", 400],
      ["editMessageReplyMarkup", 400],
      ["editMessageReplyMarkup", 400],
    ]);
    const rejected = worker().lines.filter((l) => l.includes('"msg":"message rejected: failed"'));
    expect(rejected.some((l) => l.includes('"method":"answerCallbackQuery"'))).toBe(true);
    expect(rejected.some((l) => l.includes('"method":"editMessageReplyMarkup"'))).toBe(true);
  });

  it("retries a 5xx on a callback answer and keeps the chat's order", async () => {
    const bot = await addBot(env, "t-markup-5xx");
    const chat = 61_003;
    fake.failNext("answerCallbackQuery", { status: 502, description: "Bad Gateway" });
    const ids = await chatRows("t-markup-5xx", bot.botId, chat, [
      { method: "answerCallbackQuery", callback_query_id: "4410003" },
      { text: "after the retried answer" },
    ]);
    const rows = await settled(ids);
    expect(rows.map((r) => r.status)).toEqual(["sent", "sent"]);
    const asked = fake.calls.filter((c) => c.botId === bot.telegramBotId).map((c) => [c.method, c.status]);
    expect(asked).toEqual([
      ["answerCallbackQuery", 502],
      ["answerCallbackQuery", 200],
      ["sendMessage", 200],
    ]);
  });
});

describe("the bot's send limit", () => {
  it("holds callback answers and keyboard edits to the bot's limit, as messages", async () => {
    // In process: the limiter the worker's Bot API clients use, with 60 calls at once.
    const bot = await addBot(env, "t-markup-limit");
    const apis = botApis(fake.apiRoot, redisSendRateLimiter(q.redis, env.config.queuePrefix));
    const api = await apis.forBot(repoFor(env, "t-markup-limit"), bot.botId);
    await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => api.answerCallbackQuery(`77${i}`)),
      // Editing a message the bot never sent is refused, but it is a call all the same.
      ...Array.from({ length: 20 }, (_, i) => api.editMessageReplyMarkup(63_000, i + 1).catch(() => undefined)),
    ]);
    const times = fake.calls
      .filter((c) => c.botId === bot.telegramBotId)
      .map((c) => c.at)
      .sort((a, b) => a - b);
    expect(times).toHaveLength(60);
    expect(peakPerSecond(times)).toBeLessThanOrEqual(SENDS_PER_WINDOW);
  });

  it("sends many chats' mixed rows through the worker, each chat in its rows' order, none twice", async () => {
    const bot = await addBot(env, "t-markup-rate");
    const chats = Array.from({ length: 20 }, (_, i) => 62_000 + i);
    const ids: number[] = [];
    for (const [i, chat] of chats.entries()) {
      ids.push(
        ...(await chatRows("t-markup-rate", bot.botId, chat, [
          { method: "answerCallbackQuery", callback_query_id: `55${i}` },
          { text: "Pick", reply_markup: KEYBOARD },
          { method: "answerCallbackQuery", callback_query_id: `66${i}` },
          { method: "editMessageReplyMarkup", message_id: 1 },
        ])),
      );
    }
    const rows = await settled(ids);
    expect(rows.every((r) => r.status === "sent")).toBe(true);

    const calls = fake.calls.filter((c) => c.botId === bot.telegramBotId);
    expect(calls).toHaveLength(ids.length); // no 429, nothing sent twice
    expect(peakPerSecond(calls.map((c) => c.at).sort((a, b) => a - b))).toBeLessThanOrEqual(SENDS_PER_WINDOW);
    // Each chat's calls in its rows' order: answer, message, answer, edit.
    const byChat = new Map<string, string[]>();
    for (const c of calls) {
      const chat =
        c.method === "answerCallbackQuery"
          ? String(chats[Number(String(c.params.callback_query_id).slice(2))])
          : String(c.params.chat_id);
      byChat.set(chat, [...(byChat.get(chat) ?? []), c.method]);
    }
    expect(byChat.size).toBe(chats.length);
    for (const methods of byChat.values()) {
      expect(methods).toEqual(["answerCallbackQuery", "sendMessage", "answerCallbackQuery", "editMessageReplyMarkup"]);
    }
  });
});

/** The most calls within any 1000 ms, from their sorted receive times. */
function peakPerSecond(times: number[]): number {
  let peak = 0;
  for (let first = 0, last = 0; last < times.length; last++) {
    while (times[last]! - times[first]! >= 1000) first++;
    peak = Math.max(peak, last - first + 1);
  }
  return peak;
}
