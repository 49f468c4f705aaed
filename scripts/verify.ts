/**
 * `npm run verify`: the seed's seven checks (section H), then the flow language's group (issue 17:
 * "Broker Qualification" down each branch, docs/journeys.md's example PUT as is), each printing
 * PASS/FAIL with its evidence.
 * Alone it brings up a scratch stack — its own database and queue prefix, the fake Bot API, the API
 * and the worker as child processes — and tears it down. `-- --url http://host:port` runs the same
 * checks against a running stack started with the fake Bot API (`npm start -- --fake-telegram`),
 * using DATABASE_URL and JWT_SECRET from the environment (NODE_ENV=development defaults otherwise).
 * The fake is looked for at `--telegram URL`, else TELEGRAM_API_ROOT, else where `npm start` puts it.
 */
import { execFileSync } from "node:child_process";
import { isDeepStrictEqual, parseArgs } from "node:util";
import pg from "pg";
import { loadConfig } from "../packages/journeys/src/config.ts";
import { AdminClient } from "./lib/harness/admin-client.ts";
import { FakeClient } from "./lib/harness/fake-client.ts";
import { Stack } from "./lib/harness/stack.ts";
import { DEFAULT_FAKE_TELEGRAM_PORT, ROOT, TSX } from "./lib/procs.ts";
import { qualificationChecks } from "./lib/verify-qualification.ts";

const { values } = parseArgs({
  options: { url: { type: "string" }, telegram: { type: "string" }, verbose: { type: "boolean", default: false } },
});
process.env.NODE_ENV ??= "development";

const TENANT = "entrylab";
let stack: Stack | undefined;
let failures = 0;
let checks = 0;

function report(n: number, name: string, ok: boolean, evidence: string) {
  checks = Math.max(checks, n);
  if (!ok) failures++;
  console.log(`${ok ? "PASS" : "FAIL"} ${n}. ${name} — ${evidence}`);
}

async function setUp(): Promise<{ env: Record<string, string>; apiUrl: string; fakeRoot: string }> {
  if (values.url) {
    // The checks talk to the fake's control API, so the real Telegram is never a default here.
    const fakeRoot = (
      values.telegram ??
      process.env.TELEGRAM_API_ROOT ??
      `http://127.0.0.1:${DEFAULT_FAKE_TELEGRAM_PORT}`
    ).replace(/\/$/, "");
    try {
      await new FakeClient(fakeRoot).stats();
    } catch (err) {
      throw new Error(
        `no fake Bot API at ${fakeRoot} (${(err as Error).message}): start the stack with \`npm start -- --fake-telegram\`, or pass --telegram URL`,
      );
    }
    return { env: { ...(process.env as Record<string, string>) }, apiUrl: values.url.replace(/\/$/, ""), fakeRoot };
  }
  stack = new Stack({
    tool: "verify",
    verbose: values.verbose,
    env: { SCHEDULER_SWEEP_INTERVAL_MS: "1000", LOG_LEVEL: values.verbose ? "info" : "warn" },
  });
  await stack.start();
  console.log(
    `scratch stack: database ${stack.dbName}, queue prefix ${stack.prefix}, api :${new URL(stack.apiUrl).port}, fake Bot API :${new URL(stack.fakeRoot).port}`,
  );
  return { env: { ...stack.serviceEnv }, apiUrl: stack.apiUrl, fakeRoot: stack.fakeRoot };
}

/** The product's own CLIs: `npm run token` and `npm run db:seed`. */
function cli(script: string, args: string[], env: Record<string, string>): string {
  return execFileSync(TSX, [script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" }).trim();
}

async function main() {
  const { env, apiUrl, fakeRoot } = await setUp();
  const db = new pg.Client({ connectionString: env.DATABASE_URL ?? loadConfig(process.env).databaseUrl });
  await db.connect();
  try {
    const token = cli("scripts/token.ts", ["--tenant", TENANT, "--role", "admin"], env).split("\n").at(-1)!;
    const admin = new AdminClient({ apiUrl }, TENANT, { token });
    // A tenant exists when it has a bot: connect a fake one unless it has one, then seed.
    const bot = (await admin.bots())[0] ?? (await admin.connectBot());
    // The CLI's own lines, not its JSON log lines (LOG_LEVEL info when run against a stack of yours).
    const seeded = cli("packages/journeys/src/seed/seed-cli.ts", [], env)
      .split("\n")
      .filter((line) => !line.startsWith("{"))
      .join("; ");
    console.log(`bot @${bot.username} (bot_id ${bot.botId}); seed: ${seeded}`);

    // 1. Tables exist
    const tables = (
      await db.query<{ t: string }>(
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      )
    ).rows.map((r) => r.t);
    const expected = [
      "journeys",
      "journey_triggers",
      "journey_steps",
      "journey_user_sessions",
      "journey_scheduled_messages",
    ];
    const missing = expected.filter((t) => !tables.includes(t));
    report(
      1,
      "tables exist",
      missing.length === 0,
      missing.length ? `missing ${missing.join(", ")}` : tables.join(", "),
    );

    // 2. Seed journey exists
    type J = { id: string; name: string; status: string };
    const listed = await admin.ok<J[] | Record<string, J[]>>("GET", "/api/journeys");
    const journey = (Array.isArray(listed) ? listed : (Object.values(listed)[0] ?? [])).find(
      (j) => j.name === "Broker Sign Up",
    );
    report(
      2,
      "seed journey exists",
      journey?.status === "active",
      journey ? `journey ${journey.id} (${journey.status})` : "not found",
    );

    // 3. Trigger lookup works
    const trig = await db.query<{ id: string; journey_id: string }>(
      `SELECT t.id, t.journey_id FROM journey_triggers t JOIN journeys j ON j.id = t.journey_id
        WHERE j.tenant_id = $1 AND j.bot_id = $2 AND j.status = 'active' AND t.is_active
          AND t.trigger_type = 'telegram_deeplink' AND t.trigger_config->>'start_param' = 'broker_access'`,
      [TENANT, bot.botId],
    );
    report(
      3,
      "trigger lookup works",
      trig.rows[0]?.journey_id === journey?.id,
      `trigger ${trig.rows[0]?.id ?? "none"} → journey ${trig.rows[0]?.journey_id ?? "none"}`,
    );

    // 4. A fake /start broker_access webhook creates a session
    const user = 100_000 + Math.floor(Math.random() * 1e6);
    const fake = new FakeClient(fakeRoot);
    const say = async (text: string) => {
      const status = await fake.userSays(bot.telegramBotId, user, text);
      if (status !== 200) throw new Error(`webhook answered ${status} to "${text}"`);
    };
    const botSays = async (count: number, timeoutMs = 15_000): Promise<string[]> =>
      (await fake.collect(count, timeoutMs, undefined, { botId: bot.telegramBotId, chatId: user })).map((m) => m.text);
    await say("/start broker_access");
    const session = async () =>
      (
        await db.query<{
          id: string;
          status: string;
          answers: Record<string, unknown>;
          step_order: number | null;
          completed_at: Date | null;
        }>(
          `SELECT s.id, s.status, s.answers, st.step_order, s.completed_at FROM journey_user_sessions s
             LEFT JOIN journey_steps st ON st.id = s.current_step_id
            WHERE s.tenant_id = $1 AND s.telegram_user_id = $2 ORDER BY s.started_at DESC LIMIT 1`,
          [TENANT, user],
        )
      ).rows[0];
    const first = await botSays(1);
    const s4 = await session();
    report(
      4,
      "/start broker_access creates a session",
      s4?.status === "active" && first[0] === "How old are you?",
      `session ${s4?.id} ${s4?.status} at step ${s4?.step_order}; bot said "${first[0]}"`,
    );

    // 5. Answering questions advances steps
    await say("33");
    await botSays(1);
    await say("Germany");
    await botSays(1);
    await say("$1,000");
    const thanks = await botSays(1);
    const s5 = await session();
    report(
      5,
      "answering questions advances steps",
      isDeepStrictEqual(s5?.answers, {
        user_age: 33,
        country: "Germany",
        deposit_amount: { amount: 1000, currency: "USD" },
      }) && (thanks[0] ?? "").startsWith("Thanks for reaching out"),
      `answers ${JSON.stringify(s5?.answers)}; bot said "${thanks[0]}"`,
    );

    // 6. The delay inserts a scheduled message
    const row = (
      await db.query<{ id: string; status: string; minutes: number }>(
        `SELECT id, status, EXTRACT(EPOCH FROM scheduled_for - now()) / 60 AS minutes FROM journey_scheduled_messages WHERE session_id = $1`,
        [s5?.id],
      )
    ).rows[0];
    const minutes = Number(row?.minutes);
    report(
      6,
      "the delay inserts a scheduled message",
      s5?.status === "waiting_delay" && row?.status === "pending" && minutes > 59 && minutes <= 120,
      `row ${row?.id} ${row?.status}, due in ${minutes.toFixed(1)} min; session ${s5?.status}`,
    );

    // 7. Setting scheduled_for to now() makes the worker send it
    await db.query("UPDATE journey_scheduled_messages SET scheduled_for = now() WHERE id = $1", [row?.id]);
    const sweep = Number(env.SCHEDULER_SWEEP_INTERVAL_MS ?? 30000);
    const eligible = await botSays(1, sweep + 15_000);
    const s7 = await session();
    report(
      7,
      "scheduled_for = now() makes the worker send it",
      (eligible[0] ?? "").startsWith("You’re eligible") && s7?.status === "completed",
      `bot said "${eligible[0] ?? "(nothing)"}"; session ${s7?.status} at ${s7?.completed_at?.toISOString?.() ?? "-"}`,
    );

    // 8–13. The flow language: Broker Qualification down each branch, the docs' example journey.
    console.log("\nBroker Qualification (issue 17):");
    await qualificationChecks({
      admin,
      db,
      fakeRoot,
      bot,
      tenant: TENANT,
      report: (name, ok, evidence) => report(checks + 1, name, ok, evidence),
    });
  } finally {
    await db.end();
  }
}

try {
  await main();
} catch (err) {
  failures++;
  console.log(`FAIL — ${(err as Error).message}`);
} finally {
  await stack?.tearDown();
}
console.log(failures === 0 ? `\nall ${checks} checks passed` : `\n${failures} of ${checks} check(s) failed`);
process.exit(failures === 0 ? 0 : 1);
