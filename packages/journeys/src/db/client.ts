import { drizzle, type NodePgDatabase } from "drizzle-orm/node-postgres";
import pg from "pg";
import * as schema from "./schema.ts";

export type Database = NodePgDatabase<typeof schema>;
export type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];
/** Anything queries can run on: the pool-backed database or an open transaction. */
export type Executor = Database | Tx;

export interface DbHandle {
  db: Database;
  pool: pg.Pool;
  close(): Promise<void>;
}

// bigint columns (telegram ids) are declared mode:"number"; COUNT(*) etc. come back as strings otherwise.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export function createDb(url: string, opts: { max?: number; logErrors?: (err: Error) => void } = {}): DbHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: 5000,
    idleTimeoutMillis: 30000,
  });
  // An idle client losing its connection (Postgres restart) must not crash the process.
  pool.on("error", (err) => opts.logErrors?.(err));
  // Nor may a checked-out one: pg-pool listens for errors only on idle clients, and a client whose
  // connection drops mid-transaction emits 'error' with no listener — an uncaught exception. Its
  // query fails anyway (the transaction is retried or answered 5xx) and the pool discards it on release.
  pool.on("connect", (client) => client.on("error", (err) => opts.logErrors?.(err)));
  const db = drizzle(pool, { schema });
  return { db, pool, close: () => pool.end() };
}
