import { getTableColumns, getTableName, type Table } from "drizzle-orm";
import type pg from "pg";
import type { Executor } from "./client.ts";

/**
 * A statement on the hot paths (an answer, a fired delay, a send), run as a Postgres named
 * prepared statement: its text is written once here, not rebuilt by the query builder on every
 * call, and each connection parses it once and can reuse its plan. Everything else stays on
 * drizzle's builder.
 */
export interface Prepared {
  readonly name: string;
  readonly text: string;
}

const names = new Set<string>();

/**
 * `name` must be unique in the process: pg refuses two texts under one statement name. The text is
 * joined into one line, so a `--` comment would swallow the rest of the statement: none allowed.
 */
export function prepared(name: string, text: string): Prepared {
  if (names.has(name)) throw new Error(`prepared statement ${name} defined twice`);
  if (text.includes("--")) throw new Error(`prepared statement ${name}: no -- comments (the text becomes one line)`);
  names.add(name);
  return { name: `journeys_${name}`, text: text.replace(/\s+/g, " ").trim() };
}

/**
 * The pg connection behind a drizzle handle: the pool for the database, the checked-out client for
 * an open transaction (so the statement runs inside it). drizzle keeps it on its session.
 */
function clientOf(db: Executor): pg.Pool | pg.PoolClient {
  const client = (db._.session as unknown as { client?: pg.Pool | pg.PoolClient }).client;
  if (!client || typeof client.query !== "function") {
    throw new Error("no pg client behind this drizzle handle (drizzle-orm internals changed?)");
  }
  return client;
}

/** Run a prepared statement on `db` (pool or open transaction); rows as pg returns them. */
export async function runPrepared<R>(db: Executor, statement: Prepared, values: unknown[]): Promise<R[]> {
  const result = await clientOf(db).query({ name: statement.name, text: statement.text, values });
  return result.rows as R[];
}

/**
 * `alias.column AS "key"` for every column of `table`, so a raw row has drizzle's shape: pg already
 * gives Date for timestamptz, objects for jsonb and (see client.ts) numbers for bigint.
 */
export function columnsOf(table: Table, alias = getTableName(table)): string {
  return Object.entries(getTableColumns(table))
    .map(([key, column]) => `${alias}.${column.name} AS "${key}"`)
    .join(", ");
}
