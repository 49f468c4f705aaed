/**
 * The conversation rules (issue 16): commands, forwards, media, edits, buttons, contacts and the bot's
 * own texts — converse() and transition() on plain data, rule by rule.
 */
import { describe, expect, it } from "vitest";
import { openData, sealItems, sealKey } from "../../src/callback-seal.ts";
import { DEFAULT_BOT_TEXTS } from "../../src/engine/bot-texts.ts";
import {
  CANCELLED_TEXT,
  type ConversationResult,
  converse,
  type LiveSession,
  NOTHING_TO_CANCEL,
  STALE_BUTTON,
} from "../../src/engine/conversation.ts";
import {
  ask,
  CHOSEN_DATA,
  FORWARD_HINT,
  NOT_YOUR_CONTACT,
  SHARE_PHONE_BUTTON,
  TEXT_PLEASE,
  transition,
} from "../../src/engine/transition.ts";
import type { OutItem, SessionState } from "../../src/engine/types.ts";
import { clockAt, journey, session, T0 } from "./journeys.ts";

const said = (items: readonly OutItem[]) => items.map((o) => (o.method === undefined ? o.text : o.method));
const saidBy = (c: ConversationResult) => [
  ...c.sessions.flatMap((s) => s.result.changes.flatMap((ch) => said(ch.outbox))),
  ...said(c.replies),
];

const quiz = journey([
  { question: "Name?", key: "name" },
  { delay: [10, 10] },
  { question: "Age?", key: "age", validation: "number" },
]);
const onName = session({ currentStepId: "s1" });
const onDelay = session({ status: "waiting_delay", currentStepId: "s2" });
const live = (s: SessionState, j = quiz): LiveSession => ({ journey: j, session: s });

describe("the bot's own texts", () => {
  it("a bare /start with no live session gets the welcome text; an unknown link its own", () => {
    expect(saidBy(converse(undefined, [], { type: "command", name: "start" }, clockAt()))).toEqual([
      DEFAULT_BOT_TEXTS.welcome_text,
    ]);
    const texts = { ...DEFAULT_BOT_TEXTS, unknown_link_text: "No such link." };
    expect(saidBy(converse(texts, [live(onName)], { type: "unknown_link" }, clockAt()))).toEqual(["No such link."]);
  });

  it("/help answers the help text and moves nothing", () => {
    const c = converse(undefined, [live(onName)], { type: "command", name: "help" }, clockAt());
    expect(c.sessions).toEqual([]);
    expect(saidBy(c)).toEqual([DEFAULT_BOT_TEXTS.help_text]);
  });

  it("a bare /start during a question asks it again; during a delay says so once", () => {
    expect(saidBy(converse(undefined, [live(onName)], { type: "command", name: "start" }, clockAt()))).toEqual([
      "Name?",
    ]);
    const first = converse(undefined, [live(onDelay)], { type: "command", name: "start" }, clockAt());
    expect(saidBy(first)).toEqual([DEFAULT_BOT_TEXTS.waiting_text]);
    const after = first.sessions[0]?.result.changes[0]?.session as SessionState;
    expect(after.context.waiting_acked).toBe(true);
    expect(after.status).toBe("waiting_delay");
    expect(saidBy(converse(undefined, [live(after)], { type: "command", name: "start" }, clockAt()))).toEqual([]);
  });
});

describe("commands are never answers", () => {
  it("/cancel and /stop end every live session on the bot and confirm; with none, say there is nothing", () => {
    for (const name of ["cancel", "stop"]) {
      const other = session({ id: "sess-2", journeyId: "j2", currentStepId: "s2", status: "waiting_delay" });
      const c = converse(
        undefined,
        [live(onName), live(other, { ...quiz, id: "j2" })],
        { type: "command", name },
        clockAt(),
      );
      expect(c.sessions.map((s) => s.result.changes[0]?.session.status)).toEqual(["cancelled", "cancelled"]);
      expect(c.sessions.map((s) => s.result.changes[0]?.cancelPending)).toEqual([
        "cancelled by the user",
        "cancelled by the user",
      ]);
      expect(said(c.replies)).toEqual([CANCELLED_TEXT]);
      expect(saidBy(converse(undefined, [], { type: "command", name }, clockAt()))).toEqual([NOTHING_TO_CANCEL]);
    }
  });

  it("an unknown command repeats the pending question and stores nothing", () => {
    const c = converse(undefined, [live(onName)], { type: "command", name: "foo" }, clockAt());
    expect(saidBy(c)).toEqual(["Name?"]);
    expect(c.sessions[0]?.result.changes[0]?.answersSet).toEqual({});
    expect(c.sessions[0]?.result.outcome).toBe("reasked");
  });

  it("a forwarded message is not an answer: a hint and the question again", () => {
    const r = transition(quiz, onName, { type: "text", text: "Bob", forwarded: true }, clockAt());
    expect(r.outcome).toBe("reasked");
    expect(said(r.changes[0]?.outbox ?? [])).toEqual([FORWARD_HINT, "Name?"]);
    expect(r.changes[0]?.session.answers).toEqual({});
  });
});

describe("replies that are not text", () => {
  it("media at a question: its error text (or a default) and the question again", () => {
    expect(
      said(transition(quiz, onName, { type: "media", kind: "photo" }, clockAt()).changes[0]?.outbox ?? []),
    ).toEqual([TEXT_PLEASE, "Name?"]);
    const j = journey([{ question: "Age?", key: "age", validation: "number", error_text: "A number, please" }]);
    const r = transition(j, session({ currentStepId: "s1" }), { type: "media", kind: "sticker" }, clockAt());
    expect(said(r.changes[0]?.outbox ?? [])).toEqual(["A number, please", "Age?"]);
    expect(r.outcome).toBe("invalid");
  });

  it("during a delay: one acknowledgement per delay, never an advance", () => {
    const first = transition(quiz, onDelay, { type: "text", text: "hello?" }, clockAt());
    expect(first.outcome).toBe("acknowledged");
    expect(first.changes[0]?.session).toMatchObject({ status: "waiting_delay", currentStepId: "s2" });
    const acked = first.changes[0]?.session as SessionState;
    for (const e of [
      { type: "text", text: "again" },
      { type: "media", kind: "photo" },
      { type: "command", name: "foo" },
    ] as const) {
      expect(transition(quiz, acked, e, clockAt()).changes).toEqual([]);
    }
  });

  it("the next delay may be acknowledged again: the flag is cleared when a delay starts", () => {
    const j = journey([{ delay: [1, 1] }, { question: "Q?", key: "q" }, { delay: [1, 1] }]);
    const s = session({ currentStepId: "s2", context: { waiting_acked: true } });
    const r = transition(j, s, { type: "text", text: "x" }, clockAt());
    expect(r.changes[0]?.session).toMatchObject({ status: "waiting_delay", currentStepId: "s3" });
    expect(r.changes[0]?.session.context.waiting_acked).toBeUndefined();
  });
});

describe("edits", () => {
  const asked = new Date(T0.getTime() - 60_000);
  const s = session({ currentStepId: "s1", stepEnteredAt: asked });
  it.each([
    ["sent after the question was asked: an answer", new Date(asked.getTime() + 5_000), "accepted"],
    ["sent in the same second as the question: an answer", new Date(asked.getTime()), "accepted"],
    ["sent before the question was asked: ignored", new Date(asked.getTime() - 5_000), "ignored"],
  ])("an edit of a message %s", (_, sentAt, outcome) => {
    expect(transition(quiz, s, { type: "edit", text: "Bob", sentAt }, clockAt()).outcome).toBe(outcome);
  });
  it("an edit while no question waits is ignored", () => {
    expect(transition(quiz, onDelay, { type: "edit", text: "Bob", sentAt: T0 }, clockAt()).changes).toEqual([]);
  });
});

describe("choice buttons", () => {
  const options = [
    { label: "Yes", value: "yes" },
    { label: "Not really", value: "no" },
  ];
  const j = journey([{ question: "Ready?", key: "ready", validation: "choice", options }, { message: "Bye" }]);
  const s = session({ currentStepId: "s1", stepEnteredAt: new Date(T0.getTime() - 1000) });
  const key = sealKey(Buffer.alloc(32, 7), "t1", "b1");

  it("the question is sent with one button per option, sealed to this chat and step visit", () => {
    const item = ask(j.steps[0]!, s);
    if (!item) throw new Error("no question");
    const [sealed] = sealItems(key, 42, [item]);
    if (!sealed || sealed.method !== undefined || !sealed.reply_markup || !("inline_keyboard" in sealed.reply_markup)) {
      throw new Error("no inline keyboard");
    }
    expect(sealed.seal).toBeUndefined();
    const data = sealed.reply_markup.inline_keyboard.map((row) => row[0]?.callback_data ?? "");
    expect(sealed.reply_markup.inline_keyboard.map((row) => row[0]?.text)).toEqual(["Yes", "Not really"]);
    for (const d of data) expect(Buffer.byteLength(d)).toBeLessThanOrEqual(64);
    const at = s.stepEnteredAt?.getTime() ?? 0;
    expect(data.map((d) => openData(key, d, 42, "s1", at))).toEqual([0, 1]);
    // Another chat, another visit of the step, another bot, a forged index: nothing opens.
    expect(openData(key, data[0] ?? "", 43, "s1", at)).toBeNull();
    expect(openData(key, data[0] ?? "", 42, "s1", at + 1)).toBeNull();
    expect(openData(sealKey(Buffer.alloc(32, 7), "t1", "b2"), data[0] ?? "", 42, "s1", at)).toBeNull();
    expect(openData(key, `1${(data[0] ?? "").slice(1)}`, 42, "s1", at)).toBeNull();
  });

  it("a press stores the option's value, answers the callback and marks the keyboard", () => {
    const c = converse(
      undefined,
      [live(s, j)],
      { type: "button", match: { live: 0, stepId: "s1", index: 1 }, callbackQueryId: "cq1", messageId: 77 },
      clockAt(),
    );
    const change = c.sessions[0]?.result.changes[0];
    expect(change?.answersSet).toEqual({ ready: "no" });
    expect(change?.outbox.slice(0, 2)).toEqual([
      { method: "answerCallbackQuery", callback_query_id: "cq1" },
      {
        method: "editMessageReplyMarkup",
        message_id: 77,
        reply_markup: { inline_keyboard: [[{ text: "✓ Not really", callback_data: CHOSEN_DATA }]] },
      },
    ]);
    expect(said(change?.outbox ?? []).slice(2)).toEqual(["Bye"]);
  });

  it("a press that matches no session's step visit changes nothing and gets a notice", () => {
    const c = converse(
      undefined,
      [live(s, j)],
      { type: "button", match: null, callbackQueryId: "cq2", messageId: 5 },
      clockAt(),
    );
    expect(c.sessions).toEqual([]);
    expect(c.replies).toEqual([{ method: "answerCallbackQuery", callback_query_id: "cq2", text: STALE_BUTTON }]);
  });

  it("a press for a step the session no longer stands on is stale too", () => {
    const moved = session({ currentStepId: "s2" });
    const c = converse(
      undefined,
      [live(moved, j)],
      { type: "button", match: { live: 0, stepId: "s1", index: 0 }, callbackQueryId: "cq3", messageId: 5 },
      clockAt(),
    );
    expect(c.sessions).toEqual([]);
    expect(c.replies[0]).toMatchObject({ method: "answerCallbackQuery", text: STALE_BUTTON });
  });

  it("an invalid typed answer sends the error with the buttons again", () => {
    const r = transition(j, s, { type: "text", text: "maybe" }, clockAt());
    expect(r.outcome).toBe("invalid");
    const [item] = r.changes[0]?.outbox ?? [];
    expect(
      item?.method === undefined && item?.reply_markup !== undefined && "inline_keyboard" in item.reply_markup,
    ).toBe(true);
  });
});

describe("phone questions", () => {
  const j = journey([
    { question: "Phone?", key: "phone", validation: "phone", default_region: "DE" },
    { message: "Thanks" },
  ]);
  const s = session({ currentStepId: "s1" });

  it("asks with a share-contact button", () => {
    expect(ask(j.steps[0]!, s)).toMatchObject({
      text: "Phone?",
      reply_markup: { keyboard: [[{ text: SHARE_PHONE_BUTTON, request_contact: true }]], one_time_keyboard: true },
    });
  });

  it("the user's own contact is stored as E.164 and the keyboard removed with the next message", () => {
    const r = transition(j, s, { type: "contact", phone: "4915123456789", own: true }, clockAt());
    expect(r.changes[0]?.answersSet).toEqual({ phone: "+4915123456789" });
    expect(r.changes[0]?.outbox).toEqual([{ text: "Thanks", reply_markup: { remove_keyboard: true } }]);
  });

  it("someone else's contact is refused", () => {
    const r = transition(j, s, { type: "contact", phone: "4915123456789", own: false }, clockAt());
    expect(r.outcome).toBe("invalid");
    expect(said(r.changes[0]?.outbox ?? [])).toEqual([NOT_YOUR_CONTACT, "Phone?"]);
  });

  it("a typed number is read in the question's default region", () => {
    const r = transition(j, s, { type: "text", text: "0151 23456789" }, clockAt());
    expect(r.changes[0]?.answersSet).toEqual({ phone: "+4915123456789" });
  });
});

describe("start", () => {
  it("the session remembers who started it and with which link", () => {
    const r = transition(
      quiz,
      null,
      { type: "start", param: "p1", user: { id: 42, chatId: 42, firstName: "Ann", languageCode: "de" } },
      clockAt(),
    );
    expect(r.changes[0]?.session.context).toEqual({
      user: { first_name: "Ann", language_code: "de" },
      trigger: { param: "p1" },
    });
    expect(r.changes[0]?.session.stepEnteredAt).toEqual(T0);
  });
});
