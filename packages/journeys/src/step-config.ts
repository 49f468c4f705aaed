/**
 * Step and trigger configs are validated where the rule lives: here, on every write (SPEC §3).
 * A bad config is refused with the reason; nothing half-valid reaches the engine.
 */
import { STEP_TYPES, type StepType, TRIGGER_TYPES, type TriggerType } from "./db/schema.ts";
import { invalid } from "./errors.ts";
import { isValidationKind, VALIDATION_KINDS } from "./validation/index.ts";

/** Telegram refuses longer texts; we refuse them when the step is written, not when it is sent. */
export const MAX_TEXT_LENGTH = 4096;
export const MAX_DELAY_MINUTES = 30 * 24 * 60;
export const START_PARAM_RE = /^[A-Za-z0-9_-]{1,64}$/;
const ANSWER_KEY_RE = /^[A-Za-z0-9_.-]{1,64}$/;

export interface StepInput {
  step_type: string;
  config: unknown;
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function requireText(config: Record<string, unknown>, field: string, where: string): void {
  const v = config[field];
  if (typeof v !== "string" || v.trim() === "") throw invalid(`${where}: config.${field} must be a non-empty string`);
  if (v.length > MAX_TEXT_LENGTH) {
    throw invalid(`${where}: config.${field} is ${v.length} characters; Telegram allows at most ${MAX_TEXT_LENGTH}`);
  }
}

function minutes(config: Record<string, unknown>, field: string, where: string): number {
  const v = config[field];
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw invalid(`${where}: config.${field} must be a non-negative number of minutes`);
  }
  if (v > MAX_DELAY_MINUTES) throw invalid(`${where}: config.${field} must be at most ${MAX_DELAY_MINUTES} (30 days)`);
  return v;
}

export function validateStep(step: StepInput, index: number): { stepType: StepType; config: Record<string, unknown> } {
  const where = `steps[${index}]`;
  if (!(STEP_TYPES as readonly string[]).includes(step.step_type)) {
    throw invalid(`${where}: unknown step_type "${step.step_type}" (expected one of ${STEP_TYPES.join(", ")})`);
  }
  const stepType = step.step_type as StepType;
  if (!isObject(step.config)) throw invalid(`${where}: config must be an object`);
  const config = step.config;
  switch (stepType) {
    case "message":
      requireText(config, "text", where);
      break;
    case "question":
      requireText(config, "text", where);
      if (typeof config.answer_key !== "string" || !ANSWER_KEY_RE.test(config.answer_key)) {
        throw invalid(`${where}: config.answer_key must match ${ANSWER_KEY_RE.source}`);
      }
      if (!isValidationKind(config.validation)) {
        throw invalid(`${where}: config.validation must be one of ${VALIDATION_KINDS.join(", ")}`);
      }
      if (config.error_text !== undefined) requireText(config, "error_text", where);
      break;
    case "delay": {
      const min = minutes(config, "min_minutes", where);
      const max = minutes(config, "max_minutes", where);
      if (min > max) throw invalid(`${where}: config.min_minutes (${min}) must not exceed max_minutes (${max})`);
      break;
    }
    case "conditional":
      // Accepted and stored in v1; the engine skips it with a log line.
      break;
  }
  return { stepType, config };
}

export function validateSteps(steps: readonly StepInput[]) {
  if (!Array.isArray(steps)) throw invalid("steps must be an array");
  if (steps.length > 200) throw invalid("a journey has at most 200 steps");
  return steps.map((s, i) => validateStep(s, i));
}

export function validateTrigger(
  triggerType: string,
  triggerConfig: unknown,
): { triggerType: TriggerType; config: Record<string, unknown> } {
  if (!(TRIGGER_TYPES as readonly string[]).includes(triggerType)) {
    throw invalid(`unknown trigger_type "${triggerType}" (expected one of ${TRIGGER_TYPES.join(", ")})`);
  }
  if (!isObject(triggerConfig)) throw invalid("trigger_config must be an object");
  if (triggerType === "telegram_deeplink") {
    const p = triggerConfig.start_param;
    if (typeof p !== "string" || !START_PARAM_RE.test(p)) {
      throw invalid("trigger_config.start_param must match [A-Za-z0-9_-]{1,64}");
    }
  }
  return { triggerType: triggerType as TriggerType, config: triggerConfig };
}
