/**
 * The peer of our delays: pg-boss 10, a Postgres job queue, written as its docs show (`start`,
 * `createQueue`, jobs deferred with `startAfter`, a `work` handler) at its fastest documented
 * setting: `pollingIntervalSeconds: 0.5` (the least it accepts) and `batchSize` jobs per fetch, the
 * batch handled at once. A job sends its message through the Bot API (grammY's `Api`, pointed at
 * our fake) as our worker does when a delay fires, so lateness is measured the same way: when the
 * fake received the message, minus the job's due time. Consecutive jobs go to different bots, as in
 * our delay phase, so no bot's send limit queues them.
 *
 * `tsx bench/peers/pg-boss.ts <config.json>` (see PgBossConfig). For each schedule in turn it
 * inserts `count` jobs due evenly over `windowMs` from `leadMs` on (job i to chat `chatBase + i`),
 * prints `{"schedule":k,"start":<epoch ms>}`, and waits until the handler has run for all of them
 * before the next; prints "done" and stops. (pg-boss 12 needs Node 22; this project runs Node 20.)
 */
import { readFileSync } from "node:fs";
import { Api } from "grammy";
import PgBoss from "pg-boss";

export interface PgBossSchedule {
  count: number;
  windowMs: number;
  chatBase: number;
}

export interface PgBossConfig {
  db: string;
  apiRoot: string;
  /** One per bot; job i sends with token i mod their count. */
  tokens: string[];
  text: string;
  leadMs: number;
  batchSize: number;
  schedules: PgBossSchedule[];
}

const QUEUE = "bench-delay";
const config = JSON.parse(readFileSync(process.argv[2]!, "utf8")) as PgBossConfig;
const apis = config.tokens.map((token) => new Api(token, { apiRoot: config.apiRoot }));

const boss = new PgBoss({ connectionString: config.db, max: 10 });
boss.on("error", (err) => console.error(`pg-boss: ${err.message}`));
await boss.start();
await boss.createQueue(QUEUE);

let handled = 0;
await boss.work<{ bot: number; chat: number }>(
  QUEUE,
  { pollingIntervalSeconds: 0.5, batchSize: config.batchSize },
  async (jobs) => {
    await Promise.all(jobs.map((job) => apis[job.data.bot]!.sendMessage(job.data.chat, config.text)));
    handled += jobs.length;
  },
);

for (const [k, s] of config.schedules.entries()) {
  const start = Date.now() + config.leadMs;
  const target = handled + s.count;
  await boss.insert(
    Array.from({ length: s.count }, (_, i) => ({
      name: QUEUE,
      data: { bot: i % apis.length, chat: s.chatBase + i },
      startAfter: new Date(start + Math.floor((i * s.windowMs) / s.count)),
    })),
  );
  console.log(JSON.stringify({ schedule: k, start }));
  const deadline = start + s.windowMs + 60_000;
  while (handled < target && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
}
console.log("done");
await boss.stop({ graceful: true, timeout: 5_000 });
process.exit(0);
