/**
 * Conversations as Telegram users have them (issue 16), through the real webhook, engine and
 * Postgres, with update payloads shaped as Telegram sends them (bot_command entities, forward_origin,
 * photo captions, contacts, edited_message, callback_query). No worker runs: what the bot is to send
 * is read from journey_outbox, each row one Bot API call.
 */
import {
  CANCELLED_TEXT,
  DEFAULT_BOT_TEXTS,
  FORWARD_HINT,
  NOT_YOUR_CONTACT,
  STALE_BUTTON,
  schema,
  TEXT_PLEASE,
} from "@journeys/core";
import { updates } from "@journeys/fake-telegram";
import { and, asc, eq, isNull } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { tenantWithJourney } from "../../../test/support/fixtures.ts";
import { outboxOf, scheduledOf } from "../../../test/support/rows.ts";
import { ask, delay, message, sessionsOfUser, startHarness } from "./webhook-harness.ts";

const h = await startHarness();
const { env } = h;
const bot = await h.connect("convo");
const OPTIONS = [
  { label: "Beginner", value: "beginner" },
  { label: "Experienced trader", value: "pro" },
];
const { journey, stepIds } = await tenantWithJourney(env, {
  bot,
  startParam: "talk",
  steps: [
    ask("Your name?", "name", "text"),
    {
      step_type: "question",
      config: { text: "Your level?", answer_key: "level", validation: "choice", options: OPTIONS },
    },
    {
      step_type: "question",
      config: { text: "Your phone?", answer_key: "phone", validation: "phone", default_region: "DE" },
    },
    ask("How much?", "amount", "number"),
    delay(60, 60),
    message("Done"),
  ],
});

type Item = Record<string, unknown> & { text?: string; method?: string };
const items = async (sessionId: string) =>
  (await outboxOf(env, sessionId)).map((o) => o.messageContent as unknown as Item);
const said = async (sessionId: string) => (await items(sessionId)).map((i) => i.method ?? i.text);
/** Rows the bot queued to a chat outside any session. */
async function chatReplies(chatId: number): Promise<Item[]> {
  const o = schema.journeyOutbox;
  const rows = await env.handle.db
    .select()
    .from(o)
    .where(and(eq(o.botId, bot.botId), eq(o.telegramChatId, chatId), isNull(o.sessionId)))
    .orderBy(asc(o.id));
  return rows.map((r) => r.messageContent as unknown as Item);
}
const deliver = async (update: object) => {
  const res = await bot.deliver(update);
  expect(res.status, res.body).toBe(200);
  return JSON.parse(res.body) as { ok: boolean; status: string };
};
const command = (text: string, userId: number) => deliver(updates.commandMessage(text, { userId }));
async function started(userId: number) {
  await command("/start talk", userId);
  const [session] = await sessionsOfUser(env, userId);
  if (!session) throw new Error("no session");
  return session;
}

describe("/start and deep links", () => {
  it("a bare /start with no live session gets the welcome text; an unknown link its own text", async () => {
    const user = h.newUser();
    await command("/start", user);
    await command("/start no_such_link", user);
    await command("/start bad!param", user);
    expect((await chatReplies(user)).map((i) => i.text)).toEqual([
      DEFAULT_BOT_TEXTS.welcome_text,
      DEFAULT_BOT_TEXTS.unknown_link_text,
      DEFAULT_BOT_TEXTS.unknown_link_text,
    ]);
    expect(await sessionsOfUser(env, user)).toEqual([]);
  });

  it("the bot's own texts replace the defaults", async () => {
    const other = await h.connect("convo-texts");
    await env.handle.pool.query(
      "UPDATE tenant_bots SET welcome_text = 'Welcome to ACME!', help_text = 'Ask us anything.' WHERE bot_id = $1",
      [other.botId],
    );
    const user = h.newUser();
    for (const text of ["/start", "/help"]) {
      const res = await other.deliver(updates.commandMessage(text, { userId: user }));
      expect(res.status).toBe(200);
    }
    const o = schema.journeyOutbox;
    const rows = await env.handle.db.select().from(o).where(eq(o.botId, other.botId)).orderBy(asc(o.id));
    expect(rows.map((r) => (r.messageContent as { text: string }).text)).toEqual([
      "Welcome to ACME!",
      "Ask us anything.",
    ]);
  });

  it("a bare /start during a question asks it again; during a delay says so once", async () => {
    const user = h.newUser();
    const session = await started(user);
    await command("/start", user);
    expect(await said(session.id)).toEqual(["Your name?", "Your name?"]);
  });
});

describe("commands are never answers", () => {
  it("/help is answered with the help text and not stored as a name", async () => {
    const user = h.newUser();
    const session = await started(user);
    await command("/help", user);
    const [after] = await sessionsOfUser(env, user);
    expect(after).toMatchObject({ answers: {}, currentStepId: stepIds[0] });
    expect((await chatReplies(user)).map((i) => i.text)).toEqual([DEFAULT_BOT_TEXTS.help_text]);
    expect(await said(session.id)).toEqual(["Your name?"]);
  });

  it("an unknown command repeats the pending question", async () => {
    const user = h.newUser();
    const session = await started(user);
    await command("/foo", user);
    expect(await said(session.id)).toEqual(["Your name?", "Your name?"]);
    expect((await sessionsOfUser(env, user))[0]?.answers).toEqual({});
  });

  it("/cancel ends the live session with its pending messages and delay, and confirms", async () => {
    const user = h.newUser();
    const session = await started(user);
    await h.fake.userSays(bot.telegramId, { userId: user, text: "Ann" });
    const sent = await said(session.id);
    // Jump the session to its delay with a direct answer sequence: name, level (typed label), phone, amount.
    for (const text of ["beginner", "+49 151 23456789", "5"])
      await h.fake.userSays(bot.telegramId, { userId: user, text });
    expect((await sessionsOfUser(env, user))[0]?.status).toBe("waiting_delay");
    expect(sent.length).toBeGreaterThan(0);
    await command("/cancel", user);
    const [after] = await sessionsOfUser(env, user);
    expect(after?.status).toBe("cancelled");
    expect((await scheduledOf(env, session.id)).map((r) => r.status)).toEqual(["cancelled"]);
    expect((await chatReplies(user)).map((i) => i.text)).toEqual([CANCELLED_TEXT]);
  });

  it("a forwarded message is not an answer: a hint and the question again", async () => {
    const user = h.newUser();
    const session = await started(user);
    await deliver(updates.forwardedMessage("Bob", { userId: user }));
    expect(await said(session.id)).toEqual(["Your name?", FORWARD_HINT, "Your name?"]);
    expect((await sessionsOfUser(env, user))[0]?.answers).toEqual({});
  });
});

describe("replies that are not text", () => {
  it("a photo (with a caption), a sticker or a voice message at a question: the default text and the question", async () => {
    const user = h.newUser();
    const session = await started(user);
    await deliver(updates.photoMessage({ userId: user, caption: "Ann" }));
    await deliver(updates.sticker({ userId: user }));
    await deliver(updates.voiceMessage({ userId: user }));
    expect(await said(session.id)).toEqual(["Your name?", ...[1, 2, 3].flatMap(() => [TEXT_PLEASE, "Your name?"])]);
    expect((await sessionsOfUser(env, user))[0]?.answers).toEqual({});
  });

  it("during a delay, replies get one acknowledgement per delay and never advance the session", async () => {
    const user = h.newUser();
    const session = await started(user);
    for (const text of ["Ann", "beginner", "+4915123456789", "5"]) {
      await h.fake.userSays(bot.telegramId, { userId: user, text });
    }
    const before = (await said(session.id)).length;
    await h.fake.userSays(bot.telegramId, { userId: user, text: "hello?" });
    await deliver(updates.photoMessage({ userId: user }));
    await command("/start", user);
    const after = await said(session.id);
    expect(after.slice(before)).toEqual([DEFAULT_BOT_TEXTS.waiting_text]);
    expect((await sessionsOfUser(env, user))[0]).toMatchObject({ status: "waiting_delay", currentStepId: stepIds[4] });
  });
});

describe("edits", () => {
  it("an invalid answer corrected by editing it is taken; an edit of an older message is ignored", async () => {
    const user = h.newUser();
    const session = await started(user);
    const name = updates.textMessage("Ann", { userId: user });
    await deliver(name);
    await h.fake.userSays(bot.telegramId, { userId: user, text: "beginner" });
    await h.fake.userSays(bot.telegramId, { userId: user, text: "+4915123456789" });
    // At the number question: a wrong answer, then its edit.
    const wrong = updates.textMessage("lots", { userId: user });
    await deliver(wrong);
    const oldMessage = name.message as { message_id: number; date: number };
    await deliver(
      updates.editedMessage("Bobby", { userId: user, messageId: oldMessage.message_id, date: oldMessage.date - 120 }),
    );
    expect((await sessionsOfUser(env, user))[0]?.answers).toMatchObject({ name: "Ann" });
    const w = wrong.message as { message_id: number; date: number };
    await deliver(updates.editedMessage("33", { userId: user, messageId: w.message_id, date: w.date }));
    expect((await sessionsOfUser(env, user))[0]).toMatchObject({
      answers: { name: "Ann", amount: 33 },
      status: "waiting_delay",
    });
    expect(session.id).toBeTruthy();
  });
});

describe("choice buttons", () => {
  async function atChoice() {
    const user = h.newUser();
    const session = await started(user);
    await h.fake.userSays(bot.telegramId, { userId: user, text: "Ann" });
    const question = (await items(session.id)).at(-1) as Item & {
      reply_markup: { inline_keyboard: { text: string; callback_data: string }[][] };
    };
    return { user, session, question, data: question.reply_markup.inline_keyboard.map((r) => r[0]!.callback_data) };
  }
  const press = (user: number, data: string, queryId: string, messageId = 500) =>
    deliver(updates.callbackQuery(data, { userId: user, queryId, messageId, bot: bot.ref }));

  it("the question carries one sealed button per option, within Telegram's 64 bytes", async () => {
    const { question, data } = await atChoice();
    expect(question.text).toBe("Your level?");
    expect(question.reply_markup.inline_keyboard.map((r) => r[0]!.text)).toEqual(["Beginner", "Experienced trader"]);
    for (const d of data) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(64);
    expect(new Set(data).size).toBe(2);
    expect(question.seal).toBeUndefined();
  });

  it("a press stores the value, answers the callback, marks the keyboard and asks on", async () => {
    const { user, session, data } = await atChoice();
    await press(user, data[1]!, "q-1");
    expect((await sessionsOfUser(env, user))[0]).toMatchObject({
      answers: { name: "Ann", level: "pro" },
      currentStepId: stepIds[2],
    });
    const tail = (await items(session.id)).slice(-3);
    expect(tail[0]).toEqual({ method: "answerCallbackQuery", callback_query_id: "q-1" });
    expect(tail[1]).toEqual({
      method: "editMessageReplyMarkup",
      message_id: 500,
      reply_markup: { inline_keyboard: [[{ text: "✓ Experienced trader", callback_data: "chosen" }]] },
    });
    expect(tail[2]).toMatchObject({ text: "Your phone?", reply_markup: { keyboard: [[{ request_contact: true }]] } });
  });

  it("a stale, replayed, forged or another user's press changes nothing and gets a notice", async () => {
    const { user, data } = await atChoice();
    const other = await atChoice();
    await press(other.user, data[0]!, "q-other"); // another user's button
    await press(user, `${data[0]!.slice(0, -2)}AA`, "q-forged");
    await press(user, "0", "q-bare");
    await press(user, data[0]!, "q-ok");
    await press(user, data[1]!, "q-replay"); // the same keyboard, pressed again after the answer
    expect((await sessionsOfUser(env, user))[0]?.answers).toEqual({ name: "Ann", level: "beginner" });
    expect((await sessionsOfUser(env, other.user))[0]?.answers).toEqual({ name: "Ann" });
    const notices = [...(await chatReplies(user)), ...(await chatReplies(other.user))];
    expect(notices.map((n) => [n.callback_query_id, n.text]).sort()).toEqual(
      [
        ["q-bare", STALE_BUTTON],
        ["q-forged", STALE_BUTTON],
        ["q-other", STALE_BUTTON],
        ["q-replay", STALE_BUTTON],
      ].sort(),
    );
  });

  it("typing a label works too", async () => {
    const { user } = await atChoice();
    await h.fake.userSays(bot.telegramId, { userId: user, text: "  experienced   TRADER " });
    expect((await sessionsOfUser(env, user))[0]?.answers).toEqual({ name: "Ann", level: "pro" });
  });
});

describe("phone numbers", () => {
  async function atPhone() {
    const user = h.newUser();
    const session = await started(user);
    for (const text of ["Ann", "beginner"]) await h.fake.userSays(bot.telegramId, { userId: user, text });
    return { user, session };
  }

  it("the user's own shared contact is stored as E.164; the keyboard goes with the next message", async () => {
    const { user, session } = await atPhone();
    await deliver(updates.contactMessage("4915123456789", { userId: user }));
    expect((await sessionsOfUser(env, user))[0]?.answers).toMatchObject({ phone: "+4915123456789" });
    expect((await items(session.id)).at(-1)).toEqual({ text: "How much?", reply_markup: { remove_keyboard: true } });
  });

  it("someone else's contact is refused; a typed national number is read in the default region", async () => {
    const { user, session } = await atPhone();
    await deliver(updates.contactMessage("4915123456789", { userId: user, contactUserId: 999 }));
    expect((await said(session.id)).slice(-2)).toEqual([NOT_YOUR_CONTACT, "Your phone?"]);
    await h.fake.userSays(bot.telegramId, { userId: user, text: "0151 23456789" });
    expect((await sessionsOfUser(env, user))[0]?.answers).toMatchObject({ phone: "+4915123456789" });
  });
});

describe("validation with the user's language", () => {
  /** An update from a user whose Telegram language is `lang` (none when undefined). */
  const withLanguage = <U extends object>(u: U, lang: string | undefined): U => {
    const from = ((u as { message?: unknown }).message as { from: Record<string, unknown> }).from;
    if (lang) from.language_code = lang;
    else delete from.language_code;
    return u;
  };

  it.each([
    ["de", 1000],
    ["en", 1],
    [undefined, undefined],
  ] as const)(
    '"1.000" at a number question, language %s → %s (asked back when the language does not say)',
    async (lang, expected) => {
      const user = h.newUser();
      await deliver(withLanguage(updates.commandMessage("/start talk", { userId: user }), lang));
      for (const text of ["Ann", "beginner", "+4915123456789"]) {
        await deliver(withLanguage(updates.textMessage(text, { userId: user }), lang));
      }
      await deliver(withLanguage(updates.textMessage("1.000", { userId: user }), lang));
      const [session] = await sessionsOfUser(env, user);
      expect(session?.answers?.amount).toBe(expected);
      if (expected === undefined) expect((await said(session!.id)).at(-1)).toMatch(/1000 or 1/);
    },
  );
});

it("the journey in use is the one under test", () => {
  expect(journey.status).toBe("active");
});
