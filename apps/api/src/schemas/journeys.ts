import { type Journey as JourneyRow, schema } from "@journeys/core";
import { Type } from "typebox";
import { BotId, iso, Nullable, StringEnum, Timestamp } from "./common.ts";
import { Trigger } from "./triggers.ts";

const Status = StringEnum(schema.JOURNEY_STATUSES, "default draft");
const ReEntryPolicy = StringEnum(schema.RE_ENTRY_POLICIES, "default block");
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Description = Nullable(Type.String({ maxLength: 5000 }));

export const CreateJourneyBody = Type.Object(
  {
    bot_id: BotId("a bot this tenant connected (POST /api/bots)"),
    name: Name,
    description: Type.Optional(Description),
    status: Type.Optional(Status),
    re_entry_policy: Type.Optional(ReEntryPolicy),
  },
  { additionalProperties: false },
);

/** Partial update: only the fields sent change. */
export const UpdateJourneyBody = Type.Object(
  {
    bot_id: Type.Optional(BotId("a bot this tenant connected")),
    name: Type.Optional(Name),
    description: Type.Optional(Description),
    status: Type.Optional(Status),
    re_entry_policy: Type.Optional(ReEntryPolicy),
  },
  { additionalProperties: false, minProperties: 1 },
);

export const Journey = Type.Object({
  id: Type.String(),
  tenant_id: Type.String(),
  bot_id: Type.String(),
  name: Type.String(),
  description: Nullable(Type.String()),
  status: Type.String(),
  re_entry_policy: Type.String(),
  created_at: Nullable(Timestamp),
  updated_at: Nullable(Timestamp),
});
export const JOURNEY_PAGE_DEFAULT = 50;
export const JourneyListQuery = Type.Object(
  {
    limit: Type.Optional(
      Type.Integer({ minimum: 1, maximum: 200, default: JOURNEY_PAGE_DEFAULT, description: "page size (1–200)" }),
    ),
    offset: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 1_000_000,
        default: 0,
        description: "journeys to skip (next_offset of the page before)",
      }),
    ),
  },
  { additionalProperties: false },
);
export const JourneyList = Type.Object({
  journeys: Type.Array(Journey),
  next_offset: Nullable(Type.Integer({ description: "offset of the next page; null on the last page" })),
});
/** One journey with its triggers (there is no separate trigger listing). */
export const JourneyDetail = Type.Object({ ...Journey.properties, triggers: Type.Array(Trigger) });

export function journeyOut(j: JourneyRow) {
  return {
    id: j.id,
    tenant_id: j.tenantId,
    bot_id: j.botId,
    name: j.name,
    description: j.description,
    status: j.status,
    re_entry_policy: j.reEntryPolicy,
    created_at: iso(j.createdAt),
    updated_at: iso(j.updatedAt),
  };
}

/** Body (snake_case) → repository fields (camelCase); absent fields stay absent. */
export function journeyFields(body: {
  bot_id?: string;
  name?: string;
  description?: string | null;
  status?: schema.JourneyStatus;
  re_entry_policy?: schema.ReEntryPolicy;
}) {
  return {
    botId: body.bot_id,
    name: body.name,
    description: body.description,
    status: body.status,
    reEntryPolicy: body.re_entry_policy,
  };
}
