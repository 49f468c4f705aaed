/**
 * The peer of our webhook path, written the way grammY's documentation shows it: a `Bot` per
 * Telegram bot with the conversations plugin (v2) keeping its state in Postgres through
 * `@grammyjs/storage-psql`, each behind `webhookCallback(bot, "fastify")` on one Fastify server, the
 * bots' API root pointed at our fake Bot API. `/start` enters a conversation of `questions` text
 * questions: ask, wait for a text, store it (with `conversation.external`, as the docs say side
 * effects must be wrapped), ask the next. No `bot.catch`: an error fails the request with a 500, so
 * Telegram delivers the update again, as the docs describe for webhooks.
 *
 * `tsx bench/peers/grammy-conversations.ts <config.json>` (see PeerConfig); prints "listening".
 * Its tables: `grammy_conversations` (the adapter's) and `grammy_answers` (one row per answer
 * stored: the update it came from, so a redelivered update applied twice shows).
 */
import { readFileSync } from "node:fs";
import {
  type Conversation,
  type ConversationData,
  type ConversationFlavor,
  conversations,
  createConversation,
  type VersionedStateStorage,
} from "@grammyjs/conversations";
import { PsqlAdapter } from "@grammyjs/storage-psql";
import Fastify from "fastify";
import { Bot, type Context, webhookCallback } from "grammy";
import pg from "pg";

export interface PeerBot {
  token: string;
  /** Webhook path on this server. */
  path: string;
  secret: string;
}

export interface PeerConfig {
  port: number;
  db: string;
  apiRoot: string;
  questions: number;
  bots: PeerBot[];
}

const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as PeerConfig;

// The adapter's docs pass a pg Client; a Pool has the same `query` and gives the peer as many
// connections as our API has (20), so a single connection's queue does not hold it back.
const pool = new pg.Pool({ connectionString: config.db, max: 20 });
await pool.query(
  "CREATE TABLE IF NOT EXISTS grammy_answers (chat_id bigint NOT NULL, question int NOT NULL, update_id bigint NOT NULL, text text NOT NULL)",
);
// The adapter stores any JSON value (it is typed `unknown`); the plugin's versioned state is one.
const adapter = (await PsqlAdapter.create({
  tableName: "grammy_conversations",
  client: pool as unknown as pg.Client,
})) as unknown as VersionedStateStorage<string, ConversationData>;

type MyContext = ConversationFlavor<Context>;
type MyConversation = Conversation<MyContext, Context>;

async function questions(conversation: MyConversation, ctx: Context) {
  for (let i = 1; i <= config.questions; i++) {
    await ctx.reply(`Question ${i}?`);
    const answer = await conversation.waitFor("message:text");
    const { update_id: updateId, message } = answer.update;
    await conversation.external(async () => {
      await pool.query("INSERT INTO grammy_answers (chat_id, question, update_id, text) VALUES ($1, $2, $3, $4)", [
        answer.chatId,
        i,
        updateId,
        message?.text,
      ]);
    });
  }
  await ctx.reply("Thank you!");
}

const app = Fastify({ logger: false });
// Fastify answers a thrown error with a 500 (Telegram then delivers the update again); say why.
app.addHook("onError", async (_req, _reply, err) => console.error(`peer: ${err.stack ?? err}`));
for (const b of config.bots) {
  const bot = new Bot<MyContext>(b.token, { client: { apiRoot: config.apiRoot } });
  bot.use(conversations({ storage: { type: "key", adapter } }));
  bot.use(createConversation(questions));
  bot.command("start", (ctx) => ctx.conversation.enter("questions"));
  await bot.init(); // getMe once here rather than on the first update
  app.post(b.path, webhookCallback(bot, "fastify", { secretToken: b.secret }));
}

await app.listen({ host: "127.0.0.1", port: config.port });
console.log("listening");
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void app.close().then(() => pool.end().finally(() => process.exit(0))));
}
