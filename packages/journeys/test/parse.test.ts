/** Deep-link parsing and update classification (SPEC §4), table-driven. */
import { updates } from "@journeys/fake-telegram";
import { describe, expect, it } from "vitest";
import { type ClassifiedUpdate, classifyUpdate, parseStart, updateIdOf } from "../src/telegram/parse.ts";

const BOT = "journeys_bot";

describe("parseStart", () => {
  const ok = (param: string | null) => ({ param, invalid: false });
  const bad = { param: null, invalid: true };
  it.each<[string, ReturnType<typeof parseStart>]>([
    ["/start broker_access", ok("broker_access")],
    ["/start", ok(null)],
    ["/start   ", ok(null)],
    ["  /start broker_access  ", ok("broker_access")],
    ["/start   spaced_out ", ok("spaced_out")],
    ["/start\nbroker_access", ok("broker_access")],
    ["/start AZaz09_-", ok("AZaz09_-")],
    [`/start ${"a".repeat(64)}`, ok("a".repeat(64))],
    [`/start ${"a".repeat(65)}`, bad],
    ["/start bad!param", bad],
    ["/start two words", bad],
    ["/start ünïcode", bad],
    ["/start a.b", bad],
    [`/start@${BOT} broker_access`, ok("broker_access")],
    ["/start@JOURNEYS_BOT broker_access", ok("broker_access")],
    [`/start@${BOT}`, ok(null)],
    ["/start@other_bot broker_access", null],
    ["/started broker_access", null],
    ["/startbroker_access", null],
    ["start broker_access", null],
    ["/help", null],
    ["hello /start broker_access", null],
    ["", null],
  ])("%j → %j", (text, expected) => {
    expect(parseStart(text, BOT)).toEqual(expected);
  });
});

describe("updateIdOf", () => {
  it.each<[unknown, number | null]>([
    [{ update_id: 1 }, 1],
    [{ update_id: 0 }, 0],
    [{ update_id: 2 ** 40, message: {} }, 2 ** 40],
    [{ update_id: -1 }, null],
    [{ update_id: 1.5 }, null],
    [{ update_id: 2 ** 53 }, null],
    [{ update_id: "1" }, null],
    [{}, null],
    [[1], null],
    [null, null],
    ["{}", null],
  ])("%j → %j", (body, expected) => {
    expect(updateIdOf(body)).toBe(expected);
  });
});

describe("classifyUpdate", () => {
  const u = { updateId: 7, userId: 42 };
  const bot = { id: 99, username: BOT, first_name: "Journeys" };
  const group = { id: -4001234567, type: "group", title: "Group" };
  const inGroupChat = (update: ReturnType<typeof updates.myChatMember>) => {
    const member = update.my_chat_member as Record<string, unknown>;
    return { ...update, my_chat_member: { ...member, chat: group } };
  };
  const fromBot = (update: ReturnType<typeof updates.textMessage>) => {
    const msg = update.message as Record<string, unknown>;
    return { ...update, message: { ...msg, from: { id: 5, is_bot: true, first_name: "B" } } };
  };
  const ignored = (type: string): ClassifiedUpdate => ({ kind: "ignored", updateId: 7, type });

  it.each<[string, Record<string, unknown>, Partial<ClassifiedUpdate>]>([
    [
      "deep link",
      updates.startCommand("broker_access", u),
      { kind: "start", updateId: 7, userId: 42, chatId: 42, param: "broker_access", invalidParam: false },
    ],
    [
      "deep link addressed to this bot",
      updates.startCommand("p1", { ...u, botUsername: BOT }),
      { kind: "start", updateId: 7, userId: 42, chatId: 42, param: "p1", invalidParam: false },
    ],
    [
      "deep link with a bad param",
      updates.startCommand("bad!", u),
      { kind: "start", updateId: 7, userId: 42, chatId: 42, param: null, invalidParam: true },
    ],
    [
      "bare /start",
      updates.startCommand(undefined, u),
      { kind: "start", updateId: 7, userId: 42, chatId: 42, param: null, invalidParam: false },
    ],
    [
      "plain text",
      updates.textMessage("  33 ", u),
      { kind: "text", updateId: 7, userId: 42, chatId: 42, text: "  33 ", forwarded: false },
    ],
    ["empty text", updates.textMessage("", u), { kind: "text", updateId: 7, userId: 42, chatId: 42, text: "" }],
    [
      "user blocked the bot",
      updates.myChatMember("kicked", { ...u, bot }),
      { kind: "blocked", updateId: 7, userId: 42 },
    ],
    ["user unblocked the bot", updates.myChatMember("member", { ...u, bot }), ignored("my_chat_member")],
    ["bot removed from a group", inGroupChat(updates.myChatMember("kicked", { ...u, bot })), ignored("my_chat_member")],
    [
      "deep link for another bot",
      updates.startCommand("p1", { ...u, botUsername: "other_bot" }),
      ignored("command_for_other_bot"),
    ],
    ["any command for another bot", updates.textMessage("/help@other_bot", u), ignored("command_for_other_bot")],
    [
      "a command for another bot after spaces",
      updates.textMessage("  /help@other_bot", u),
      ignored("command_for_other_bot"),
    ],
    [
      "text that mentions a command for another bot",
      updates.textMessage("try /help@other_bot", u),
      { kind: "text", updateId: 7, userId: 42, chatId: 42, text: "try /help@other_bot" },
    ],
    [
      "a command addressed to this bot",
      updates.textMessage(`/help@${BOT.toUpperCase()}`, u),
      { kind: "command", updateId: 7, userId: 42, chatId: 42, name: "help" },
    ],
    [
      "message in a chat without a type (treated as private)",
      { update_id: 7, message: { text: "33", from: { id: 42 }, chat: { id: 42 } } },
      { kind: "text", updateId: 7, userId: 42, chatId: 42, text: "33" },
    ],
    ["text in a group", updates.groupMessage("33", u), ignored("message_in_group")],
    ["/start in a group", updates.groupMessage("/start broker_access", u), ignored("message_in_group")],
    ["message from a bot", fromBot(updates.textMessage("33", u)), ignored("message_from_bot")],
    [
      "edited message",
      updates.editedMessage("33", u),
      { kind: "edit", updateId: 7, userId: 42, chatId: 42, text: "33" },
    ],
    [
      "photo with a caption",
      updates.photoMessage({ ...u, caption: "33" }),
      { kind: "media", media: "photo", userId: 42 },
    ],
    ["sticker", updates.sticker(u), { kind: "media", media: "sticker", userId: 42 }],
    [
      "callback query",
      updates.callbackQuery("33", { ...u, bot }),
      { kind: "button", updateId: 7, userId: 42, chatId: 42, data: "33" },
    ],
    ["channel post", updates.channelPost("33", u), ignored("channel_post")],
    ["inline query", updates.inlineQuery("33", u), ignored("inline_query")],
    ["poll answer", updates.pollAnswer(u), ignored("poll_answer")],
    ["unknown future type", updates.unknownFutureType(u), ignored("some_future_field")],
    ["nothing but an id", { update_id: 7 }, ignored("empty")],
    [
      "message without sender",
      { update_id: 7, message: { text: "33", chat: { id: 42, type: "private" } } },
      ignored("message_without_sender"),
    ],
  ])("%s", (_name, body, expected) => {
    const got = classifyUpdate(body, BOT);
    expect(got).toMatchObject(expected);
    if (expected.kind === "ignored") expect(got).toEqual(expected);
  });
});
