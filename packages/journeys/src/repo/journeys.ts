import { and, asc, desc, eq, inArray, isNull, ne, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import {
  type JourneyStatus,
  journeySteps,
  journeys,
  journeyTriggers,
  type ReEntryPolicy,
  type TriggerType,
  tenantBots,
} from "../db/schema.ts";
import { conflict, invalid, notFound } from "../errors.ts";
import { validateTrigger } from "../step-config.ts";
import { isUuid, journeyOfTenant, type Scope } from "./scope.ts";

export type Journey = typeof journeys.$inferSelect;
export type Trigger = typeof journeyTriggers.$inferSelect;

export interface JourneyFields {
  botId: string;
  name: string;
  description?: string | null;
  status?: JourneyStatus;
  reEntryPolicy?: ReEntryPolicy;
}

/** Serialises deep-link writes per bot so two journeys can never both claim one start_param. */
async function lockBotTriggers(s: Scope, botId: string) {
  await s.db.execute(sql`SELECT pg_advisory_xact_lock(hashtext(${`deeplink:${botId}`}))`);
}

export class JourneysRepo {
  constructor(private readonly s: Scope) {}

  /**
   * Run `fn` on a repository bound to a transaction (a savepoint when one is already open), so the
   * row lock and the deep-link advisory lock last until the write commits, whoever the caller is.
   */
  private inTransaction<T>(fn: (r: JourneysRepo) => Promise<T>): Promise<T> {
    return (this.s.db as Database).transaction((tx) => fn(new JourneysRepo({ ...this.s, db: tx })));
  }

  private async assertBot(botId: string) {
    const [bot] = await this.s.db
      .select({ botId: tenantBots.botId })
      .from(tenantBots)
      .where(and(eq(tenantBots.tenantId, this.s.tenantId), eq(tenantBots.botId, botId)));
    if (!bot) throw invalid(`bot_id "${botId}" is not a bot connected by this tenant`);
  }

  /** An active journey with no steps would start sessions that complete at once, sending nothing. */
  private async assertHasSteps(journeyId: string | null) {
    const [row] =
      journeyId === null
        ? []
        : await this.s.db
            .select({ id: journeySteps.id })
            .from(journeySteps)
            .where(and(eq(journeySteps.journeyId, journeyId), isNull(journeySteps.removedAt)))
            .limit(1);
    if (!row) {
      throw invalid(
        "a journey needs at least one step to be active: create it as draft, PUT its steps, then set status active",
      );
    }
  }

  async create(fields: JourneyFields): Promise<Journey> {
    await this.assertBot(fields.botId);
    if (fields.status === "active") await this.assertHasSteps(null);
    const [row] = await this.s.db
      .insert(journeys)
      .values({
        tenantId: this.s.tenantId,
        botId: fields.botId,
        name: fields.name,
        description: fields.description ?? null,
        status: fields.status ?? "draft",
        reEntryPolicy: fields.reEntryPolicy ?? "block",
      })
      .returning();
    return row!;
  }

  /** Newest first; a page of `limit` from `offset` when given (the id breaks ties, so pages are stable). */
  list(page: { limit?: number; offset?: number } = {}): Promise<Journey[]> {
    const q = this.s.db
      .select()
      .from(journeys)
      .where(eq(journeys.tenantId, this.s.tenantId))
      .orderBy(desc(journeys.createdAt), asc(journeys.id))
      .$dynamic();
    if (page.limit !== undefined) q.limit(page.limit);
    if (page.offset) q.offset(page.offset);
    return q;
  }

  async get(id: string, opts: { forUpdate?: boolean } = {}): Promise<Journey> {
    if (!isUuid(id)) throw notFound("journey");
    const q = this.s.db
      .select()
      .from(journeys)
      .where(and(eq(journeys.tenantId, this.s.tenantId), eq(journeys.id, id)));
    const [row] = opts.forUpdate ? await q.for("update") : await q;
    if (!row) throw notFound("journey");
    return row;
  }

  /** Partial update: only the fields given change. Activating re-checks deep-link uniqueness. */
  update(id: string, fields: Partial<JourneyFields>): Promise<Journey> {
    return this.inTransaction((r) => r.updateLocked(id, fields));
  }

  private async updateLocked(id: string, fields: Partial<JourneyFields>): Promise<Journey> {
    const current = await this.get(id, { forUpdate: true });
    if (fields.botId !== undefined && fields.botId !== current.botId) await this.assertBot(fields.botId);
    // Only these columns are updatable, whatever else a caller's object carries (tenant_id, id…).
    const { botId, name, description, status, reEntryPolicy } = fields;
    const changes = stripUndefined({ botId, name, description, status, reEntryPolicy });
    const next = { ...current, ...changes };
    if (next.status === "active") {
      await lockBotTriggers(this.s, next.botId);
      for (const t of await this.triggers(id)) {
        if (t.triggerType === "telegram_deeplink" && t.isActive) {
          await this.assertStartParamFree(next.botId, String(t.triggerConfig.start_param), id);
        }
      }
    }
    // After the deep-link check, so a clash is reported as such whatever the steps.
    if (changes.status === "active") await this.assertHasSteps(id);
    const [row] = await this.s.db
      .update(journeys)
      .set({ ...changes, updatedAt: sql`now()` })
      .where(and(eq(journeys.tenantId, this.s.tenantId), eq(journeys.id, id)))
      .returning();
    return row!;
  }

  async triggers(journeyId: string): Promise<Trigger[]> {
    if (!isUuid(journeyId)) return [];
    return this.s.db
      .select()
      .from(journeyTriggers)
      .where(and(eq(journeyTriggers.journeyId, journeyId), journeyOfTenant(this.s, journeyTriggers.journeyId)))
      .orderBy(asc(journeyTriggers.triggerType));
  }

  async listTriggers(journeyId: string): Promise<Trigger[]> {
    await this.get(journeyId);
    return this.triggers(journeyId);
  }

  /** Delete one trigger of the journey; NOT_FOUND when the journey or the trigger is not this tenant's. */
  async deleteTrigger(journeyId: string, triggerId: string): Promise<void> {
    await this.get(journeyId);
    if (!isUuid(triggerId)) throw notFound("trigger");
    const removed = await this.s.db
      .delete(journeyTriggers)
      .where(and(eq(journeyTriggers.id, triggerId), eq(journeyTriggers.journeyId, journeyId)))
      .returning({ id: journeyTriggers.id });
    if (removed.length === 0) throw notFound("trigger");
  }

  /** One trigger per (journey, trigger_type): insert it or replace its config and is_active. */
  upsertTrigger(
    journeyId: string,
    input: { triggerType: string; triggerConfig: unknown; isActive?: boolean },
  ): Promise<Trigger> {
    return this.inTransaction((r) => r.upsertTriggerLocked(journeyId, input));
  }

  private async upsertTriggerLocked(
    journeyId: string,
    input: { triggerType: string; triggerConfig: unknown; isActive?: boolean },
  ): Promise<Trigger> {
    const journey = await this.get(journeyId, { forUpdate: true });
    const { triggerType, config } = validateTrigger(input.triggerType, input.triggerConfig);
    const isActive = input.isActive ?? true;
    if (triggerType === "telegram_deeplink" && isActive) {
      await lockBotTriggers(this.s, journey.botId);
      if (journey.status === "active")
        await this.assertStartParamFree(journey.botId, String(config.start_param), journeyId);
    }
    const [existing] = await this.s.db
      .select()
      .from(journeyTriggers)
      .where(and(eq(journeyTriggers.journeyId, journeyId), eq(journeyTriggers.triggerType, triggerType)))
      .orderBy(asc(journeyTriggers.id))
      .limit(1);
    if (existing) {
      const [row] = await this.s.db
        .update(journeyTriggers)
        .set({ triggerConfig: config, isActive })
        .where(eq(journeyTriggers.id, existing.id))
        .returning();
      return row!;
    }
    const [row] = await this.s.db
      .insert(journeyTriggers)
      .values({ journeyId, triggerType, triggerConfig: config, isActive })
      .returning();
    return row!;
  }

  private async assertStartParamFree(botId: string, startParam: string, exceptJourneyId: string) {
    const [clash] = await this.s.db
      .select({ id: journeys.id, name: journeys.name })
      .from(journeyTriggers)
      .innerJoin(journeys, eq(journeys.id, journeyTriggers.journeyId))
      .where(
        and(
          eq(journeys.tenantId, this.s.tenantId),
          eq(journeys.botId, botId),
          eq(journeys.status, "active"),
          ne(journeys.id, exceptJourneyId),
          eq(journeyTriggers.triggerType, "telegram_deeplink"),
          eq(journeyTriggers.isActive, true),
          sql`${journeyTriggers.triggerConfig}->>'start_param' = ${startParam}`,
        ),
      )
      .limit(1);
    if (clash) {
      throw conflict(
        `start_param "${startParam}" is already used by active journey ${clash.id} ("${clash.name}") of bot ${botId}`,
      );
    }
  }

  /** The active journey of this tenant's bot whose active deep-link trigger has this start_param. */
  async activeByDeeplink(botId: string, startParam: string): Promise<Journey | null> {
    const [row] = await this.s.db
      .select({ journey: journeys })
      .from(journeyTriggers)
      .innerJoin(journeys, eq(journeys.id, journeyTriggers.journeyId))
      .where(
        and(
          eq(journeys.tenantId, this.s.tenantId),
          eq(journeys.botId, botId),
          eq(journeys.status, "active"),
          eq(journeyTriggers.triggerType, "telegram_deeplink" as TriggerType),
          eq(journeyTriggers.isActive, true),
          sql`${journeyTriggers.triggerConfig}->>'start_param' = ${startParam}`,
        ),
      )
      .orderBy(asc(journeys.createdAt))
      .limit(1);
    return row?.journey ?? null;
  }

  /** Live (not removed) steps of a journey, in order. */
  async steps(journeyId: string) {
    if (!isUuid(journeyId)) return [];
    return this.s.db
      .select()
      .from(journeySteps)
      .where(
        and(
          eq(journeySteps.journeyId, journeyId),
          journeyOfTenant(this.s, journeySteps.journeyId),
          isNull(journeySteps.removedAt),
        ),
      )
      .orderBy(asc(journeySteps.stepOrder));
  }

  async stepsByIds(ids: string[]) {
    if (ids.length === 0) return [];
    return this.s.db
      .select()
      .from(journeySteps)
      .where(and(inArray(journeySteps.id, ids), journeyOfTenant(this.s, journeySteps.journeyId)));
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
