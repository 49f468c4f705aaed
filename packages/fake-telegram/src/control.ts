/**
 * Control API under /_fake/ (JSON in and out) so another process — a benchmark driver, the chat
 * simulator — can drive a fake started by the CLI. Errors answer `{ error }` with 400/404/502.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { intParam, parseJsonObject, RequestError, readBody, sendJson } from "./http.ts";
import type { ControlledFake, SentFilter, UserAction } from "./types.ts";

const MAX_WAIT_MS = 30_000;

export async function handleControl(fake: ControlledFake, req: IncomingMessage, res: ServerResponse, route: string) {
  const query = new URL(req.url ?? "/", "http://fake").searchParams;
  const q = (name: string) => query.get(name) ?? undefined;
  const body = req.method === "POST" ? parseJsonObject(await readBody(req)) : {};

  /** Records after `since_seq` (bot/chat filtered), waiting up to `wait_ms` for the first one. */
  async function longPoll<T>(key: string, after: (since: number, filter: ReturnType<typeof filterOf>) => T[]) {
    const since = intParam(q("since_seq")) ?? 0;
    const filter = filterOf(q("bot_id"), q("chat_id"));
    const waitMs = Math.min(Math.max(intParam(q("wait_ms")) ?? 0, 0), MAX_WAIT_MS);
    const gone = new AbortController();
    res.on("close", () => gone.abort());
    const newer = () => {
      const found = after(since, filter);
      return found.length > 0 ? found : undefined;
    };
    const found = (await fake.waitForSent(newer, waitMs, gone.signal)) ?? [];
    if (!res.destroyed) sendJson(res, 200, { [key]: found });
  }

  switch (`${req.method} ${route}`) {
    case "GET sent":
      return longPoll("messages", (since, filter) => fake.sentAfter(since, filter));
    case "GET events":
      // As "GET sent", with the bot's callback answers and keyboard edits between its messages.
      return longPoll("events", (since, filter) => fake.eventsAfter(since, filter));
    case "GET calls": {
      const since = intParam(q("since_seq")) ?? 0;
      return sendJson(res, 200, { calls: fake.calls.filter((c) => c.seq > since) });
    }
    case "GET stats":
      return sendJson(res, 200, fake.stats());
    case "GET webhooks": {
      const hooks = [...fake.webhooks].map(([botId, h]) => [
        botId,
        { url: h.url, has_secret: h.secretToken !== undefined },
      ]);
      return sendJson(res, 200, Object.fromEntries(hooks));
    }
    case "POST reset":
      fake.reset();
      return sendJson(res, 200, { ok: true });
    case "POST rate-limit": {
      const perSecond = body.per_second === null ? null : intParam(body.per_second);
      if (perSecond === undefined || (perSecond !== null && perSecond < 0))
        throw bad("per_second must be a number ≥ 0 or null");
      fake.setRateLimit(perSecond);
      return sendJson(res, 200, { ok: true, per_second: perSecond });
    }
    case "POST block": {
      const chatId = required(intParam(body.chat_id), "chat_id");
      fake.blockChat(chatId, intParam(body.bot_id));
      return sendJson(res, 200, { ok: true });
    }
    case "POST fail-next": {
      const method = required(typeof body.method === "string" ? body.method : undefined, "method");
      const status = required(intParam(body.status), "status");
      const description = typeof body.description === "string" ? body.description : `Error ${status}`;
      const retryAfter = intParam(body.retry_after);
      fake.failNext(
        method,
        { status, description, ...(retryAfter === undefined ? {} : { retryAfter }) },
        intParam(body.count) ?? 1,
      );
      return sendJson(res, 200, { ok: true });
    }
    case "POST user-says": {
      const botId = botIdOf(fake, body);
      const userId = required(intParam(body.user_id), "user_id");
      const text = required(typeof body.text === "string" ? body.text : undefined, "text");
      const chatId = intParam(body.chat_id);
      const firstName = typeof body.first_name === "string" ? body.first_name : undefined;
      const opts = { userId, text, ...(chatId === undefined ? {} : { chatId }), ...(firstName ? { firstName } : {}) };
      const { status, body: answer, update } = await delivering(() => fake.userSays(botId, opts));
      return sendJson(res, 200, { status, body: answer, update_id: (update as { update_id: number }).update_id });
    }
    case "POST user-acts": {
      const botId = botIdOf(fake, body);
      const userId = required(intParam(body.user_id), "user_id");
      const chatId = intParam(body.chat_id);
      const firstName = typeof body.first_name === "string" ? body.first_name : undefined;
      const language = body.language_code;
      const opts = {
        ...actionOf(body),
        userId,
        ...(chatId === undefined ? {} : { chatId }),
        ...(firstName ? { firstName } : {}),
        ...(typeof language === "string" || language === null ? { languageCode: language } : {}),
      };
      const { status, body: answer, update } = await delivering(() => fake.userActs(botId, opts));
      return sendJson(res, 200, { status, body: answer, update });
    }
    case "POST deliver": {
      const botId = required(intParam(body.bot_id), "bot_id");
      const update = body.update;
      if (typeof update !== "object" || update === null) throw bad("update must be an object");
      return sendJson(res, 200, await delivering(() => fake.deliverUpdate(botId, update)));
    }
    default:
      throw new RequestError(404, `unknown control route: ${req.method} /_fake/${route}`);
  }
}

const bad = (message: string) => new RequestError(400, message);

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw bad(`${name} is required`);
  return value;
}

function filterOf(botId: string | undefined, chatId: string | undefined): SentFilter {
  const filter: SentFilter = {};
  const bot = intParam(botId);
  const chat = intParam(chatId);
  if (bot !== undefined) filter.botId = bot;
  if (chat !== undefined) filter.chatId = chat;
  return filter;
}

/** bot_id, else the bot a token stands for, else the only bot that has a webhook. */
function botIdOf(fake: ControlledFake, body: Record<string, unknown>): number {
  const botId = intParam(body.bot_id);
  if (botId !== undefined) return botId;
  if (typeof body.token === "string") {
    const bot = fake.botForToken(body.token);
    if (!bot) throw bad("token is malformed or invalid");
    return bot.id;
  }
  const withHooks = [...fake.webhooks.keys()];
  if (withHooks.length === 1) return withHooks[0]!;
  throw bad(`bot_id or token is required (${withHooks.length} bots have webhooks)`);
}

/** The action of a user-acts body: `type` and that type's fields. */
function actionOf(body: Record<string, unknown>): UserAction {
  const str = (name: string) => required(typeof body[name] === "string" ? (body[name] as string) : undefined, name);
  const int = (name: string) => required(intParam(body[name]), name);
  const num = (name: string) => required(typeof body[name] === "number" ? (body[name] as number) : undefined, name);
  const optional = <T>(name: string, value: T | undefined) => (value === undefined ? {} : { [name]: value });
  const optStr = (name: string) => (typeof body[name] === "string" ? (body[name] as string) : undefined);
  switch (body.type) {
    case "text":
      return { type: "text", text: str("text") };
    case "press":
      return { type: "press", messageId: int("message_id"), data: str("data") };
    case "contact": {
      const contactUserId = body.contact_user_id === null ? null : intParam(body.contact_user_id);
      return {
        type: "contact",
        phoneNumber: str("phone_number"),
        ...optional("contactUserId", contactUserId),
        ...optional("contactFirstName", optStr("contact_first_name")),
      };
    }
    case "edit":
      return { type: "edit", messageId: int("message_id"), text: str("text") };
    case "forward":
      return {
        type: "forward",
        text: str("text"),
        ...optional("originUserId", intParam(body.origin_user_id)),
        ...optional("originFirstName", optStr("origin_first_name")),
      };
    case "photo":
      return { type: "photo", ...optional("caption", optStr("caption")) };
    case "sticker":
      return { type: "sticker", ...optional("emoji", optStr("emoji")) };
    case "voice":
      return { type: "voice", ...optional("duration", intParam(body.duration)) };
    case "location":
      return { type: "location", latitude: num("latitude"), longitude: num("longitude") };
    default:
      throw bad("type must be one of text, press, contact, edit, forward, photo, sticker, voice, location");
  }
}

/** No webhook → 400; the webhook unreachable → 502. */
async function delivering<T>(deliver: () => Promise<T>): Promise<T> {
  try {
    return await deliver();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const refused = message.includes("has no webhook") || message.includes("the bot sent no message");
    throw new RequestError(refused ? 400 : 502, message);
  }
}
