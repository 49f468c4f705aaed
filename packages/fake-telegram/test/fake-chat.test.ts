/**
 * The harness's chat client (scripts/lib/harness/fake-client.ts), as verify and `npm run chat` use
 * it: a user pressing the buttons the bot shows, sharing a contact, editing, forwarding — through
 * the fake's control routes, against a stand-in webhook that records what arrives.
 */
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type FakeChat, FakeClient } from "../../../scripts/lib/harness/fake-client.ts";
import { type FakeTelegram, startFakeTelegram } from "../src/index.ts";

// biome-ignore lint/suspicious/noExplicitAny: parsed JSON, inspected freely in assertions
type Json = any;

const TOKEN = "2345678:AAH3kfj_ZQ9xq-LmN0pQrStUvWxYz012345";
const BOT_ID = 2345678;
const USER = 4242;

let fake: FakeTelegram;
let hook: Server;
const received: Json[] = [];
let chat: FakeChat;

async function botCall(method: string, params: object) {
  const res = await fetch(`${fake.apiRoot}/bot${TOKEN}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(params),
  });
  return ((await res.json()) as Json).result;
}

const CHOICES = {
  inline_keyboard: [
    [
      { text: "Yes", callback_data: "s.0" },
      { text: "No thanks", callback_data: "s.1" },
    ],
    [{ text: "Terms", url: "https://example.org/terms" }],
  ],
};

beforeAll(async () => {
  fake = await startFakeTelegram();
  hook = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      res.writeHead(200).end("ok");
    });
  });
  hook.listen(0, "127.0.0.1");
  await once(hook, "listening");
  await botCall("setWebhook", { url: `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook` });
  chat = new FakeClient(fake.apiRoot).chat(BOT_ID, USER);
});

beforeEach(() => {
  fake.reset();
  received.length = 0;
});

afterAll(async () => {
  await fake.close();
  hook.closeAllConnections();
  await new Promise((resolve) => hook.close(resolve));
});

describe("FakeChat", () => {
  it("presses the last keyboard's buttons by number or label, and waits for the answer", async () => {
    expect(await chat.lastKeyboard()).toBeUndefined();
    await expect(chat.press(1)).rejects.toThrow(/shows no keyboard/);
    const sent = await botCall("sendMessage", { chat_id: USER, text: "Go on?", reply_markup: CHOICES });
    expect(await chat.lastKeyboard()).toEqual({
      messageId: sent.message_id,
      text: "Go on?",
      kind: "inline",
      buttons: [
        { index: 1, label: "Yes", data: "s.0" },
        { index: 2, label: "No thanks", data: "s.1" },
        { index: 3, label: "Terms", url: "https://example.org/terms" },
      ],
    });
    const pressed = await chat.press(2);
    expect(pressed.status).toBe(200);
    expect(received.at(-1).callback_query).toMatchObject({
      id: pressed.queryId,
      data: "s.1",
      message: { message_id: sent.message_id },
    });
    expect((await chat.press("  no   THANKS ")).update.callback_query.data).toBe("s.1");
    expect(await chat.press("terms")).toMatchObject({ url: "https://example.org/terms" });
    expect(received).toHaveLength(2); // a url button sends nothing to the bot
    await expect(chat.press("Maybe")).rejects.toThrow(/no button "Maybe" in \[1\] Yes {2}\[2\] No thanks/);

    await botCall("answerCallbackQuery", { callback_query_id: pressed.queryId, text: "Noted" });
    expect(await chat.answerTo(pressed.queryId!)).toEqual({ text: "Noted" });
    expect(await chat.answerTo("nobody", 50)).toBeUndefined();
  });

  it("follows edits and reply keyboards: the keyboard in front of the user", async () => {
    const first = await botCall("sendMessage", { chat_id: USER, text: "Pick", reply_markup: CHOICES });
    const phone = { keyboard: [[{ text: "Share my phone number", request_contact: true }]], resize_keyboard: true };
    await botCall("sendMessage", { chat_id: USER, text: "Phone?", reply_markup: phone });
    expect(await chat.lastKeyboard()).toMatchObject({
      kind: "reply",
      buttons: [{ index: 1, label: "Share my phone number", requestContact: true }],
    });
    // The contact button shares the user's own contact.
    const shared = await chat.press(1, "+4930123456");
    expect(received.at(-1).message.contact).toEqual({
      phone_number: "+4930123456",
      first_name: "Alice",
      user_id: USER,
    });
    expect(shared.messageId).toBe(received.at(-1).message.message_id);

    await botCall("sendMessage", { chat_id: USER, text: "Thanks", reply_markup: { remove_keyboard: true } });
    expect((await chat.lastKeyboard())?.messageId).toBe(first.message_id);
    await botCall("editMessageReplyMarkup", {
      chat_id: USER,
      message_id: first.message_id,
      reply_markup: { inline_keyboard: [[{ text: "✓ Yes", callback_data: "done" }]] },
    });
    expect((await chat.lastKeyboard())?.buttons).toEqual([{ index: 1, label: "✓ Yes", data: "done" }]);
    await botCall("editMessageReplyMarkup", { chat_id: USER, message_id: first.message_id });
    expect(await chat.lastKeyboard()).toBeUndefined();
  });

  it("says, edits, forwards and sends photos with real message ids", async () => {
    const said = await chat.says("/help");
    expect(received.at(-1).message).toMatchObject({ text: "/help", entities: [{ type: "bot_command" }] });
    await chat.edit(said.messageId!, "/help me");
    expect(received.at(-1).edited_message).toMatchObject({ message_id: said.messageId, text: "/help me" });
    const forwarded = await chat.forward("33");
    expect(received.at(-1).message.forward_origin).toMatchObject({ type: "user" });
    const photo = await chat.photo("me");
    expect(received.at(-1).message.caption).toBe("me");
    expect(forwarded.messageId).toBeGreaterThan(said.messageId!);
    expect(photo.messageId).toBeGreaterThan(forwarded.messageId!);
    await chat.shareContact("+15550100", 999);
    expect(received.at(-1).message.contact).toMatchObject({ user_id: 999 });
  });
});
