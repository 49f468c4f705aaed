/**
 * The webhook route's edges (SPEC §4): who may post, what is refused before any effect, which
 * `/start` texts start a journey, and that every other kind of update is answered 200 and ignored.
 */
import { updates } from "@journeys/fake-telegram";
import { beforeAll, describe, expect, it } from "vitest";
import { tenantWithJourney } from "../../../test/support/fixtures.ts";
import { ask, counts, outboxTexts, sessionsOfUser, startHarness } from "./webhook-harness.ts";

const h = await startHarness();
const { env } = h;
const bot = await h.connect("acme");
const other = await h.connect("acme");
const { journey, stepIds } = await tenantWithJourney(env, {
  bot,
  startParam: "broker_access",
  steps: [ask("How old are you?", "age", "number"), ask("Where do you live?", "country", "text")],
});
const secret = bot.secret;
const url = (botId = bot.botId) => `${h.api.url}/telegram/webhook/${encodeURIComponent(botId)}`;

function post(body: string, headers: Record<string, string> = {}, target = url()) {
  return fetch(target, { method: "POST", headers: { "content-type": "application/json", ...headers }, body });
}

describe("requests refused before any effect", () => {
  const user = h.newUser();
  const start = () => JSON.stringify(updates.startCommand("broker_access", { userId: user }));
  const withSecret = { "x-telegram-bot-api-secret-token": secret };
  const cases: [string, () => Promise<Response>, number][] = [
    ["a missing secret token", () => post(start()), 401],
    ["a wrong secret token", () => post(start(), { "x-telegram-bot-api-secret-token": "wrong" }), 401],
    [
      "a wrong secret of the right length",
      () => post(start(), { "x-telegram-bot-api-secret-token": "x".repeat(secret.length) }),
      401,
    ],
    ["another bot's secret", async () => post(start(), { "x-telegram-bot-api-secret-token": other.secret }), 401],
    ["malformed JSON without the secret (checked before the body)", () => post('{"update_id": 1,'), 401],
    ["a body over 1 MiB without the secret", () => post("x".repeat(1024 * 1024 + 10)), 401],
    ["an unknown bot id", () => post(start(), withSecret, url("no_such_bot")), 404],
    ["a bot id that cannot exist", () => post(start(), withSecret, url("bad!id")), 404],
    ["a bot id longer than any bot's", () => post(start(), withSecret, url("b".repeat(65))), 404],
    ["malformed JSON", () => post('{"update_id": 1, "message": {', withSecret), 400],
    [
      "a JSON body without update_id",
      () => post(JSON.stringify({ message: { text: "/start broker_access" } }), withSecret),
      400,
    ],
    ["a negative update_id", () => post(JSON.stringify({ update_id: -1 }), withSecret), 400],
    ["a JSON array", () => post("[1,2]", withSecret), 400],
    [
      "a body over 1 MiB",
      () => post(JSON.stringify({ ...updates.textMessage("x".repeat(1024 * 1024), { userId: user }) }), withSecret),
      413,
    ],
  ];

  const table = cases.map(([name, send, status]) => ({ name, send, status }));
  it.each(table)("$name → $status, nothing stored", async ({ send, status }) => {
    const before = await counts(h.env);
    const res = await send();
    expect(res.status).toBe(status);
    expect(await counts(h.env)).toEqual(before);
    expect(await sessionsOfUser(h.env, user)).toEqual([]);
  });

  it("the right secret is accepted (and the update then takes effect)", async () => {
    const res = await post(start(), withSecret);
    expect(res.status).toBe(200);
    expect(await sessionsOfUser(h.env, user)).toHaveLength(1);
  });
});

describe("/start texts", () => {
  it.each([
    ["an unknown param", "/start no_such_journey"],
    ["no param", "/start"],
    ["a 65-character param", `/start ${"a".repeat(65)}`],
    ["a param with a bad character", "/start bad!param"],
    ["a param with a space", "/start broker access"],
    ["a command for another bot", "/start@otherbot broker_access"],
    ["a look-alike command", "/started broker_access"],
  ])("%s: 200, nothing started", async (_name, text) => {
    const user = h.newUser();
    expect(await bot.say(user, text)).toEqual({ ok: true, status: "processed" });
    expect(await sessionsOfUser(h.env, user)).toEqual([]);
  });

  it("/start@<this bot's username> starts the journey (any case)", async () => {
    for (const name of [bot.username, bot.username.toUpperCase()]) {
      const user = h.newUser();
      await bot.say(user, `/start@${name} broker_access`);
      const [session] = await sessionsOfUser(h.env, user);
      expect(session).toMatchObject({ journeyId: journey.id, status: "active", currentStepId: stepIds[0] });
      expect(await outboxTexts(env, session!.id)).toEqual(["How old are you?"]);
    }
  });

  it("a 64-character param starts its journey", async () => {
    const user = h.newUser();
    const long = "b".repeat(64);
    await tenantWithJourney(env, { bot, startParam: long, steps: [ask("Long?", "x", "text")] });
    await bot.say(user, `/start ${long}`);
    expect(await sessionsOfUser(h.env, user)).toHaveLength(1);
  });

  it("a command for another bot is not an answer either", async () => {
    const user = h.newUser();
    await bot.say(user, "/start broker_access");
    const [before] = await sessionsOfUser(h.env, user);
    await bot.say(user, "/start@otherbot broker_access");
    await bot.say(user, "/start no_such_journey");
    expect(await sessionsOfUser(h.env, user)).toEqual([before]);
    expect(await outboxTexts(env, before!.id)).toEqual(["How old are you?"]);
  });
});

describe("every other update is answered 200 and ignored", () => {
  const user = h.newUser();
  let session: Awaited<ReturnType<typeof sessionsOfUser>>[number] | undefined;
  beforeAll(async () => {
    await bot.say(user, "/start broker_access");
    [session] = await sessionsOfUser(h.env, user);
  });
  const b = { userId: user };
  const group = { id: -4001234567, type: "group", title: "Some group" };
  const withoutText = (u: ReturnType<typeof updates.textMessage>) => {
    const { text: _t, ...rest } = u.message as Record<string, unknown>;
    return { ...u, message: { ...rest, chat: group, new_chat_members: [{ id: 1, is_bot: false, first_name: "N" }] } };
  };
  const fromBot = (u: ReturnType<typeof updates.textMessage>) => {
    const msg = u.message as Record<string, unknown>;
    return { ...u, message: { ...msg, from: { id: user, is_bot: true, first_name: "Bot" } } };
  };
  // "33" would be a valid answer wherever a text can hide.
  const kinds: [string, () => object][] = [
    ["an edited message", () => updates.editedMessage("33", b)],
    ["my_chat_member (member)", () => updates.myChatMember("member", { ...b, bot: bot.ref })],
    ["a channel post", () => updates.channelPost("33")],
    ["an inline query", () => updates.inlineQuery("33", b)],
    ["a poll answer", () => updates.pollAnswer(b)],
    ["an unknown future update type", () => updates.unknownFutureType(b)],
    ["a group message without text", () => withoutText(updates.textMessage("x", b))],
    ["a text in a group chat", () => updates.groupMessage("33", b)],
    ["/start in a group chat", () => updates.groupMessage("/start broker_access", b)],
    ["a message from a bot", () => fromBot(updates.textMessage("33", b))],
    ["an update with nothing but its id", () => ({ update_id: Date.now() * 10 })],
  ];

  it.each(kinds)("%s", async (_name, make) => {
    const update = make();
    const before = await counts(h.env);
    const res = await bot.deliver(update);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ok: true, status: "processed" });
    expect(await sessionsOfUser(h.env, user)).toEqual([session]);
    expect(await outboxTexts(env, session!.id)).toEqual(["How old are you?"]);
    const { updates: _u, ...after } = await counts(h.env);
    expect({ ...after, updates: before.updates }).toEqual(before);
  });

  // These the bot answers (issue 16: a "please answer with text", a stale button's notice), but none is an answer.
  const answeredNotStored: [string, () => object][] = [
    ["a photo with a caption", () => updates.photoMessage({ ...b, caption: "33" })],
    ["a sticker", () => updates.sticker(b)],
    ["a callback query with data the bot never sealed", () => updates.callbackQuery("33", { ...b, bot: bot.ref })],
  ];
  it.each(answeredNotStored)("%s is answered, and stores nothing", async (_name, make) => {
    const res = await bot.deliver(make());
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ ok: true, status: "processed" });
    const [after] = await sessionsOfUser(h.env, user);
    expect(after).toMatchObject({
      id: session!.id,
      status: "active",
      answers: {},
      currentStepId: session!.currentStepId,
    });
  });

  it("and the session still takes the next plain text as its answer", async () => {
    await bot.say(user, "33");
    const [after] = await sessionsOfUser(h.env, user);
    expect(after).toMatchObject({ id: session!.id, answers: { age: 33 }, currentStepId: stepIds[1] });
  });
});
