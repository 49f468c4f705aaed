import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { Type } from "typebox";
import type { ApiDeps } from "../../deps.ts";
import { bearer, errors, IdParams } from "../../schemas/common.ts";
import {
  CreateJourneyBody,
  JOURNEY_PAGE_DEFAULT,
  Journey,
  JourneyDetail,
  JourneyList,
  JourneyListQuery,
  journeyFields,
  journeyOut,
  UpdateJourneyBody,
} from "../../schemas/journeys.ts";
import { Trigger, TriggerBody, triggerOut } from "../../schemas/triggers.ts";
import { tenantRepo } from "./tenant-repo.ts";

const tags = ["journeys"];

export function journeyRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/journeys",
      {
        schema: {
          tags,
          summary: "List journeys, newest first, a page at a time",
          description: "Pages of `limit` (default 50) from `offset`; `next_offset` is null on the last page.",
          security: bearer,
          querystring: JourneyListQuery,
          response: { 200: JourneyList, ...errors(400) },
        },
      },
      async (req) => {
        const limit = req.query.limit ?? JOURNEY_PAGE_DEFAULT;
        const offset = req.query.offset ?? 0;
        // One row more than the page tells whether another page follows.
        const rows = await tenantRepo(deps, req).journeys.list({ limit: limit + 1, offset });
        return {
          journeys: rows.slice(0, limit).map(journeyOut),
          next_offset: rows.length > limit ? offset + limit : null,
        };
      },
    );

    app.post(
      "/journeys",
      {
        schema: {
          tags,
          summary: "Create a journey",
          security: bearer,
          body: CreateJourneyBody,
          response: { 201: Journey, ...errors(400, 413, 415) },
        },
      },
      async (req, reply) => {
        const fields = { ...journeyFields(req.body), botId: req.body.bot_id, name: req.body.name };
        const journey = await tenantRepo(deps, req).journeys.create(fields);
        return reply.status(201).send(journeyOut(journey));
      },
    );

    app.get(
      "/journeys/:id",
      {
        schema: {
          tags,
          summary: "A journey with its triggers",
          security: bearer,
          params: IdParams,
          response: { 200: JourneyDetail, ...errors(404) },
        },
      },
      async (req) => {
        const repo = tenantRepo(deps, req);
        const journey = await repo.journeys.get(req.params.id);
        const triggers = await repo.journeys.triggers(journey.id);
        return { ...journeyOut(journey), triggers: triggers.map(triggerOut) };
      },
    );

    app.put(
      "/journeys/:id",
      {
        schema: {
          tags,
          summary: "Update a journey partially: only the fields sent change",
          security: bearer,
          params: IdParams,
          body: UpdateJourneyBody,
          response: { 200: JourneyDetail, ...errors(400, 404, 409, 413, 415) },
        },
      },
      async (req) => {
        const repo = tenantRepo(deps, req);
        const journey = await repo.journeys.update(req.params.id, journeyFields(req.body));
        const triggers = await repo.journeys.triggers(journey.id);
        return { ...journeyOut(journey), triggers: triggers.map(triggerOut) };
      },
    );

    app.post(
      "/journeys/:id/triggers",
      {
        schema: {
          tags,
          summary: "Create or replace the journey's trigger of this trigger_type",
          description: "A deep-link start_param already used by another active journey of the bot answers 409.",
          security: bearer,
          params: IdParams,
          body: TriggerBody,
          response: { 200: Trigger, ...errors(400, 404, 409, 413, 415) },
        },
      },
      async (req) => {
        const { trigger_type, trigger_config, is_active } = req.body;
        const trigger = await tenantRepo(deps, req).journeys.upsertTrigger(req.params.id, {
          triggerType: trigger_type,
          triggerConfig: trigger_config,
          isActive: is_active,
        });
        return triggerOut(trigger);
      },
    );

    app.delete(
      "/journeys/:id",
      {
        schema: {
          tags,
          summary: "Archive a journey: it starts no new sessions (history and live sessions are kept)",
          description: "Archiving is how a journey is removed: its sessions and answers stay readable.",
          security: bearer,
          params: IdParams,
          response: { 200: JourneyDetail, ...errors(404) },
        },
      },
      async (req) => {
        const repo = tenantRepo(deps, req);
        const journey = await repo.journeys.update(req.params.id, { status: "archived" });
        const triggers = await repo.journeys.triggers(journey.id);
        return { ...journeyOut(journey), triggers: triggers.map(triggerOut) };
      },
    );

    app.delete(
      "/journeys/:id/triggers/:triggerId",
      {
        schema: {
          tags,
          summary: "Delete one of the journey's triggers",
          security: bearer,
          params: Type.Object({ ...IdParams.properties, triggerId: Type.String({ description: "trigger id (uuid)" }) }),
          response: { 204: { description: "deleted", type: "null" }, ...errors(404) },
        },
      },
      async (req, reply) => {
        await tenantRepo(deps, req).journeys.deleteTrigger(req.params.id, req.params.triggerId);
        return reply.status(204).send(null);
      },
    );
  };
}
