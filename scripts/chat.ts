/**
 * `npm run chat -- --tenant entrylab --user 42`: play a Telegram user against the local stack
 * (`npm start -- --fake-telegram`). What you type is delivered to the API as a webhook update by the
 * fake Bot API; the bot's replies are printed as the worker sends them, delayed ones included.
 * `/fire` makes your pending delay due now (as the seed's check 7 does with scheduled_for).
 */
import { randomBytes } from "node:crypto";
import { createInterface } from "node:readline/promises";
import { parseArgs } from "node:util";
import pg from "pg";
import { createDb, createLogger, loadConfigOrExit, seedBrokerSignUp } from "../packages/journeys/src/index.ts";
import { signToken } from "./lib/jwt.ts";

const { values } = parseArgs({
  options: {
    tenant: { type: "string", default: "entrylab" },
    user: { type: "string", default: "42" },
    api: { type: "string", default: "http://127.0.0.1:3000" },
    telegram: { type: "string" },
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
console.log(`You are Telegram user ${userId} talking to @${bot.username} (tenant ${tenant}).`);
console.log("Try: /start broker_access   ·   /fire makes a pending delay due now   ·   Ctrl-D to quit\n");

let since = 0;
let running = true;
void (async () => {
  // Long-poll the fake for what the bot sends this chat.
  const first = await json<{ messages: { seq: number }[] }>(
    await fetch(`${fakeRoot}/_fake/sent?bot_id=${bot.telegram_bot_id}&chat_id=${userId}&since_seq=0`),
  );
  since = first.messages.at(-1)?.seq ?? 0;
  while (running) {
    try {
      const { messages } = await json<{ messages: { seq: number; text: string }[] }>(
        await fetch(
          `${fakeRoot}/_fake/sent?bot_id=${bot.telegram_bot_id}&chat_id=${userId}&since_seq=${since}&wait_ms=25000`,
        ),
      );
      for (const m of messages) {
        since = Math.max(since, m.seq);
        process.stdout.write(`\nbot> ${m.text}\nyou> `);
      }
    } catch (err) {
      if (running) console.error(`(polling the fake failed: ${(err as Error).message}; retrying)`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
})();

const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: "you> " });
rl.prompt();
for await (const line of rl) {
  const text = line.trim();
  if (text === "/fire") {
    console.log(`(${await fireDelays()} pending delay(s) now due; the worker sends within one sweep interval)`);
  } else if (text) {
    const r = await json<{ status: number; body: string }>(
      await fetch(`${fakeRoot}/_fake/user-says`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ bot_id: bot.telegram_bot_id, user_id: userId, text }),
      }),
    ).catch((err: Error) => ({ status: 0, body: err.message }));
    if (r.status !== 200) console.log(`(webhook answered ${r.status}: ${r.body})`);
  }
  rl.prompt();
}
running = false;
process.exit(0);
