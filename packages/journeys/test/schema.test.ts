/**
 * The migrated schema against seed section A (SPEC §2): tables, columns with type / nullability /
 * default, foreign keys with their ON DELETE, the listed indexes, CHECKed vocabularies; and
 * runMigrations being idempotent and safe to run concurrently.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import pg from "pg";
import { afterAll, describe, expect, inject, it } from "vitest";
import { createTestEnv } from "../../../test/support/context.ts";
import { adminQuery, databaseUrl } from "../../../test/support/pg.ts";
import { runMigrations } from "../src/db/migrate.ts";

/** The migrations drizzle-kit generated (drizzle/meta/_journal.json). */
const MIGRATIONS = (
  JSON.parse(readFileSync(new URL("../../../drizzle/meta/_journal.json", import.meta.url), "utf8")) as {
    entries: unknown[];
  }
).entries.length;

const env = await createTestEnv();
const q = async <T = Record<string, unknown>>(sql: string, params: unknown[] = []) =>
  (await env.handle.pool.query(sql, params)).rows as T[];

const TABLES = [
  "journey_outbox",
  "journey_scheduled_messages",
  "journey_steps",
  "journey_triggers",
  "journey_user_sessions",
  "journeys",
  "processed_updates",
  "tenant_bots",
];

/** Seed section A column for column: [name, type, nullable, default]. */
type Col = [string, string, boolean, string | null];
const UUID_PK: Col = ["id", "uuid", false, "gen_random_uuid()"];
const ts = (name: string, def: string | null = "now()"): Col => [name, "timestamp with time zone", true, def];
const SEED: Record<string, Col[]> = {
  journeys: [
    UUID_PK,
    ["tenant_id", "character varying", false, null],
    ["bot_id", "character varying", false, null],
    ["name", "character varying", false, null],
    ["description", "text", true, null],
    ["status", "character varying", false, "'draft'::character varying"],
    ["re_entry_policy", "character varying", false, "'block'::character varying"],
    ts("created_at"),
    ts("updated_at"),
  ],
  journey_triggers: [
    UUID_PK,
    ["journey_id", "uuid", false, null],
    ["trigger_type", "character varying", false, null],
    ["trigger_config", "jsonb", false, null],
    ["is_active", "boolean", true, "true"],
  ],
  journey_steps: [
    UUID_PK,
    ["journey_id", "uuid", false, null],
    ["step_order", "integer", false, null],
    ["step_type", "character varying", false, null],
    ["config", "jsonb", false, null],
    ts("created_at"),
  ],
  journey_user_sessions: [
    UUID_PK,
    ["tenant_id", "character varying", false, null],
    ["journey_id", "uuid", false, null],
    ["telegram_chat_id", "bigint", false, null],
    ["telegram_user_id", "bigint", false, null],
    ["current_step_id", "uuid", true, null],
    ["status", "character varying", false, "'active'::character varying"],
    ["answers", "jsonb", true, "'{}'::jsonb"],
    ts("started_at"),
    ts("completed_at", null),
    ts("last_activity_at"),
  ],
  journey_scheduled_messages: [
    UUID_PK,
    ["tenant_id", "character varying", false, null],
    ["session_id", "uuid", false, null],
    ["step_id", "uuid", false, null],
    ["telegram_chat_id", "bigint", false, null],
    ["message_content", "jsonb", false, null],
    ["scheduled_for", "timestamp with time zone", false, null],
    ["status", "character varying", false, "'pending'::character varying"],
    ts("sent_at", null),
    ["error", "text", true, null],
  ],
};

/** Columns added to the seed's tables (SPEC §10: new columns are additions), by table. */
const ADDED: Record<string, string[]> = {
  journey_steps: ["removed_at", "key"],
  journeys: ["steps_version"],
  journey_user_sessions: ["step_entered_at", "context"],
};

describe("migrated schema", () => {
  it("has exactly the expected tables in public; drizzle's journal lives in schema drizzle", async () => {
    const rows = await q<{ table_schema: string; table_name: string }>(
      "SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema IN ('public', 'drizzle') ORDER BY 1, 2",
    );
    expect(rows.filter((r) => r.table_schema === "public").map((r) => r.table_name)).toEqual(TABLES);
    expect(rows.filter((r) => r.table_schema === "drizzle").map((r) => r.table_name)).toEqual(["__drizzle_migrations"]);
  });

  it.each(Object.entries(SEED))("%s has the seed's columns with type, nullability and default", async (table, cols) => {
    const rows = await q<{
      column_name: string;
      data_type: string;
      is_nullable: string;
      column_default: string | null;
    }>(
      "SELECT column_name, data_type, is_nullable, column_default FROM information_schema.columns WHERE table_schema = 'public' AND table_name = $1",
      [table],
    );
    const actual = new Map(
      rows.map((r) => [r.column_name, [r.column_name, r.data_type, r.is_nullable === "YES", r.column_default]]),
    );
    for (const col of cols) expect(actual.get(col[0]), `${table}.${col[0]}`).toEqual(col);
    const seedNames = new Set(cols.map((c) => c[0]));
    expect([...actual.keys()].filter((c) => !seedNames.has(c))).toEqual(ADDED[table] ?? []);
  });

  it("has the seed's foreign keys with their ON DELETE", async () => {
    const rows = await q<{ fk: string }>(
      `SELECT format('%s.%s -> %s.%s %s', c.conrelid::regclass, a.attname, c.confrelid::regclass, af.attname,
                     CASE c.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'a' THEN 'NO ACTION' ELSE c.confdeltype::text END) AS fk
       FROM pg_constraint c
       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
       JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
       WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace ORDER BY 1`,
    );
    expect(rows.map((r) => r.fk)).toEqual([
      "journey_outbox.session_id -> journey_user_sessions.id CASCADE",
      "journey_scheduled_messages.session_id -> journey_user_sessions.id CASCADE",
      "journey_scheduled_messages.step_id -> journey_steps.id NO ACTION",
      "journey_steps.journey_id -> journeys.id CASCADE",
      "journey_triggers.journey_id -> journeys.id CASCADE",
      "journey_user_sessions.current_step_id -> journey_steps.id NO ACTION",
      "journey_user_sessions.journey_id -> journeys.id CASCADE",
    ]);
  });

  it("has every index the seed lists, including the partial unique one on live sessions", async () => {
    const rows = await q<{ tablename: string; indexdef: string }>(
      "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    );
    const index = (table: string, cols: string) =>
      rows.filter((r) => r.tablename === table && r.indexdef.includes(`USING btree (${cols})`)).map((r) => r.indexdef);
    const plain: Array<[string, string]> = [
      ["journeys", "tenant_id, status"],
      ["journey_triggers", "journey_id, trigger_type, is_active"],
      ["journey_steps", "journey_id, step_order"],
      ["journey_user_sessions", "tenant_id, journey_id, telegram_user_id, status"],
      ["journey_user_sessions", "tenant_id, telegram_user_id, status"],
      ["journey_scheduled_messages", "status, scheduled_for"],
      ["journey_scheduled_messages", "tenant_id, status, scheduled_for"],
    ];
    for (const [table, cols] of plain) expect(index(table, cols), `${table}(${cols})`).toHaveLength(1);

    const [live] = index("journey_user_sessions", "journey_id, telegram_user_id");
    expect(live).toMatch(/^CREATE UNIQUE INDEX /);
    const predicate = live!.slice(live!.indexOf(" WHERE "));
    expect([...predicate.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]).sort()).toEqual(["active", "waiting_delay"]);
    expect(predicate).toMatch(/status/);
  });

  describe("CHECK constraints refuse unknown vocabulary (23514)", () => {
    const bot = `chk_${randomBytes(3).toString("hex")}`;
    const journey = async (status = "draft", policy = "block") =>
      (
        await q<{ id: string }>(
          "INSERT INTO journeys (tenant_id, bot_id, name, status, re_entry_policy) VALUES ('t', $1, 'n', $2, $3) RETURNING id",
          [bot, status, policy],
        )
      )[0]!.id;
    const code = (p: Promise<unknown>) =>
      p.then(
        () => "ok",
        (e: { code?: string }) => e.code,
      );

    it("journeys.status and re_entry_policy", async () => {
      expect(await code(journey("live"))).toBe("23514");
      expect(await code(journey("draft", "sometimes"))).toBe("23514");
      for (const s of ["draft", "active", "paused", "archived"]) expect(await code(journey(s))).toBe("ok");
      for (const p of ["allow", "block", "restart"]) expect(await code(journey("draft", p))).toBe("ok");
    });

    it("journey_triggers.trigger_type and journey_steps.step_type", async () => {
      const j = await journey();
      const trigger = (t: string) =>
        q("INSERT INTO journey_triggers (journey_id, trigger_type, trigger_config) VALUES ($1, $2, '{}')", [j, t]);
      const step = (t: string) =>
        q("INSERT INTO journey_steps (journey_id, step_order, step_type, config) VALUES ($1, 1, $2, '{}')", [j, t]);
      expect(await code(trigger("webhook"))).toBe("23514");
      expect(await code(trigger("manual"))).toBe("ok");
      expect(await code(step("video"))).toBe("23514");
      expect(await code(step("conditional"))).toBe("ok");
    });

    it("session, scheduled and outbox statuses", async () => {
      const j = await journey();
      const session = (s: string) =>
        q<{ id: string }>(
          "INSERT INTO journey_user_sessions (tenant_id, journey_id, telegram_chat_id, telegram_user_id, status) VALUES ('t', $1, 1, 1, $2) RETURNING id",
          [j, s],
        );
      expect(await code(session("paused"))).toBe("23514");
      const sessionId = (await session("completed"))[0]!.id;
      const stepId = (
        await q<{ id: string }>(
          "INSERT INTO journey_steps (journey_id, step_order, step_type, config) VALUES ($1, 1, 'delay', '{}') RETURNING id",
          [j],
        )
      )[0]!.id;
      const scheduled = (s: string) =>
        q(
          "INSERT INTO journey_scheduled_messages (tenant_id, session_id, step_id, telegram_chat_id, message_content, scheduled_for, status) VALUES ('t', $1, $2, 1, '{}', now(), $3)",
          [sessionId, stepId, s],
        );
      expect(await code(scheduled("queued"))).toBe("23514");
      expect(await code(scheduled("sent"))).toBe("ok");
      const outbox = (s: string) =>
        q(
          "INSERT INTO journey_outbox (tenant_id, bot_id, telegram_chat_id, message_content, status) VALUES ('t', 'b', 1, '{}', $1)",
          [s],
        );
      expect(await code(outbox("delivered"))).toBe("23514");
      expect(await code(outbox("failed"))).toBe("ok");
      // step_id has no ON DELETE: a step a delay row points at cannot be deleted.
      expect(await code(q("DELETE FROM journey_steps WHERE id = $1", [stepId]))).toBe("23503");
      // Deleting the journey cascades through sessions to their delay rows.
      await q("DELETE FROM journey_scheduled_messages WHERE step_id = $1", [stepId]);
      await q("DELETE FROM journeys WHERE id = $1", [j]);
      expect(await q("SELECT 1 FROM journey_user_sessions WHERE id = $1", [sessionId])).toEqual([]);
    });
  });
});

describe("runMigrations", () => {
  const scratch: string[] = [];
  const scratchDb = () => {
    const name = `jt_${inject("runId")}_mig_${randomBytes(4).toString("hex")}`;
    scratch.push(name);
    return name;
  };
  afterAll(async () => {
    for (const name of scratch) await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  const tables = async () =>
    (
      await q<{ t: string }>(
        "SELECT table_schema || '.' || table_name AS t FROM information_schema.tables WHERE table_schema IN ('public', 'drizzle') ORDER BY 1",
      )
    ).map((r) => r.t);

  it("a second run on a migrated database is a no-op", async () => {
    const before = await tables();
    const [journal] = await q<{ n: number }>("SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations");
    await runMigrations(env.config.databaseUrl);
    expect(await tables()).toEqual(before);
    expect(await q("SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations")).toEqual([journal]);
  });

  it.each([
    ["an existing empty database", true],
    ["a database that does not exist yet", false],
  ])("two concurrent runs on %s both succeed", async (_name, createFirst) => {
    const name = scratchDb();
    if (createFirst) await adminQuery(`CREATE DATABASE "${name}"`);
    const url = databaseUrl(name);
    await Promise.all([runMigrations(url), runMigrations(url)]);
    const rows = await adminQuery<{ n: number }>("SELECT count(*)::int AS n FROM pg_database WHERE datname = $1", [
      name,
    ]);
    expect(rows).toEqual([{ n: 1 }]);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows: t } = await client.query<{ t: string }>(
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
      );
      expect(t.map((r) => r.t)).toEqual(TABLES);
      const { rows: j } = await client.query("SELECT count(*)::int AS n FROM drizzle.__drizzle_migrations");
      expect(j).toEqual([{ n: MIGRATIONS }]); // each migration recorded once, by one of the two runs
    } finally {
      await client.end();
    }
    await adminQuery(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
});
