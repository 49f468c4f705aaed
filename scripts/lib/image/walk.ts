/**
 * What `npm run test:image` asks of the running services, through their HTTP interfaces only:
 * the pages whose files libraries serve from their own package folders, a bot connected through
 * the admin API, and the seed journey walked as a Telegram user through the fake Bot API (the same
 * walk as `npm run verify`'s checks 4–7).
 */
import { randomBytes } from "node:crypto";
import pg from "pg";
import { signToken } from "../jwt.ts";

export const TENANT = "entrylab";
export const DEEP_LINK = "broker_access";

export interface Stack {
  apiUrl: string;
  fakeRoot: string;
  jwtSecret: string;
  databaseUrl: string;
  sweepIntervalMs: number;
  log: (line: string) => void;
}

async function http<T>(method: string, url: string, opts: { token?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(url, {
    method,
    headers: {
      ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      ...(opts.body ? { "content-type": "application/json" } : {}),
    },
    body: opts.body ? JSON.stringify(opts.body) : undefined,
    signal: AbortSignal.timeout(35_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} → ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

export function adminToken(stack: Stack): string {
  return signToken(stack.jwtSecret, { tenant_id: TENANT, role: "admin", sub: "test-image" }, 600);
}

/** An HTML page and the first script or stylesheet it loads: both must answer 200. */
async function pageWithAsset(url: string, headers: Record<string, string>): Promise<string> {
  const page = await fetch(url, { headers: { accept: "text/html", ...headers }, redirect: "follow" });
  const html = await page.text();
  if (!page.ok) throw new Error(`GET ${url} → ${page.status}`);
  const ref = /(?:src|href)="([^"]+\.(?:js|css))"/.exec(html)?.[1];
  if (!ref) throw new Error(`GET ${url}: the page names no script or stylesheet`);
  // bull-board's page names its files relative to a <base href>, as a browser resolves them.
  const base = /<base href="([^"]+)"/.exec(html)?.[1];
  const asset = new URL(ref, base ? new URL(base, page.url) : page.url);
  const res = await fetch(asset, { headers });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`GET ${asset} (loaded by ${url}) → ${res.status}`);
  return `${new URL(url).pathname} and ${asset.pathname} answer 200`;
}

export async function checkPages(stack: Stack): Promise<void> {
  stack.log(`swagger UI: ${await pageWithAsset(`${stack.apiUrl}/docs/`, {})}`);
  const auth = { authorization: `Bearer ${adminToken(stack)}` };
  stack.log(`bull-board: ${await pageWithAsset(`${stack.apiUrl}/admin/queues`, auth)}`);
}

export interface Bot {
  bot_id: string;
  telegram_bot_id: number;
  username: string;
}

/** Connect a fake bot for the seed tenant (getMe and setWebhook go to the fake Bot API). */
export async function connectBot(stack: Stack): Promise<Bot> {
  const token = `${6_000_000_000 + Math.floor(Math.random() * 1e8)}:${randomBytes(26).toString("base64url")}`;
  const bot = await http<Bot>("POST", `${stack.apiUrl}/api/bots`, { token: adminToken(stack), body: { token } });
  stack.log(`bot @${bot.username} connected (bot_id ${bot.bot_id})`);
  return bot;
}

/** Walk the seeded journey as one user; throws unless every message arrives as the seed writes it. */
export async function walkSeedJourney(stack: Stack, bot: Bot): Promise<void> {
  const user = 100_000 + Math.floor(Math.random() * 1e6);
  let since = 0;
  const say = async (text: string) => {
    const r = await http<{ status: number }>("POST", `${stack.fakeRoot}/_fake/user-says`, {
      body: { bot_id: bot.telegram_bot_id, user_id: user, text },
    });
    if (r.status !== 200) throw new Error(`the webhook answered ${r.status} to "${text}"`);
  };
  const expect = async (prefix: string, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const wait = Math.min(5000, Math.max(1, deadline - Date.now()));
      const { messages } = await http<{ messages: { seq: number; text: string }[] }>(
        "GET",
        `${stack.fakeRoot}/_fake/sent?bot_id=${bot.telegram_bot_id}&chat_id=${user}&since_seq=${since}&wait_ms=${wait}`,
      );
      const m = messages[0];
      if (!m) continue;
      since = m.seq;
      if (!m.text.startsWith(prefix)) throw new Error(`expected "${prefix}…", the bot said "${m.text}"`);
      stack.log(`  bot> ${m.text}`);
      return;
    }
    throw new Error(`the fake Bot API received no "${prefix}…" within ${timeoutMs} ms`);
  };

  stack.log(`walking "Broker Sign Up" as user ${user} (t.me/${bot.username}?start=${DEEP_LINK}):`);
  for (const [text, reply] of [
    [`/start ${DEEP_LINK}`, "How old are you?"],
    ["33", "Which country are you based in?"],
    ["Germany", "How much do you intend to deposit?"],
    ["$1,000", "Thanks for reaching out"],
  ] as const) {
    stack.log(`  you> ${text}`);
    await say(text);
    await expect(reply);
  }

  // The 60–120 minute delay, made due now: the worker's sweeper finds it and sends the last message.
  const db = new pg.Client({ connectionString: stack.databaseUrl });
  await db.connect();
  try {
    const due = await db.query(
      `UPDATE journey_scheduled_messages m SET scheduled_for = now() FROM journey_user_sessions s
        WHERE m.session_id = s.id AND s.tenant_id = $1 AND s.telegram_user_id = $2 AND m.status = 'pending'`,
      [TENANT, user],
    );
    if (due.rowCount !== 1) throw new Error(`expected one pending delay for the user, found ${due.rowCount}`);
    stack.log("  (the delay made due now)");
    await expect("You’re eligible", stack.sweepIntervalMs + 15_000);
    const { rows } = await db.query<{ status: string }>(
      "SELECT status FROM journey_user_sessions WHERE tenant_id = $1 AND telegram_user_id = $2",
      [TENANT, user],
    );
    if (rows[0]?.status !== "completed") throw new Error(`the session is ${rows[0]?.status}, not completed`);
    stack.log("  session completed");
  } finally {
    await db.end();
  }
}
