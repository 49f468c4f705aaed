/**
 * `npm run chat -- --tenant entrylab --user 42`: play a Telegram user against the local stack
 * (`npm start -- --fake-telegram`). What you type is delivered to the API as a webhook update by the
 * fake Bot API; the bot's replies are printed as the worker sends them, delayed ones included.
 * `/fire` makes your pending delay due now (as the seed's check 7 does with scheduled_for).
 * Buttons show numbered (`[1] Yes  [2] No`): `#2` presses button 2 of the last keyboard, `#share`
 * shares your phone number (`--phone`); `#edit <text>` edits your last message, `#fwd <text>`
 * forwards one, `#photo [caption]` sends a photo.
 */
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import {
  createDb,
  createLogger,
  loadConfigOrExit,
  seedBrokerQualification,
  seedBrokerSignUp,
} from "../packages/journeys/src/index.ts";
import { type BotEvent, FakeChat, type KeyboardButton, keyboardButtons } from "./lib/harness/fake-client.ts";
import { signToken } from "./lib/jwt.ts";

const { values } = parseArgs({
  options: {
    tenant: { type: "string", default: "entrylab" },
    user: { type: "string", default: "42" },
    api: { type: "string", default: "http://127.0.0.1:3000" },
    telegram: { type: "string" },
    phone: { type: "string", default: "+491701234567" },
  },
});
process.env.NODE_ENV ??= "development";
const config = loadConfigOrExit();
const tenant = values.tenant;
const userId = Number(values.user);
if (!Number.isSafeInteger(userId) || userId <= 0) {
  console.error("--user must be a positive integer (the Telegram user id to play)");
  process.exit(2);
}
// The fake Bot API `npm start -- --fake-telegram` runs, unless told otherwise.
const fakeRoot = (values.telegram ?? process.env.TELEGRAM_API_ROOT ?? "http://127.0.0.1:8081").replace(/\/$/, "");
const auth = {
  authorization: `Bearer ${signToken(config.jwtSecret, { tenant_id: tenant, role: "admin", sub: "chat" })}`,
};

async function json<T>(res: Response): Promise<T> {
  const text = await res.text();
  if (!res.ok) throw new Error(`${res.url} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** The tenant's first bot, connecting a fake one (and seeding the journey) when it has none. */
async function ensureBot(): Promise<{ bot_id: string; telegram_bot_id: number; username: string }> {
  type Bot = { bot_id: string; telegram_bot_id: number; username: string };
  const listed = await json<Bot[] | { bots: Bot[] }>(await fetch(`${values.api}/api/bots`, { headers: auth }));
  const bots = Array.isArray(listed) ? listed : listed.bots;
  if (bots[0]) return bots[0];
  const token = `${7_000_000_000 + Math.floor(Math.random() * 1e8)}:${randomBytes(26).toString("base64url")}`;
  const bot = await json<Bot>(
    await fetch(`${values.api}/api/bots`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ token }),
    }),
  );
  const handle = createDb(config.databaseUrl, { max: 1 });
  const seeded = await seedBrokerSignUp(handle.db, config.botTokenEncryptionKey, createLogger("silent"), tenant);
  // The second seeded journey (branches, buttons, variables): /start broker_qualify.
  await seedBrokerQualification(handle.db, config.botTokenEncryptionKey, createLogger("silent"), tenant);
  await handle.close();
  console.log(`connected fake bot @${bot.username} for tenant ${tenant}; seed: ${seeded.status}`);
  return bot;
}

async function fireDelays(): Promise<number> {
  const client = new pg.Client({ connectionString: config.databaseUrl });
  await client.connect();
  const r = await client.query(
    `UPDATE journey_scheduled_messages m SET scheduled_for = now()
       FROM journey_user_sessions s
      WHERE m.session_id = s.id AND m.status = 'pending' AND s.tenant_id = $1 AND s.telegram_user_id = $2`,
    [tenant, userId],
  );
  await client.end();
  return r.rowCount ?? 0;
}

try {
  await json(await fetch(`${fakeRoot}/_fake/stats`));
} catch (err) {
  console.error(`the fake Bot API does not answer at ${fakeRoot} (${(err as Error).message}).`);
  console.error("Start the stack with `npm start -- --fake-telegram` (or pass --telegram <url>).");
  process.exit(1);
}
const bot = await ensureBot();
const chat = new FakeChat(fakeRoot, bot.telegram_bot_id, userId);
console.log(`You are Telegram user ${userId} talking to @${bot.username} (tenant ${tenant}).`);
console.log("Try: /start broker_access   ·   /fire makes a pending delay due now   ·   Ctrl-D to quit");
console.log(
  "     #2 presses button 2   ·   #share shares your phone   ·   #edit <text>   ·   #fwd <text>   ·   #photo\n",
);

/** The bot's message texts by id, for naming a message whose keyboard changed. */
const texts = new Map<number, string>();
let lastUserMessage: number | undefined;

const shown = (buttons: KeyboardButton[]) =>
  buttons
    .map((b) => `[${b.index}] ${b.label}${b.url ? ` ↗ ${b.url}` : ""}${b.requestContact ? " (#share)" : ""}`)
    .join("  ");
const quoted = (id: number) => `"${(texts.get(id) ?? `message ${id}`).slice(0, 40)}"`;

/** How one thing the bot did looks in the terminal. */
function render(e: BotEvent): string {
  if (e.kind === "callback_answer") return e.text ? `(notice: ${e.text})` : "(button press answered)";
  if (e.kind === "markup_edit") {
    return e.replyMarkup
      ? `(buttons of ${quoted(e.messageId)} now: ${shown(keyboardButtons(e.replyMarkup))})`
      : `(buttons removed from ${quoted(e.messageId)})`;
  }
  texts.set(e.messageId, e.text);
  const markup = e.replyMarkup as Record<string, unknown> | undefined;
  const lines = [`bot> ${e.text}`];
  if (markup?.inline_keyboard || markup?.keyboard) lines.push(`     ${shown(keyboardButtons(markup))}`);
  else if (markup?.remove_keyboard) lines.push("     (keyboard removed)");
  return lines.join("\n");
}

let since = 0;
let running = true;
void (async () => {
  // Long-poll the fake for what the bot does in this chat: messages, callback answers, keyboard edits.
  for (const e of await chat.events(0)) {
    if (e.kind === "message") texts.set(e.messageId, e.text);
    since = Math.max(since, e.seq);
  }
  while (running) {
    try {
      for (const e of await chat.events(since, 25_000)) {
        since = Math.max(since, e.seq);
        process.stdout.write(`\n${render(e)}\nyou> `);
      }
    } catch (err) {
      if (running) console.error(`(polling the fake failed: ${(err as Error).message}; retrying)`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
})();

/** A `#…` line: a press, a shared contact, an edit, a forward or a photo. */
async function act(line: string) {
  const [word = "", ...rest] = line.slice(1).split(/\s+/);
  const arg = rest.join(" ");
  if (/^\d+$/.test(word)) {
    const acted = await chat.press(Number(word), values.phone);
    if (acted.url) console.log(`(opens ${acted.url})`);
    return acted;
  }
  switch (word.toLowerCase()) {
    case "share":
      return chat.shareContact(arg || values.phone);
    case "edit":
      if (lastUserMessage === undefined) throw new Error("nothing of yours to edit yet");
      return chat.edit(lastUserMessage, arg);
    case "fwd":
      return chat.forward(arg || "a forwarded message");
    case "photo":
      return chat.photo(arg || undefined);
    default:
      throw new Error(`unknown action #${word}: #<n>, #share [phone], #edit <text>, #fwd <text>, #photo [caption]`);
  }
}

const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: "you> " });
rl.prompt();
for await (const line of rl) {
  const text = line.trim();
  if (text === "/fire") {
    console.log(`(${await fireDelays()} pending delay(s) now due; the worker sends within one sweep interval)`);
  } else if (text) {
    try {
      const acted = text.startsWith("#") ? await act(text) : await chat.says(text);
      if (acted.messageId !== undefined) lastUserMessage = acted.messageId;
      if (acted.status !== 200 && !acted.url) console.log(`(webhook answered ${acted.status}: ${acted.body})`);
    } catch (err) {
      console.log(`(${(err as Error).message})`);
    }
  }
  rl.prompt();
}
running = false;
process.exit(0);
