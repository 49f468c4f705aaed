/**
 * Once per test run: migrate a template database that every test file copies (CREATE DATABASE …
 * TEMPLATE is far faster than migrating per file), and drop everything this run created at the end.
 */
import type { TestProject } from "vitest/node";
import { runMigrations } from "../../packages/journeys/src/db/migrate.ts";
import { ADMIN_URL, adminQuery, databaseUrl } from "./pg.ts";

declare module "vitest" {
  export interface ProvidedContext {
    templateDb: string;
    runId: string;
  }
}

export default async function setup(project: TestProject) {
  const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
  const templateDb = `jt_${runId}_template`;
  await adminQuery(`CREATE DATABASE "${templateDb}"`);
  await runMigrations(databaseUrl(templateDb), { createDatabase: false });
  project.provide("templateDb", templateDb);
  project.provide("runId", runId);
  return async () => {
    const rows = await adminQuery<{ datname: string }>(
      `SELECT datname FROM pg_database WHERE datname LIKE 'jt\\_${runId}\\_%'`,
    );
    for (const { datname } of rows) await adminQuery(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
  };
}

export { ADMIN_URL };
