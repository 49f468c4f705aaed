/**
 * The two ceilings the webhook figure is compared with, on the same machine, driver and bodies:
 *   --mode bare  a Fastify route that parses the JSON body and answers 200;
 *   --mode tx    a Fastify route running one plain `pg` transaction of the webhook's shape on the
 *                bench database's own tables: dedupe insert, the user's live session locked
 *                (SELECT … FOR UPDATE), updated, one outbox row inserted. Pool of 20, like the API.
 * `tsx bench/ceiling-server.ts --mode tx --port P --db URL`; prints "listening" when ready.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { parseArgs } from "node:util";
import Fastify from "fastify";
import pg from "pg";

const { values } = parseArgs({
  options: { mode: { type: "string" }, port: { type: "string" }, db: { type: "string" } },
});
const mode = values.mode;
if (mode !== "bare" && mode !== "tx") throw new Error("--mode bare|tx");

type Update = { update_id: number; message: { chat: { id: number }; from: { id: number }; text: string } };
const app = Fastify({ logger: false });

if (mode === "bare") {
  app.post("/telegram/webhook/:botId", async () => ({ ok: true }));
} else {
  const pool = new pg.Pool({ connectionString: values.db, max: 20 });
  // Bot → tenant and the secret's SHA-256, loaded once (the API caches its bot rows too).
  const bots = new Map<string, { tenantId: string; secretHash: Buffer }>();
  const rows = await pool.query<{ bot_id: string; tenant_id: string; webhook_secret: string }>(
    "SELECT bot_id, tenant_id, webhook_secret FROM tenant_bots",
  );
  for (const r of rows.rows) {
    bots.set(r.bot_id, { tenantId: r.tenant_id, secretHash: Buffer.from(r.webhook_secret, "hex") });
  }

  app.post<{ Params: { botId: string }; Body: Update }>("/telegram/webhook/:botId", async (req, reply) => {
    const bot = bots.get(req.params.botId);
    if (!bot) return reply.status(404).send({ ok: false });
    // As the API checks it: the header's SHA-256 against the stored one, in constant time.
    const given = createHash("sha256")
      .update(String(req.headers["x-telegram-bot-api-secret-token"] ?? ""))
      .digest();
    if (given.length !== bot.secretHash.length || !timingSafeEqual(given, bot.secretHash)) {
      return reply.status(401).send({ ok: false });
    }
    const { update_id: updateId, message } = req.body;
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const claimed = await client.query(
        "INSERT INTO processed_updates (bot_id, update_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        [req.params.botId, updateId],
      );
      if (claimed.rowCount === 1) {
        const session = await client.query<{ id: string }>(
          `SELECT s.id FROM journey_user_sessions s JOIN journeys j ON j.id = s.journey_id
            WHERE s.tenant_id = $1 AND j.bot_id = $2 AND s.telegram_user_id = $3
              AND s.status IN ('active', 'waiting_delay') FOR UPDATE OF s`,
          [bot.tenantId, req.params.botId, message.from.id],
        );
        const id = session.rows[0]?.id;
        if (id) {
          await client.query(
            `UPDATE journey_user_sessions SET answers = coalesce(answers, '{}'::jsonb) || jsonb_build_object('ceiling', $2::text),
                    last_activity_at = now() WHERE id = $1`,
            [id, message.text],
          );
          await client.query(
            `INSERT INTO journey_outbox (tenant_id, bot_id, session_id, telegram_chat_id, message_content)
             VALUES ($1, $2, $3, $4, $5) RETURNING id`,
            [bot.tenantId, req.params.botId, id, message.chat.id, { text: "ceiling" }],
          );
        }
      }
      await client.query("COMMIT");
    } catch (err) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
    return { ok: true };
  });
  app.addHook("onClose", () => pool.end());
}

await app.listen({ host: "127.0.0.1", port: Number(values.port) });
console.log("listening");
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => void app.close().then(() => process.exit(0)));
}
