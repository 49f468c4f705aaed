import { fileURLToPath } from "node:url";
import { drizzle } from "drizzle-orm/node-postgres";
import { migrate } from "drizzle-orm/node-postgres/migrator";
import pg from "pg";

/**
 * Run from sources this module is packages/journeys/src/db/migrate.ts and drizzle/ is at the
 * repository root; bundled by `npm run build` it is inside dist/<entry>.js, with drizzle/ copied beside it.
 */
const FROM_SOURCES = import.meta.url.endsWith(".ts");
export const MIGRATIONS_DIR = fileURLToPath(
  new URL(FROM_SOURCES ? "../../../../drizzle" : "./drizzle", import.meta.url),
);

/** Lock id shared by every process that migrates, so replicas starting together take turns. */
const MIGRATION_LOCK = 73_620_001;

/** Create the database named in `url` when it does not exist (connecting to `postgres` to do so). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ""));
  if (!name) throw new Error("DATABASE_URL names no database");
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const client = new pg.Client({ connectionString: admin.toString(), connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    const found = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (found.rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    } catch (err) {
      // Another process created it between our check and our CREATE: 42P04, or 23505 on
      // pg_database's unique index when both CREATEs run at the same moment.
      const code = (err as { code?: string }).code;
      if (code !== "42P04" && code !== "23505") throw err;
      return false;
    }
    return true;
  } finally {
    await client.end();
  }
}

/** Apply the committed drizzle/ migrations; idempotent and safe to run from several processes at once. */
export async function runMigrations(url: string, opts: { createDatabase?: boolean } = {}): Promise<void> {
  if (opts.createDatabase !== false) await ensureDatabase(url);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await migrate(drizzle(client), { migrationsFolder: MIGRATIONS_DIR });
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]);
  } finally {
    await client.end();
  }
}
