import { MAX_TEXT_LENGTH, type Step as StepRow, schema } from "@journeys/core";
import { Type } from "typebox";
import { iso, JsonObject, Nullable, StringEnum, Timestamp } from "./common.ts";

const CONFIG_DOC = [
  'message: { "text", "buttons"?: [{ "text", "url" (https) }] }',
  'question: { "text", "answer_key", "validation": "number|text|country|money|choice|phone|email", "error_text"?, "options"?: [{ "label", "value" }] (choice; country optional), "default_region"? (phone) }',
  'delay: { "min_minutes", "max_minutes" } (0 ≤ min ≤ max ≤ 43200)',
  'conditional: { "branches": [{ "when": <JSON Logic rule>, "goto": "<step key>" | "end" }], "else"?: "<step key>" | "end" }',
  `texts are LiquidJS templates of at most ${MAX_TEXT_LENGTH} characters; see docs/journeys.md`,
].join("; ");
const StepKey = Type.String({
  pattern: "^[a-z0-9_]{1,64}$",
  description: "optional stable name of the step, unique in the journey: a conditional's goto target",
});
const Warning = Type.Object({
  step_index: Type.Integer({ description: "position in the steps list, from 0" }),
  field: Type.String(),
  message: Type.String(),
});

/** The whole list, in order. Configs are validated by the domain (400 with the reason). */
export const PutStepsBody = Type.Object(
  {
    steps: Type.Array(
      Type.Object(
        {
          step_type: StringEnum(schema.STEP_TYPES),
          config: JsonObject(CONFIG_DOC),
          key: Type.Optional(Nullable(StepKey)),
        },
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
  key: Nullable(Type.String()),
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
  warnings: Type.Array(Warning, {
    description: "accepted, but worth a look: e.g. an answer a rule or text reads that some paths never set",
  }),
});

export function stepOut(s: StepRow) {
  return {
    id: s.id,
    journey_id: s.journeyId,
    step_order: s.stepOrder,
    step_type: s.stepType,
    key: s.key ?? null,
    config: s.config,
    created_at: iso(s.createdAt),
  };
}
