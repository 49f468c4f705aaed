/**
 * `npm run verify`'s second group (issue 17): the seeded "Broker Qualification" walked down each
 * branch through the real stack — webhook → engine → worker → fake Bot API — as Telegram users
 * would, and the example journey of docs/journeys.md PUT as it is written there.
 */
import { readFileSync } from "node:fs";
import { isDeepStrictEqual } from "node:util";
import type pg from "pg";
import {
  MIN_DEPOSIT,
  OPEN_ACCOUNT_URL,
  QUALIFICATION_JOURNEY_NAME,
  QUALIFICATION_START_PARAM,
} from "../../packages/journeys/src/seed/broker-qualification.ts";
import type { AdminClient } from "./harness/admin-client.ts";
import { type BotEvent, FakeChat } from "./harness/fake-client.ts";
import { jsonBody, requestJson } from "./harness/http.ts";
import { ROOT } from "./procs.ts";

export interface QualificationContext {
  admin: AdminClient;
  db: pg.Client;
  fakeRoot: string;
  bot: { botId: string; telegramBotId: number };
  tenant: string;
  report(name: string, ok: boolean, evidence: string): void;
}

type Message = Extract<BotEvent, { kind: "message" }>;
const WAIT_MS = 15_000;
/** The draft journey the docs example is PUT into: found again by name, so runs add no clutter. */
const DOCS_JOURNEY_NAME = "docs/journeys.md example (verify)";

/** One Telegram user's chat with the bot: what they do, and what the bot did since the last look. */
class Walk {
  readonly chat: FakeChat;
  private seq = 0;

  constructor(
    private readonly ctx: QualificationContext,
    readonly firstName: string,
  ) {
    this.chat = new FakeChat(ctx.fakeRoot, ctx.bot.telegramBotId, 100_000 + Math.floor(Math.random() * 1e6));
  }

  get user() {
    return this.chat.userId;
  }

  /** The deep link tapped: /start with the user's first name, which the session keeps for its texts. */
  async start(): Promise<void> {
    const { status } = await requestJson<{ status: number }>(`${this.ctx.fakeRoot}/_fake/user-says`, {
      method: "POST",
      ...jsonBody({
        bot_id: this.ctx.bot.telegramBotId,
        user_id: this.user,
        text: `/start ${QUALIFICATION_START_PARAM}`,
        first_name: this.firstName,
      }),
    });
    if (status !== 200) throw new Error(`webhook answered ${status} to /start ${QUALIFICATION_START_PARAM}`);
  }

  async says(text: string): Promise<void> {
    const { status } = await this.chat.says(text);
    if (status !== 200) throw new Error(`webhook answered ${status} to "${text}"`);
  }

  /** Everything the bot did after the last look, once it has sent `messages` messages (or the wait ends). */
  async next(messages = 1): Promise<BotEvent[]> {
    const got: BotEvent[] = [];
    const deadline = Date.now() + WAIT_MS;
    while (got.filter((e) => e.kind === "message").length < messages && Date.now() < deadline) {
      const events = await this.chat.events(this.seq, Math.max(1, Math.min(5000, deadline - Date.now())));
      for (const e of events) this.seq = Math.max(this.seq, e.seq);
      got.push(...events);
    }
    return got;
  }

  /** The text of the one message next() waited for ("(nothing)" when none came). */
  async nextText(): Promise<string> {
    return messagesOf(await this.next()).at(-1)?.text ?? "(nothing)";
  }

  async session() {
    const { rows } = await this.ctx.db.query<{ status: string; answers: Record<string, unknown> }>(
      `SELECT s.status, s.answers FROM journey_user_sessions s JOIN journeys j ON j.id = s.journey_id
        WHERE s.tenant_id = $1 AND s.telegram_user_id = $2 AND j.name = $3 ORDER BY s.started_at DESC LIMIT 1`,
      [this.ctx.tenant, this.user, QUALIFICATION_JOURNEY_NAME],
    );
    return rows[0];
  }
}

const messagesOf = (events: BotEvent[]): Message[] => events.filter((e): e is Message => e.kind === "message");
const quote = (s: string | undefined) => JSON.stringify(s ?? "(nothing)");

/** The first `inline_keyboard` of a reply_markup, flattened. */
function inlineButtons(markup: unknown): Record<string, unknown>[] {
  const rows = (markup as { inline_keyboard?: Record<string, unknown>[][] } | undefined)?.inline_keyboard;
  return rows?.flat() ?? [];
}

export async function qualificationChecks(ctx: QualificationContext): Promise<void> {
  const { admin, report } = ctx;

  // The seeded journey: active, on its deep link, steps with keys.
  type J = { id: string; name: string; status: string };
  const { journeys } = await admin.ok<{ journeys: J[] }>("GET", "/api/journeys?limit=200");
  const journey = journeys.find((j) => j.name === QUALIFICATION_JOURNEY_NAME);
  const detail = journey
    ? await admin.ok<{ triggers: { trigger_config: { start_param?: string }; is_active: boolean }[] }>(
        "GET",
        `/api/journeys/${journey.id}`,
      )
    : undefined;
  const steps = journey
    ? (await admin.ok<{ steps: { key: string | null }[] }>("GET", `/api/journeys/${journey.id}/steps`)).steps
    : [];
  const param = detail?.triggers.find((t) => t.is_active)?.trigger_config.start_param;
  report(
    "Broker Qualification is seeded",
    journey?.status === "active" && param === QUALIFICATION_START_PARAM && steps.every((s) => s.key),
    journey
      ? `journey ${journey.id} (${journey.status}), deep link ${param}, steps ${steps.map((s) => s.key).join(" → ")}`
      : "not found",
  );

  // Under 18: the polite ending, and the session completes.
  {
    const w = new Walk(ctx, "Uma");
    await w.start();
    const asked = await w.nextText();
    await w.says("16");
    const ending = await w.nextText();
    const s = await w.session();
    report(
      "under 18 ends politely",
      asked === "Hi Uma! How old are you?" &&
        ending.startsWith("Thanks for your interest, Uma.") &&
        ending.includes("18 or older") &&
        s?.status === "completed",
      `bot asked ${quote(asked)}; to "16" it said ${quote(ending)}; session ${s?.status} ${JSON.stringify(s?.answers)}`,
    );
  }

  // A low deposit, the country typed: the minimum message.
  {
    const w = new Walk(ctx, "Lars");
    await w.start();
    await w.next();
    await w.says("30");
    const country = messagesOf(await w.next())[0];
    await w.says("France");
    await w.next();
    await w.says("100 EUR");
    const below = await w.nextText();
    const s = await w.session();
    report(
      `a deposit below ${MIN_DEPOSIT} gets the minimum message`,
      below.startsWith(`Thanks, Lars. 100 EUR is below our minimum deposit of ${MIN_DEPOSIT}`) &&
        s?.status === "completed" &&
        s.answers.country === "FR",
      `country asked with buttons [${inlineButtons(country?.replyMarkup)
        .map((b) => b.text)
        .join(
          ", ",
        )}]; typed "France", "100 EUR"; bot said ${quote(below)}; session ${s?.status} ${JSON.stringify(s?.answers)}`,
    );
  }

  // Eligible, the country pressed: the press is answered and its keyboard marked; then the final text.
  {
    const w = new Walk(ctx, "Verena");
    await w.start();
    await w.next();
    await w.says("41");
    const asked = messagesOf(await w.next())[0];
    const germany = inlineButtons(asked?.replyMarkup).find((b) => b.text === "Germany");
    const pressed = await w.chat.press("Germany");
    const events = await w.next();
    const answer = events.find((e) => e.kind === "callback_answer" && e.callbackQueryId === pressed.queryId);
    const edit = events.find((e) => e.kind === "markup_edit" && e.messageId === asked?.messageId);
    const deposit = messagesOf(events)[0];
    const sentData = pressed.update?.callback_query?.data;
    report(
      "a country button press is answered and its keyboard marked",
      pressed.status === 200 &&
        typeof germany?.callback_data === "string" &&
        sentData === germany.callback_data &&
        answer !== undefined &&
        edit !== undefined &&
        inlineButtons(edit.kind === "markup_edit" ? edit.replyMarkup : undefined)[0]?.text === "✓ Germany" &&
        (deposit?.text ?? "").startsWith("How much"),
      `pressed "Germany" (callback_data ${sentData}, recorded ${germany?.callback_data}); answerCallbackQuery ${answer ? `for ${pressed.queryId}` : "missing"}; editMessageReplyMarkup ${edit?.kind === "markup_edit" ? JSON.stringify(edit.replyMarkup) : "missing"} on message ${asked?.messageId}; then ${quote(deposit?.text)}`,
    );

    await w.says("$1,000");
    const final = messagesOf(await w.next())[0];
    const link = inlineButtons(final?.replyMarkup)[0];
    const s = await w.session();
    const expected = "Verena, you're eligible: deposit 1000 USD using the link below.";
    report(
      "an eligible user gets the final text with their name and amount, and the link button",
      final?.text === expected &&
        link?.url === OPEN_ACCOUNT_URL &&
        s?.status === "completed" &&
        isDeepStrictEqual(s.answers, { age: 41, country: "DE", deposit_amount: { amount: 1000, currency: "USD" } }),
      `bot said ${quote(final?.text)} with reply_markup ${JSON.stringify(final?.replyMarkup)}; session ${s?.status} ${JSON.stringify(s?.answers)}`,
    );
  }

  await docsExample(ctx);
}

/** The JSON block after `<!-- example-journey -->` in docs/journeys.md. */
export function docsExampleJourney(): { steps: unknown[] } {
  const doc = readFileSync(`${ROOT}/docs/journeys.md`, "utf8");
  const block = /<!-- example-journey -->[\s\S]*?```json\n([\s\S]*?)\n```/.exec(doc)?.[1];
  if (!block) throw new Error("docs/journeys.md has no ```json block after <!-- example-journey -->");
  return JSON.parse(block);
}

/** docs/journeys.md's example, PUT as is into a draft journey of its own (a draft runs nothing). */
async function docsExample(ctx: QualificationContext): Promise<void> {
  const { admin } = ctx;
  const example = docsExampleJourney();
  const { journeys } = await admin.ok<{ journeys: { id: string; name: string; status: string }[] }>(
    "GET",
    "/api/journeys?limit=200",
  );
  const id =
    journeys.find((j) => j.name === DOCS_JOURNEY_NAME && j.status === "draft")?.id ??
    (await admin.ok<{ id: string }>("POST", "/api/journeys", { bot_id: ctx.bot.botId, name: DOCS_JOURNEY_NAME })).id;
  const res = await admin.call("PUT", `/api/journeys/${id}/steps`, example);
  const body = res.status === 200 ? (JSON.parse(res.body) as { steps: unknown[]; warnings: unknown[] }) : undefined;
  ctx.report(
    "docs/journeys.md's example journey can be PUT as is",
    res.status === 200 && body?.steps.length === example.steps.length && body.warnings.length === 0,
    res.status === 200
      ? `PUT /api/journeys/${id}/steps → 200, ${body?.steps.length} steps, warnings ${JSON.stringify(body?.warnings)}`
      : `PUT → ${res.status} ${res.body.slice(0, 300)}`,
  );
}
