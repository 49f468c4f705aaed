import { MAX_TEXT_LENGTH, type Step as StepRow, schema } from "@journeys/core";
import { Type } from "typebox";
import { iso, JsonObject, Nullable, StringEnum, Timestamp } from "./common.ts";

const CONFIG_DOC = [
  'message: { "text" }',
  'question: { "text", "answer_key", "validation": "number|text|country|money", "error_text"? }',
  'delay: { "min_minutes", "max_minutes" } (0 ≤ min ≤ max ≤ 43200)',
  "conditional: any object (stored; skipped at run time in v1)",
  `texts are at most ${MAX_TEXT_LENGTH} characters`,
].join("; ");

/** The whole list, in order. Configs are validated by the domain (400 with the reason). */
export const PutStepsBody = Type.Object(
  {
    steps: Type.Array(
      Type.Object(
        { step_type: StringEnum(schema.STEP_TYPES), config: JsonObject(CONFIG_DOC) },
        { additionalProperties: false },
      ),
      { maxItems: 200 },
    ),
  },
  { additionalProperties: false },
);

export const Step = Type.Object({
  id: Type.String(),
  journey_id: Type.String(),
  step_order: Type.Integer(),
  step_type: Type.String(),
  config: JsonObject(),
  created_at: Nullable(Timestamp),
});
export const StepList = Type.Object({ journey_id: Type.String(), steps: Type.Array(Step) });
export const PutStepsResult = Type.Object({
  journey_id: Type.String(),
  steps: Type.Array(Step),
  cancelled_session_ids: Type.Array(Type.String(), {
    description: "live sessions cancelled because the step they stood on was removed or changed type",
  }),
});

export function stepOut(s: StepRow) {
  return {
    id: s.id,
    journey_id: s.journeyId,
    step_order: s.stepOrder,
    step_type: s.stepType,
    config: s.config,
    created_at: iso(s.createdAt),
  };
}
