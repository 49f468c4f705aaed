import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import type { ApiDeps } from "../../deps.ts";
import { HttpError } from "../../plugins/errors.ts";
import { bearer, errors, IdParams } from "../../schemas/common.ts";
import { PutStepsBody, PutStepsResult, StepList, stepOut } from "../../schemas/steps.ts";
import { tenantRepo } from "./tenant-repo.ts";

const tags = ["journeys"];

export function stepRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/journeys/:id/steps",
      {
        schema: {
          tags,
          summary: "The journey's steps, in order",
          security: bearer,
          params: IdParams,
          response: { 200: StepList, ...errors(404) },
        },
      },
      async (req) => {
        const steps = await tenantRepo(deps, req).listSteps(req.params.id);
        return { journey_id: req.params.id, steps: steps.map(stepOut) };
      },
    );

    app.put(
      "/journeys/:id/steps",
      {
        schema: {
          tags,
          summary: "Replace the journey's steps (updated in place by position; ids stay stable)",
          description:
            "A live session standing on a removed step, or on a step whose type changed, is cancelled " +
            "with its pending messages; their ids are returned in cancelled_session_ids.",
          security: bearer,
          params: IdParams,
          body: PutStepsBody,
          response: { 200: PutStepsResult, ...errors(400, 404, 413, 415) },
        },
      },
      async (req) => {
        const repo = tenantRepo(deps, req);
        if (req.body.steps.length === 0 && (await repo.journeys.get(req.params.id)).status === "active") {
          throw new HttpError(400, "an active journey needs at least one step: pause it (status paused) first");
        }
        const result = await repo.setSteps(req.params.id, req.body.steps);
        return {
          journey_id: req.params.id,
          steps: result.steps.map(stepOut),
          cancelled_session_ids: result.cancelledSessionIds,
          warnings: result.warnings.map((w) => ({ step_index: w.index, field: w.field, message: w.message })),
        };
      },
    );
  };
}
