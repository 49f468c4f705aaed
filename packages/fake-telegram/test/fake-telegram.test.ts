import { once } from "node:events";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Bot, GrammyError } from "grammy";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type FakeTelegram, startFakeTelegram, updates } from "../src/index.ts";

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, inspected freely in assertions
type Json = any;

const TOKEN = "1234567:AAH3kfj_ZQ9xq-LmN0pQrStUvWxYz012345";
const BOT_ID = 1234567;
const OTHER_TOKEN = "7654321:BBH3kfj_ZQ9xq-LmN0pQrStUvWxYz012345";

let fake: FakeTelegram;

/** A call shaped like grammY's: POST JSON to {apiRoot}/bot{token}/{method}. */
async function call(method: string, params: object = {}, token = TOKEN) {
  const res = await fetch(`${fake.apiRoot}/bot${token}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(params),
  });
  return { status: res.status, json: (await res.json()) as Record<string, Json> };
}

async function control(path: string, body?: object) {
  const res = await fetch(`${fake.apiRoot}/_fake/${path}`, {
    method: body ? "POST" : "GET",
    ...(body ? { headers: { "content-type": "application/json" }, body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, json: (await res.json()) as Record<string, Json> };
}

/** A tiny webhook receiver standing in for the product's API. */
interface Received {
  headers: IncomingHttpHeaders;
  body: Json;
}
let hookServer: Server;
let hookUrl: string;
const received: Received[] = [];
let hookStatus = 200;

beforeAll(async () => {
  fake = await startFakeTelegram();
  hookServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({ headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString("utf8")) });
      res.writeHead(hookStatus, { "content-type": "text/plain" }).end("handled");
    });
  });
  hookServer.listen(0, "127.0.0.1");
  await once(hookServer, "listening");
  hookUrl = `http://127.0.0.1:${(hookServer.address() as AddressInfo).port}/telegram/webhook`;
});

afterEach(() => {
  fake.reset();
  fake.setRateLimit(null);
  received.length = 0;
  hookStatus = 200;
});

afterAll(async () => {
  await fake.close();
  hookServer.closeAllConnections();
  await new Promise((resolve) => hookServer.close(resolve));
});

describe("Bot API over plain fetch", () => {
  it("answers getMe for any well-formed token", async () => {
    const { status, json } = await call("getMe");
    expect(status).toBe(200);
    expect(json).toEqual({
      ok: true,
      result: {
        id: BOT_ID,
        is_bot: true,
        first_name: `Bot ${BOT_ID}`,
        username: `bot${BOT_ID}_bot`,
        can_join_groups: true,
        can_read_all_group_messages: false,
        supports_inline_queries: false,
      },
    });
    expect(fake.calls).toMatchObject([{ seq: expect.any(Number), token: TOKEN, botId: BOT_ID, method: "getMe" }]);
  });

  it("uses registered bot info", async () => {
    const token = "555:registeredTokenABCDEFGHIJ";
    fake.registerBot(token, { username: "journeys_test_bot", first_name: "Journeys" });
    const { json } = await call("getMe", {}, token);
    expect(json.result).toMatchObject({ id: 555, username: "journeys_test_bot", first_name: "Journeys" });
  });

  it("answers 401 to bad tokens", async () => {
    for (const token of ["nonsense", "123:short", "1234567:invalidTokenABCDEFGHIJKL"]) {
      const { status, json } = await call("getMe", {}, token);
      expect(status).toBe(401);
      expect(json).toEqual({ ok: false, error_code: 401, description: "Unauthorized" });
    }
  });

  it("sets, reports and deletes a webhook", async () => {
    const set = await call("setWebhook", { url: hookUrl, secret_token: "s3cret_TOKEN-1" });
    expect(set.json).toEqual({ ok: true, result: true, description: "Webhook was set" });
    expect(fake.webhookOf(BOT_ID)).toEqual({ url: hookUrl, secretToken: "s3cret_TOKEN-1" });
    expect((await call("getWebhookInfo")).json.result).toMatchObject({ url: hookUrl, pending_update_count: 0 });
    expect((await control("webhooks")).json).toEqual({ [BOT_ID]: { url: hookUrl, has_secret: true } });

    const bad = await call("setWebhook", { url: hookUrl, secret_token: "has spaces!" });
    expect(bad.status).toBe(400);

    expect((await call("deleteWebhook")).json).toMatchObject({ ok: true, result: true });
    expect(fake.webhookOf(BOT_ID)).toBeUndefined();
  });

  it("sends messages with per-chat increasing message ids", async () => {
    const first = await call("sendMessage", { chat_id: 42, text: "hello" });
    const second = await call("sendMessage", { chat_id: "42", text: "again" });
    expect(first.json).toMatchObject({
      ok: true,
      result: { message_id: 1, chat: { id: 42, type: "private" }, from: { id: BOT_ID, is_bot: true }, text: "hello" },
    });
    expect(typeof first.json.result.date).toBe("number");
    expect(second.json.result.message_id).toBe(2);
    expect(fake.sent({ chatId: 42 }).map((m) => [m.text, m.messageId])).toEqual([
      ["hello", 1],
      ["again", 2],
    ]);
  });

  it("accepts urlencoded bodies and query-string params", async () => {
    const form = await fetch(`${fake.apiRoot}/bot${TOKEN}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ chat_id: "7", text: "from a form" }),
    });
    expect(form.status).toBe(200);
    const get = await fetch(`${fake.apiRoot}/bot${TOKEN}/sendMessage?chat_id=7&text=from+a+query`);
    expect(get.status).toBe(200);
    expect(fake.sent({ chatId: 7 }).map((m) => m.text)).toEqual(["from a form", "from a query"]);
  });

  it("rejects empty and too-long texts, unknown methods and huge bodies like Telegram", async () => {
    expect(await call("sendMessage", { chat_id: 1, text: "" })).toEqual({
      status: 400,
      json: { ok: false, error_code: 400, description: "Bad Request: message text is empty" },
    });
    expect(await call("sendMessage", { chat_id: 1, text: "x".repeat(4097) })).toEqual({
      status: 400,
      json: { ok: false, error_code: 400, description: "Bad Request: message is too long" },
    });
    expect((await call("sendMessage", { chat_id: 1, text: "x".repeat(4096) })).status).toBe(200);
    expect(await call("sendCarrierPigeon")).toEqual({
      status: 404,
      json: { ok: false, error_code: 404, description: "Not Found: method not found" },
    });
    expect((await call("sendMessage", { chat_id: 1, text: "y".repeat(1024 * 1024 + 10) })).status).toBe(413);
    expect(fake.sent()).toHaveLength(1);
    expect(fake.calls.map((c) => c.status)).toEqual([400, 400, 200, 404, 413]);
  });

  it("answers setMyCommands and answerCallbackQuery", async () => {
    expect((await call("setMyCommands", { commands: [{ command: "start", description: "Start" }] })).json).toEqual({
      ok: true,
      result: true,
    });
    expect((await call("answerCallbackQuery", { callback_query_id: "987" })).json).toEqual({ ok: true, result: true });
  });

  it("records reply_markup of every kind, sent as JSON or as a form field's JSON string", async () => {
    const inline = {
      inline_keyboard: [
        [
          { text: "Yes", callback_data: "y" },
          { text: "Site", url: "https://x.io" },
        ],
      ],
    };
    const contact = { keyboard: [[{ text: "Share my phone number", request_contact: true }]], resize_keyboard: true };
    const first = await call("sendMessage", { chat_id: 40, text: "pick", reply_markup: inline });
    expect(first.json.result).toMatchObject({ message_id: 1, text: "pick", reply_markup: inline });
    const form = await fetch(`${fake.apiRoot}/bot${TOKEN}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ chat_id: "40", text: "phone?", reply_markup: JSON.stringify(contact) }),
    });
    // Telegram's Message carries only an inline keyboard.
    expect(((await form.json()) as Json).result.reply_markup).toBeUndefined();
    await call("sendMessage", { chat_id: 40, text: "thanks", reply_markup: { remove_keyboard: true } });
    expect(fake.sent({ chatId: 40 }).map((m) => [m.messageId, m.replyMarkup])).toEqual([
      [1, inline],
      [2, contact],
      [3, { remove_keyboard: true }],
    ]);
  });

  it("refuses markup Telegram refuses: callback_data over 64 bytes, buttons without an action, bad JSON", async () => {
    const button = (b: object) => ({ inline_keyboard: [[{ text: "A", ...b }]] });
    const refused = [
      button({ callback_data: "x".repeat(65) }),
      button({ callback_data: "é".repeat(33) }), // 66 bytes in UTF-8
      button({}),
      { inline_keyboard: [{ text: "not rows" }] },
      "{not json",
      { keyboard: [[{ text: "" }]] },
    ];
    for (const reply_markup of refused) {
      expect((await call("sendMessage", { chat_id: 41, text: "x", reply_markup })).status).toBe(400);
    }
    expect(
      (await call("sendMessage", { chat_id: 41, text: "x", reply_markup: button({ callback_data: "é".repeat(32) }) }))
        .status,
    ).toBe(200);
    expect(fake.sent()).toHaveLength(1);
  });

  it("answers a callback query once: a second answer is 'query is too old'", async () => {
    expect((await call("answerCallbackQuery", { callback_query_id: "q1", text: "Saved" })).json).toEqual({
      ok: true,
      result: true,
    });
    expect(await call("answerCallbackQuery", { callback_query_id: "q1" })).toEqual({
      status: 400,
      json: {
        ok: false,
        error_code: 400,
        description: "Bad Request: query is too old and response timeout expired or query ID is invalid",
      },
    });
    expect((await call("answerCallbackQuery", { callback_query_id: "q2", text: "x".repeat(201) })).status).toBe(400);
    expect(fake.callbackAnswers()).toMatchObject([{ botId: BOT_ID, callbackQueryId: "q1", text: "Saved" }]);
  });
});

describe("Bot API through grammY", () => {
  const bot = () => new Bot(TOKEN, { client: { apiRoot: fake.apiRoot } });

  it("getMe and sendMessage round-trip", async () => {
    const b = bot();
    expect(await b.api.getMe()).toMatchObject({ id: BOT_ID, is_bot: true, username: `bot${BOT_ID}_bot` });
    const msg = await b.api.sendMessage(99, "hi");
    expect(msg).toMatchObject({ message_id: 1, chat: { id: 99 }, text: "hi" });
    expect(fake.sent()).toMatchObject([{ botId: BOT_ID, chatId: 99, text: "hi", messageId: 1 }]);
    expect(await b.api.setWebhook(hookUrl, { secret_token: "abc" })).toBe(true);
    expect(fake.webhookOf(BOT_ID)).toEqual({ url: hookUrl, secretToken: "abc" });
  });

  it("rejects with GrammyError 403 for a blocked chat", async () => {
    fake.blockChat(13);
    const err = await bot()
      .api.sendMessage(13, "hello?")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrammyError);
    expect(err).toMatchObject({ error_code: 403, description: "Forbidden: bot was blocked by the user" });
    expect(fake.sent()).toEqual([]);
  });

  it("blocks per bot when a bot id is given", async () => {
    fake.blockChat(14, 7654321);
    expect((await call("sendMessage", { chat_id: 14, text: "ok" })).status).toBe(200);
    expect((await call("sendMessage", { chat_id: 14, text: "no" }, OTHER_TOKEN)).status).toBe(403);
  });

  it("carries retry_after on an injected 429, then recovers", async () => {
    fake.failNext("sendMessage", { status: 429, description: "Too Many Requests: retry after 5", retryAfter: 5 });
    const err = await bot()
      .api.sendMessage(5, "one")
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(GrammyError);
    expect(err).toMatchObject({ error_code: 429, parameters: { retry_after: 5 } });
    expect(await bot().api.sendMessage(5, "two")).toMatchObject({ text: "two" });
    expect(fake.stats()).toMatchObject({ sent: 1, rejected429: 1 });
  });

  it("answers the next calls of a method late when asked to", async () => {
    fake.delayNext("sendMessage", 300);
    const t0 = Date.now();
    expect((await call("sendMessage", { chat_id: 6, text: "slow" })).status).toBe(200);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(280);
    const t1 = Date.now();
    expect((await call("sendMessage", { chat_id: 6, text: "fast" })).status).toBe(200);
    expect(Date.now() - t1).toBeLessThan(280);
  });

  it("edits a message's inline keyboard like Telegram: the edited Message, then 'not modified', 'not found'", async () => {
    const api = bot().api;
    const keyboard = {
      inline_keyboard: [
        [
          { text: "Yes", callback_data: "y" },
          { text: "No", callback_data: "n" },
        ],
      ],
    };
    const sent = await api.sendMessage(60, "Continue?", { reply_markup: keyboard });
    const marked = { inline_keyboard: [[{ text: "✓ Yes", callback_data: "done" }]] };
    const edited = await api.editMessageReplyMarkup(60, sent.message_id, { reply_markup: marked });
    expect(edited).toMatchObject({
      message_id: sent.message_id,
      chat: { id: 60 },
      from: { id: BOT_ID, is_bot: true },
      date: sent.date,
      edit_date: expect.any(Number),
      text: "Continue?",
      reply_markup: marked,
    });
    // The same keyboard again, keys in another order: not modified.
    const same = { inline_keyboard: [[{ callback_data: "done", text: "✓ Yes" }]] };
    await expect(api.editMessageReplyMarkup(60, sent.message_id, { reply_markup: same })).rejects.toMatchObject({
      error_code: 400,
      description: expect.stringMatching(/^Bad Request: message is not modified/),
    });
    // No reply_markup removes the keyboard; removing it twice is not a modification.
    const removed = await api.editMessageReplyMarkup(60, sent.message_id);
    expect(removed).not.toHaveProperty("reply_markup");
    await expect(api.editMessageReplyMarkup(60, sent.message_id)).rejects.toMatchObject({ error_code: 400 });
    await expect(api.editMessageReplyMarkup(60, 999)).rejects.toMatchObject({
      description: "Bad Request: message to edit not found",
    });
    await expect(api.editMessageReplyMarkup(61, sent.message_id)).rejects.toMatchObject({ error_code: 400 });
    const reply = { keyboard: [[{ text: "A" }]] } as unknown as typeof keyboard;
    await expect(api.editMessageReplyMarkup(60, sent.message_id, { reply_markup: reply })).rejects.toMatchObject({
      description: "Bad Request: inline keyboard expected",
    });
    expect(fake.markupEdits()).toMatchObject([
      { botId: BOT_ID, chatId: 60, messageId: sent.message_id, replyMarkup: marked },
      { botId: BOT_ID, chatId: 60, messageId: sent.message_id },
    ]);
    expect(fake.markupEdits()[1]).not.toHaveProperty("replyMarkup");
    expect(fake.calls.filter((c) => c.method === "editMessageReplyMarkup").map((c) => c.status)).toEqual([
      200, 400, 200, 400, 400, 400, 400,
    ]);
  });

  it("answers a callback query through grammY", async () => {
    expect(await bot().api.answerCallbackQuery("77", { text: "Saved" })).toBe(true);
    await expect(bot().api.answerCallbackQuery("77")).rejects.toMatchObject({ error_code: 400 });
    expect(fake.callbackAnswers()).toMatchObject([{ callbackQueryId: "77", text: "Saved" }]);
  });

  it("injects 5xx failures count times", async () => {
    fake.failNext("getMe", { status: 502, description: "Bad Gateway" }, 2);
    for (let i = 0; i < 2; i++) {
      await expect(bot().api.getMe()).rejects.toMatchObject({ error_code: 502 });
    }
    await expect(bot().api.getMe()).resolves.toMatchObject({ id: BOT_ID });
  });
});

describe("rate limit", () => {
  it("accepts exactly N per sliding second per bot and answers the rest 429 retry_after 1", async () => {
    fake.setRateLimit(30);
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => call("sendMessage", { chat_id: 1000 + i, text: `m${i}` })),
    );
    const accepted = results.filter((r) => r.status === 200);
    const rejected = results.filter((r) => r.status === 429);
    expect(accepted).toHaveLength(30);
    expect(rejected).toHaveLength(10);
    expect(rejected[0]!.json).toEqual({
      ok: false,
      error_code: 429,
      description: "Too Many Requests: retry after 1",
      parameters: { retry_after: 1 },
    });
    expect(fake.sent()).toHaveLength(30);
    expect(fake.calls.filter((c) => c.status === 429)).toHaveLength(10);
    expect(fake.stats()).toEqual({ sent: 30, rejected429: 10, peakPerSecondByBot: { [BOT_ID]: 30 } });

    // Other bots have their own window.
    expect((await call("sendMessage", { chat_id: 1, text: "other bot" }, OTHER_TOKEN)).status).toBe(200);
  });

  it("admits again once the window slides", async () => {
    fake.setRateLimit(2);
    expect((await call("sendMessage", { chat_id: 1, text: "a" })).status).toBe(200);
    expect((await call("sendMessage", { chat_id: 1, text: "b" })).status).toBe(200);
    expect((await call("sendMessage", { chat_id: 1, text: "c" })).status).toBe(429);
    await new Promise((resolve) => setTimeout(resolve, 1050));
    expect((await call("sendMessage", { chat_id: 1, text: "d" })).status).toBe(200);
    expect(fake.stats().peakPerSecondByBot[BOT_ID]).toBe(2);
  });
});

describe("webhook delivery", () => {
  beforeAll(async () => {
    await call("setWebhook", { url: hookUrl, secret_token: "hook_secret" });
  });

  it("deliverUpdate posts the JSON update with the secret header", async () => {
    const update = updates.textMessage("hello", { userId: 77 });
    const result = await fake.deliverUpdate(BOT_ID, update);
    expect(result).toEqual({ status: 200, body: "handled" });
    expect(received).toHaveLength(1);
    expect(received[0]!.headers["x-telegram-bot-api-secret-token"]).toBe("hook_secret");
    expect(received[0]!.headers["content-type"]).toBe("application/json");
    expect(received[0]!.body).toEqual(update);
  });

  it("userSays builds private text updates with increasing update ids", async () => {
    const a = await fake.userSays(BOT_ID, { userId: 77, text: "/start abc" });
    const b = await fake.userSays(BOT_ID, { userId: 77, text: "second", firstName: "Bob" });
    expect(a.status).toBe(200);
    const [first, second] = received.map((r) => r.body);
    expect(second.update_id).toBeGreaterThan(first.update_id);
    expect(first).toEqual(a.update);
    expect(second.message).toMatchObject({
      chat: { id: 77, type: "private", first_name: "Bob" },
      from: { id: 77, is_bot: false, first_name: "Bob", language_code: "en" },
      text: "second",
    });
    expect(second.message.message_id).toBeGreaterThan(first.message.message_id);
    expect(b.body).toBe("handled");
  });

  it("reports webhook errors and refuses bots without a webhook", async () => {
    hookStatus = 500;
    expect((await fake.deliverUpdate(BOT_ID, updates.sticker())).status).toBe(500);
    expect((await call("getWebhookInfo")).json.result.last_error_message).toBe(
      "Wrong response from the webhook: 500 Internal Server Error",
    );
    await expect(fake.deliverUpdate(424242, updates.sticker())).rejects.toThrow(/no webhook/);
  });
});

describe("user actions", () => {
  beforeAll(async () => {
    await call("setWebhook", { url: hookUrl });
  });
  const USER = 88;
  const acts = (opts: Parameters<FakeTelegram["userActs"]>[1]) => fake.userActs(BOT_ID, opts);
  const lastMessage = () => received.at(-1)!.body.message;

  it("gives a command its bot_command entity, @username included", async () => {
    await fake.userSays(BOT_ID, { userId: USER, text: "/foo@some_bot arg" });
    expect(lastMessage()).toMatchObject({
      text: "/foo@some_bot arg",
      entities: [{ type: "bot_command", offset: 0, length: "/foo@some_bot".length }],
    });
    await acts({ userId: USER, type: "text", text: "plain" });
    expect(lastMessage()).not.toHaveProperty("entities");
  });

  it("presses a button: a callback_query for the bot's message as it stands, answered and recorded", async () => {
    const keyboard = { inline_keyboard: [[{ text: "Yes", callback_data: "sig.1" }]] };
    const sent = (await call("sendMessage", { chat_id: USER, text: "Sure?", reply_markup: keyboard })).json.result;
    const { status, update } = await acts({ userId: USER, type: "press", messageId: sent.message_id, data: "sig.1" });
    expect(status).toBe(200);
    const query = (update as Json).callback_query;
    expect(received.at(-1)!.body).toEqual(update);
    expect(query).toMatchObject({
      id: expect.stringMatching(/^\d+$/),
      from: { id: USER, is_bot: false },
      chat_instance: expect.any(String),
      data: "sig.1",
      message: {
        message_id: sent.message_id,
        date: sent.date,
        from: { id: BOT_ID, is_bot: true },
        chat: { id: USER, type: "private" },
        text: "Sure?",
        reply_markup: keyboard,
      },
    });
    await call("answerCallbackQuery", { callback_query_id: query.id, text: "Noted" });
    await call("editMessageReplyMarkup", { chat_id: USER, message_id: sent.message_id });
    expect(fake.callbackAnswers({ chatId: USER })).toMatchObject([{ callbackQueryId: query.id, text: "Noted" }]);
    // The message now has no keyboard: a second press shows it so.
    const again = await acts({ userId: USER, type: "press", messageId: sent.message_id, data: "sig.1" });
    expect((again.update as Json).callback_query.message).not.toHaveProperty("reply_markup");
    await expect(acts({ userId: USER, type: "press", messageId: 9999, data: "x" })).rejects.toThrow(/no message 9999/);
    // One ordered stream of what the bot did in the chat.
    expect(fake.events({ chatId: USER }).map((e) => e.kind)).toEqual(["message", "callback_answer", "markup_edit"]);
  });

  it("shares the user's own contact, or someone else's", async () => {
    await acts({ userId: USER, type: "contact", phoneNumber: "+49 151 23456789", firstName: "Ann" });
    expect(lastMessage().contact).toEqual({ phone_number: "+49 151 23456789", first_name: "Ann", user_id: USER });
    await acts({
      userId: USER,
      type: "contact",
      phoneNumber: "15550001",
      contactUserId: null,
      contactFirstName: "Zed",
    });
    expect(lastMessage().contact).toEqual({ phone_number: "15550001", first_name: "Zed" });
  });

  it("edits an earlier message: same id, its first date, edit_date", async () => {
    const said = await fake.userSays(BOT_ID, { userId: USER, text: "no" });
    const original = (said.update as Json).message;
    await acts({ userId: USER, type: "edit", messageId: original.message_id, text: "Norway" });
    const edited = received.at(-1)!.body.edited_message;
    expect(edited).toMatchObject({ message_id: original.message_id, date: original.date, text: "Norway" });
    expect(edited.edit_date).toBeGreaterThanOrEqual(original.date);
  });

  it("forwards, sends a photo with a caption, a sticker, a voice message and a location", async () => {
    await acts({ userId: USER, type: "forward", text: "41", originUserId: 5, originFirstName: "Eve" });
    const fwd = lastMessage();
    expect(fwd).toMatchObject({
      text: "41",
      forward_origin: {
        type: "user",
        sender_user: { id: 5, is_bot: false, first_name: "Eve" },
        date: expect.any(Number),
      },
      forward_from: { id: 5, first_name: "Eve" },
      forward_date: fwd.forward_origin.date,
    });
    await acts({ userId: USER, type: "photo", caption: "me" });
    expect(lastMessage()).toMatchObject({ caption: "me", photo: expect.any(Array) });
    await acts({ userId: USER, type: "sticker" });
    expect(lastMessage().sticker).toMatchObject({ type: "regular", emoji: expect.any(String) });
    await acts({ userId: USER, type: "voice", duration: 4 });
    expect(lastMessage().voice).toMatchObject({ duration: 4, mime_type: "audio/ogg", file_id: expect.any(String) });
    await acts({ userId: USER, type: "location", latitude: 52.52, longitude: 13.405 });
    expect(lastMessage().location).toEqual({ latitude: 52.52, longitude: 13.405 });
    // Each new message took the chat's next message id.
    const ids = received.slice(-5).map((r) => r.body.message.message_id);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(new Set(ids).size).toBe(5);
  });

  it("drives the same through the control API, and long-polls the bot's events", async () => {
    const sent = (
      await call("sendMessage", {
        chat_id: USER,
        text: "Pick",
        reply_markup: { inline_keyboard: [[{ text: "A", callback_data: "a" }]] },
      })
    ).json.result;
    const since = fake.events().at(-1)!.seq;
    const press = await control("user-acts", {
      bot_id: BOT_ID,
      user_id: USER,
      type: "press",
      message_id: sent.message_id,
      data: "a",
    });
    expect(press.json).toMatchObject({ status: 200, body: "handled", update: { callback_query: { data: "a" } } });
    const polling = control(`events?chat_id=${USER}&since_seq=${since}&wait_ms=5000`);
    await call("answerCallbackQuery", { callback_query_id: press.json.update.callback_query.id });
    const { json } = await polling;
    expect(json.events).toMatchObject([{ kind: "callback_answer", chatId: USER }]);
    const shared = await control("user-acts", {
      token: TOKEN,
      user_id: USER,
      type: "contact",
      phone_number: "+15550002",
    });
    expect(shared.json.update.message.contact).toMatchObject({ phone_number: "+15550002", user_id: USER });
    expect((await control("user-acts", { bot_id: BOT_ID, user_id: USER, type: "dance" })).status).toBe(400);
    expect(
      (await control("user-acts", { bot_id: BOT_ID, user_id: USER, type: "press", message_id: 12345, data: "a" }))
        .status,
    ).toBe(400);
  });
});

describe("waitForMessages", () => {
  it("resolves when enough matching messages arrive", async () => {
    const waiting = fake.waitForMessages({ chatId: 5, count: 2, timeoutMs: 2000 });
    await call("sendMessage", { chat_id: 6, text: "other chat" });
    await call("sendMessage", { chat_id: 5, text: "one" });
    await call("sendMessage", { chat_id: 5, text: "two" });
    expect((await waiting).map((m) => m.text)).toEqual(["one", "two"]);
  });

  it("rejects on timeout with what it did get", async () => {
    await call("sendMessage", { chat_id: 5, text: "only one" });
    await expect(fake.waitForMessages({ chatId: 5, count: 2, timeoutMs: 100 })).rejects.toThrow(
      'waitForMessages: timed out after 100 ms waiting for 2 message(s) matching {"chatId":5}; got 1: ["only one"]',
    );
  });
});

describe("control API", () => {
  it("long-polls for messages sent after the call started", async () => {
    await call("sendMessage", { chat_id: 8, text: "before" });
    const since = fake.sent().at(-1)!.seq;
    const started = Date.now();
    const polling = control(`sent?chat_id=8&since_seq=${since}&wait_ms=5000`);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await call("sendMessage", { chat_id: 9, text: "other chat" });
    await call("sendMessage", { chat_id: 8, text: "after" });
    const { status, json } = await polling;
    expect(status).toBe(200);
    expect(json.messages).toMatchObject([{ chatId: 8, text: "after", botId: BOT_ID }]);
    expect(Date.now() - started).toBeLessThan(3000);
    // Nothing new: answers an empty list after wait_ms.
    const empty = await control(`sent?chat_id=8&since_seq=${json.messages[0].seq}&wait_ms=50`);
    expect(empty.json).toEqual({ messages: [] });
  });

  it("drives rate limit, blocks, failures, stats, calls and reset", async () => {
    expect((await control("rate-limit", { per_second: 1 })).json).toEqual({ ok: true, per_second: 1 });
    await call("sendMessage", { chat_id: 1, text: "a" });
    expect((await call("sendMessage", { chat_id: 1, text: "b" })).status).toBe(429);
    await control("rate-limit", { per_second: null });

    await control("block", { chat_id: 2 });
    expect((await call("sendMessage", { chat_id: 2, text: "c" })).status).toBe(403);

    await control("fail-next", { method: "sendMessage", status: 500, description: "Internal Server Error" });
    expect((await call("sendMessage", { chat_id: 3, text: "d" })).json).toEqual({
      ok: false,
      error_code: 500,
      description: "Internal Server Error",
    });

    expect((await control("stats")).json).toEqual({ sent: 1, rejected429: 1, peakPerSecondByBot: { [BOT_ID]: 1 } });
    const calls = (await control(`calls?since_seq=${fake.calls[1]!.seq}`)).json.calls;
    expect(calls.map((c: { status: number }) => c.status)).toEqual([403, 500]);

    expect((await control("reset", {})).json).toEqual({ ok: true });
    expect((await control("stats")).json).toEqual({ sent: 0, rejected429: 0, peakPerSecondByBot: {} });
    expect((await call("sendMessage", { chat_id: 2, text: "unblocked" })).status).toBe(200);
    expect((await control("nope")).status).toBe(404);
    expect((await control("block", {})).status).toBe(400);
  });

  it("delivers user messages and raw updates", async () => {
    await call("setWebhook", { url: hookUrl, secret_token: "ctl" });
    const says = await control("user-says", { token: TOKEN, user_id: 31, text: "hey" });
    expect(says.json).toEqual({ status: 200, body: "handled", update_id: expect.any(Number) });
    expect(received[0]!.body).toMatchObject({
      update_id: says.json.update_id,
      message: { text: "hey", chat: { id: 31 } },
    });
    expect(received[0]!.headers["x-telegram-bot-api-secret-token"]).toBe("ctl");

    const raw = updates.myChatMember("kicked", { userId: 31 });
    expect((await control("deliver", { bot_id: BOT_ID, update: raw })).json).toEqual({ status: 200, body: "handled" });
    expect(received[1]!.body).toEqual(raw);
    expect((await control("deliver", { bot_id: 1, update: raw })).status).toBe(400);
  });
});

describe("update builders", () => {
  it("builds realistic updates of every kind", () => {
    const start = updates.startCommand("ref_42", { botUsername: "journeys_bot", userId: 5 });
    expect(start.message).toMatchObject({
      text: "/start@journeys_bot ref_42",
      entities: [{ type: "bot_command", offset: 0, length: "/start@journeys_bot".length }],
      chat: { id: 5, type: "private" },
      from: { id: 5, is_bot: false, language_code: "en" },
    });
    expect((updates.startCommand().message as { text: string }).text).toBe("/start");

    const all = [
      updates.textMessage("hi"),
      start,
      updates.editedMessage("edited"),
      updates.photoMessage({ caption: "pic" }),
      updates.sticker(),
      updates.callbackQuery("choice:1"),
      updates.myChatMember("member"),
      updates.channelPost("news"),
      updates.unknownFutureType(),
      updates.inlineQuery("q"),
      updates.pollAnswer(),
      updates.groupMessage("hi all"),
      updates.commandMessage("/cancel"),
      updates.contactMessage("+491511234567"),
      updates.forwardedMessage("hi"),
      updates.voiceMessage(),
      updates.locationMessage(1, 2),
    ];
    const ids = all.map((u) => u.update_id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(all.map((u) => Object.keys(u).find((k) => k !== "update_id"))).toEqual([
      "message",
      "message",
      "edited_message",
      "message",
      "message",
      "callback_query",
      "my_chat_member",
      "channel_post",
      "some_future_field",
      "inline_query",
      "poll_answer",
      "message",
      "message",
      "message",
      "message",
      "message",
      "message",
    ]);
    for (const [text, command] of [
      ["/start x", "/start"],
      ["/cancel", "/cancel"],
      ["/help", "/help"],
      ["/foo@journeys_bot", "/foo@journeys_bot"],
    ]) {
      expect(updates.commandMessage(text!).message).toMatchObject({
        text,
        entities: [{ type: "bot_command", offset: 0, length: command!.length }],
      });
    }
    const edited = updates.editedMessage("fixed", { messageId: 7, date: 1_700_000_000 }).edited_message as Json;
    expect(edited).toMatchObject({ message_id: 7, date: 1_700_000_000, text: "fixed" });
    expect(edited.edit_date).toBeGreaterThan(edited.date);
    const press = updates.callbackQuery("d", { userId: 9, messageId: 3, replyMarkup: { inline_keyboard: [] } });
    expect((press.callback_query as Json).message).toMatchObject({ message_id: 3, chat: { id: 9 }, reply_markup: {} });
    expect((updates.textMessage("x", { languageCode: null }).message as Json).from).not.toHaveProperty("language_code");
    expect((updates.textMessage("x", { languageCode: "de" }).message as Json).from.language_code).toBe("de");
    const msg = updates.textMessage("x").message as { date: number; message_id: number };
    expect(msg.date).toBeGreaterThan(1_600_000_000);
    expect(msg.date).toBeLessThan(10_000_000_000);
    expect(Number.isInteger(msg.message_id)).toBe(true);
  });
});
