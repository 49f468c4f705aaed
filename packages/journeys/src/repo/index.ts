import { sql } from "drizzle-orm";
import type { Database, Executor } from "../db/client.ts";
import type { StepInput } from "../step-config.ts";
import { BotsRepo } from "./bots.ts";
import { JourneysRepo } from "./journeys.ts";
import { OutboxRepo } from "./outbox.ts";
import { ScheduledRepo } from "./scheduled.ts";
import type { Scope } from "./scope.ts";
import { SessionsRepo } from "./sessions.ts";
import { setSteps } from "./steps.ts";
import { UpdatesRepo } from "./updates.ts";

export { type ApplyOutcome, applyTransition, journeyOf, type SessionRead, stateOf } from "./applier.ts";
export type { BotCredentials, BotSummary } from "./bots.ts";
export { readSteps, StepsCache, stepsCache } from "./journey-defs.ts";
export type { Journey, JourneyFields, Trigger } from "./journeys.ts";
export { type OutboxClaim, OutboxLeases, type OutboxMessage } from "./outbox.ts";
export type { ScheduledMessage } from "./scheduled.ts";
export type { Session } from "./sessions.ts";
export type { SetStepsResult, Step } from "./steps.ts";
export { SystemRepo } from "./system.ts";
export { pruneProcessedUpdates } from "./updates.ts";

/**
 * Everything one tenant may read or write, bound to that tenant once. Built from a verified JWT,
 * a tenant_bots row or a job's row — never from a request body — so no query can forget the
 * tenant filter. One repository per table; `transaction` hands the callback a repository bound to
 * the same tenant on the open transaction (nested calls become savepoints).
 */
export class TenantRepository {
  readonly journeys: JourneysRepo;
  readonly sessions: SessionsRepo;
  readonly scheduled: ScheduledRepo;
  readonly outbox: OutboxRepo;
  readonly updates: UpdatesRepo;
  readonly bots: BotsRepo;
  private readonly scope: Scope;

  constructor(db: Executor, tenantId: string, encryptionKey: Buffer) {
    if (!tenantId) throw new Error("a tenant repository needs a tenant id");
    this.scope = { db, tenantId, encryptionKey };
    this.journeys = new JourneysRepo(this.scope);
    this.sessions = new SessionsRepo(this.scope);
    this.scheduled = new ScheduledRepo(this.scope);
    this.outbox = new OutboxRepo(this.scope);
    this.updates = new UpdatesRepo(this.scope);
    this.bots = new BotsRepo(this.scope);
  }

  get tenantId(): string {
    return this.scope.tenantId;
  }

  transaction<T>(fn: (repo: TenantRepository) => Promise<T>): Promise<T> {
    return (this.scope.db as Database).transaction((tx) =>
      fn(new TenantRepository(tx, this.scope.tenantId, this.scope.encryptionKey)),
    );
  }

  /** A transaction-scoped advisory lock on `key` (namespaced by tenant). */
  async lock(key: string): Promise<void> {
    await this.scope.db.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`${this.scope.tenantId}:${key}`}))`);
  }

  setSteps(journeyId: string, steps: readonly StepInput[]) {
    return this.transaction((r) => setSteps(r.scope, r.journeys, r.sessions, journeyId, steps));
  }

  async listSteps(journeyId: string) {
    await this.journeys.get(journeyId);
    return this.journeys.steps(journeyId);
  }
}
