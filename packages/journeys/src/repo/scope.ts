import { sql } from "drizzle-orm";
import type { AnyPgColumn } from "drizzle-orm/pg-core";
import type { Executor } from "../db/client.ts";
import { journeys } from "../db/schema.ts";

/**
 * What every tenant-scoped query runs with: the executor (pool or open transaction) and the one
 * tenant it may touch. Built once per request, update or job; never from a request body.
 */
export interface Scope {
  readonly db: Executor;
  readonly tenantId: string;
  readonly encryptionKey: Buffer;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids come from URLs: a malformed one is simply not found (never a Postgres cast error). */
export const isUuid = (id: string) => UUID_RE.test(id);
/** A tenant_bots.bot_id as its check constraint allows it (so also safe in a URL path). */
export const isBotId = (id: string) => /^[A-Za-z0-9_-]{1,64}$/.test(id);

/** Steps and triggers carry no tenant_id: they belong to the tenant when their journey does. */
export const journeyOfTenant = (s: Scope, journeyIdColumn: AnyPgColumn) =>
  sql`EXISTS (SELECT 1 FROM ${journeys} WHERE ${journeys.id} = ${journeyIdColumn} AND ${journeys.tenantId} = ${s.tenantId})`;
