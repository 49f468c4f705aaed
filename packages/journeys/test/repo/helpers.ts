/** Shared by the repository tests: tenants, error assertions, a small journey world, row snapshots. */
import { expect } from "vitest";
import type { TestEnv } from "../../../../test/support/context.ts";
import { tenantWithJourney } from "../../../../test/support/fixtures.ts";
import { insertOutbox, insertScheduled, insertSession } from "../../../../test/support/rows.ts";
import { transition } from "../../src/engine/transition.ts";
import type { Clock, EngineEvent } from "../../src/engine/types.ts";
import { DomainError, type ErrorCode } from "../../src/errors.ts";
import { stateOf, type TenantRepository } from "../../src/repo/index.ts";

export { FOUR_STEPS, newTenant } from "../../../../test/support/fixtures.ts";

let nextUser = 500_000_000 + Math.floor(Math.random() * 1_000_000) * 100;
/** A Telegram user id nobody else in this run uses. */
export const newUser = () => nextUser++;

/** The promise rejects with a DomainError of `code` (and a message matching `message`). */
export async function expectDomainError(p: Promise<unknown>, code: ErrorCode, message?: RegExp): Promise<DomainError> {
  const err = await p.then(
    () => new Error("expected a rejection, got a value"),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  expect((err as DomainError).code).toBe(code);
  if (message) expect((err as DomainError).message).toMatch(message);
  return err as DomainError;
}

/** The Postgres SQLSTATE the promise rejects with (undefined when it resolves). */
export async function pgErrorCode(p: Promise<unknown>): Promise<string | undefined> {
  return p.then(
    () => undefined,
    (e: { code?: string; cause?: { code?: string } }) => e.code ?? e.cause?.code ?? "no code",
  );
}

/**
 * tenantWithJourney() (FOUR_STEPS, active, a deep link) and one live session on step 1 with a
 * pending delay row and a pending outbox row, written as rows.
 */
export async function world(env: TestEnv, opts: { tenantId?: string; startParam?: string } = {}) {
  const ctx = await tenantWithJourney(env, opts);
  const { tenantId, bot, steps } = ctx;
  const user = newUser();
  const session = await insertSession(env, {
    tenantId,
    journeyId: ctx.journey.id,
    userId: user,
    currentStepId: steps[0]!.id,
  });
  const scheduled = await insertScheduled(env, {
    tenantId,
    sessionId: session.id,
    stepId: steps[0]!.id,
    chatId: user,
    payload: { text: "later" },
    scheduledFor: new Date(Date.now() + 3_600_000),
  });
  const outbox = await insertOutbox(env, {
    tenantId,
    botId: bot.botId,
    sessionId: session.id,
    chatId: user,
    text: "hi",
  });
  return { ...ctx, startParam: ctx.startParam!, trigger: ctx.trigger!, user, session, scheduled, outbox };
}

/**
 * Move a session as the product does under its locks: lock it, run transition() on `event`, apply
 * the result. Returns both (the result as decided, what the applier wrote).
 */
export function transitionLocked(
  repo: TenantRepository,
  sessionId: string,
  event: EngineEvent,
  clock: Clock = { now: new Date(), random: () => 0.5 },
) {
  return repo.transaction(async (r) => {
    const read = await r.sessions.lock(sessionId);
    if (!read) throw new Error(`session ${sessionId} is not this tenant's`);
    const result = transition(await r.sessions.journeyOf(read), stateOf(read), event, clock);
    return { result, applied: await r.sessions.apply(result, { botId: read.botId }) };
  });
}

/**
 * Every row that belongs to, or points at, one tenant's data (rows another tenant inserted
 * against this tenant's ids included), as JSON: equal before and after means nothing changed.
 */
export async function snapshot(env: TestEnv, tenantId: string): Promise<unknown> {
  const { rows } = await env.handle.pool.query(
    `WITH j AS (SELECT id FROM journeys WHERE tenant_id = $1),
          b AS (SELECT bot_id FROM tenant_bots WHERE tenant_id = $1),
          s AS (SELECT id FROM journey_user_sessions WHERE tenant_id = $1 OR journey_id IN (SELECT id FROM j))
     SELECT json_build_object(
       'bots', (SELECT json_agg(x ORDER BY x.bot_id) FROM tenant_bots x WHERE x.bot_id IN (SELECT bot_id FROM b)),
       'journeys', (SELECT json_agg(x ORDER BY x.id) FROM journeys x WHERE x.id IN (SELECT id FROM j)),
       'triggers', (SELECT json_agg(x ORDER BY x.id) FROM journey_triggers x WHERE x.journey_id IN (SELECT id FROM j)),
       'steps', (SELECT json_agg(x ORDER BY x.id) FROM journey_steps x WHERE x.journey_id IN (SELECT id FROM j)),
       'sessions', (SELECT json_agg(x ORDER BY x.id) FROM journey_user_sessions x WHERE x.id IN (SELECT id FROM s)),
       'scheduled', (SELECT json_agg(x ORDER BY x.id) FROM journey_scheduled_messages x
                     WHERE x.tenant_id = $1 OR x.session_id IN (SELECT id FROM s)),
       'outbox', (SELECT json_agg(x ORDER BY x.id) FROM journey_outbox x
                  WHERE x.tenant_id = $1 OR x.session_id IN (SELECT id FROM s) OR x.bot_id IN (SELECT bot_id FROM b)),
       'updates', (SELECT json_agg(x ORDER BY x.update_id) FROM processed_updates x WHERE x.bot_id IN (SELECT bot_id FROM b))
     ) AS snap`,
    [tenantId],
  );
  return rows[0].snap;
}

const advisoryWaiters = async (env: TestEnv) =>
  (
    await env.handle.pool.query(
      `SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
         AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    )
  ).rowCount ?? 0;

/**
 * Whether `p` (a transaction taking an advisory lock) completes, or instead waits for a lock
 * another transaction holds. Polls pg_locks; gives up (throws) after 10 s.
 */
export async function acquiredOrBlocked(env: TestEnv, p: Promise<unknown>): Promise<"acquired" | "blocked"> {
  let done = false;
  p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; ) {
    if (done) return "acquired";
    if ((await advisoryWaiters(env)) > 0) return done ? "acquired" : "blocked";
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error("neither acquired nor blocked within 10 s");
}

/** A promise plus its resolve function, to hold a transaction open. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((r) => {
    open = r;
  });
  return { wait, open };
}
