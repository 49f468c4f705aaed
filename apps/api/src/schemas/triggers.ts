import { schema, type Trigger as TriggerRow } from "@journeys/core";
import { Type } from "typebox";
import { JsonObject, StringEnum } from "./common.ts";

export const TriggerBody = Type.Object(
  {
    trigger_type: StringEnum(schema.TRIGGER_TYPES),
    trigger_config: JsonObject('for telegram_deeplink: { "start_param": "[A-Za-z0-9_-]{1,64}" }'),
    is_active: Type.Optional(Type.Boolean({ default: true })),
  },
  { additionalProperties: false },
);

export const Trigger = Type.Object({
  id: Type.String(),
  journey_id: Type.String(),
  trigger_type: Type.String(),
  trigger_config: JsonObject(),
  is_active: Type.Boolean(),
});

export function triggerOut(t: TriggerRow) {
  return {
    id: t.id,
    journey_id: t.journeyId,
    trigger_type: t.triggerType,
    trigger_config: t.triggerConfig,
    is_active: t.isActive ?? true,
  };
}
