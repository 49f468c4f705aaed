/**
 * Step and trigger configs are validated where the rule lives: here, on every write (SPEC §3).
 * A bad config is refused with the reason; nothing half-valid reaches the engine.
 */
import { STEP_TYPES, type StepType, TRIGGER_TYPES, type TriggerType } from "./db/schema.ts";
import { invalid } from "./errors.ts";
import { checkFlow, type FlowProblem } from "./flow/index.ts";
import { labelKey } from "./validation/choice.ts";
import { isCountryCode } from "./validation/country.ts";
import { isValidationKind, VALIDATION_KINDS, type ValidationKind } from "./validation/index.ts";
import { isPhoneRegion } from "./validation/phone.ts";

/** Telegram refuses longer texts; we refuse them when the step is written, not when it is sent. */
export const MAX_TEXT_LENGTH = 4096;
export const MAX_DELAY_MINUTES = 30 * 24 * 60;
export const START_PARAM_RE = /^[A-Za-z0-9_-]{1,64}$/;
const ANSWER_KEY_RE = /^[A-Za-z0-9_.-]{1,64}$/;
/** A choice question's buttons: Telegram shows each on an inline keyboard. */
export const MAX_OPTIONS = 100;
export const MAX_OPTION_LABEL = 64;
export const MAX_OPTION_VALUE = 64;
const OPTION_FIELDS = ["label", "value"];

export interface StepInput {
  step_type: string;
  config: unknown;
  /** Optional stable name (`[a-z0-9_]{1,64}`, unique in the journey): goto targets, reports. */
  key?: string | null;
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

/** Code points, so an emoji in a label counts as one character, not two UTF-16 units. */
const length = (s: string) => [...s].length;

/**
 * `options`: required by choice questions, allowed on country questions (buttons whose values are
 * country codes, while typed names still work), refused elsewhere. Values are unique, and so are
 * labels as typed answers compare them (case and spaces ignored), so a typed answer names one option.
 */
function questionOptions(config: Record<string, unknown>, kind: ValidationKind, where: string): void {
  const options = config.options;
  if (options === undefined) {
    if (kind === "choice") throw invalid(`${where}: config.options is required for a choice question`);
    return;
  }
  if (kind !== "choice" && kind !== "country") {
    throw invalid(`${where}: config.options is only for choice and country questions`);
  }
  if (!Array.isArray(options) || options.length < 1 || options.length > MAX_OPTIONS) {
    throw invalid(`${where}: config.options must be an array of 1–${MAX_OPTIONS} {label, value} options`);
  }
  const labels = new Map<string, number>();
  const values = new Map<string, number>();
  options.forEach((option: unknown, i) => {
    const at = `${where}: config.options[${i}]`;
    if (!isObject(option)) throw invalid(`${at} must be an object with label and value`);
    const extra = Object.keys(option).find((k) => !OPTION_FIELDS.includes(k));
    if (extra !== undefined) throw invalid(`${at} has an unknown field "${extra}" (allowed: label, value)`);
    const { label, value } = option;
    if (typeof label !== "string" || label.trim() === "" || length(label.trim()) > MAX_OPTION_LABEL) {
      throw invalid(`${at}.label must be 1–${MAX_OPTION_LABEL} characters`);
    }
    if (typeof value !== "string" || value.trim() === "" || length(value) > MAX_OPTION_VALUE) {
      throw invalid(`${at}.value must be a non-empty string of at most ${MAX_OPTION_VALUE} characters`);
    }
    if (kind === "country" && !isCountryCode(value)) {
      throw invalid(`${at}.value must be an ISO 3166-1 alpha-2 country code in capitals, e.g. DE`);
    }
    const sameValue = values.get(value);
    if (sameValue !== undefined) throw invalid(`${at}.value "${value}" repeats options[${sameValue}].value`);
    values.set(value, i);
    const key = labelKey(label);
    const sameLabel = labels.get(key);
    if (sameLabel !== undefined) throw invalid(`${at}.label "${label.trim()}" repeats options[${sameLabel}].label`);
    labels.set(key, i);
  });
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
      questionOptions(config, config.validation, where);
      if (config.default_region !== undefined) {
        if (config.validation !== "phone") throw invalid(`${where}: config.default_region is only for phone questions`);
        if (!isCountryCode(config.default_region) || !isPhoneRegion(config.default_region)) {
          throw invalid(`${where}: config.default_region must be an ISO 3166-1 alpha-2 code in capitals, e.g. DE`);
        }
      }
      break;
    case "delay": {
      const min = minutes(config, "min_minutes", where);
      const max = minutes(config, "max_minutes", where);
      if (min > max) throw invalid(`${where}: config.min_minutes (${min}) must not exceed max_minutes (${max})`);
      break;
    }
    case "conditional":
      // Its branches, rules and targets are checked with the whole journey (checkJourneySteps).
      break;
  }
  return { stepType, config };
}

export function validateSteps(steps: readonly StepInput[]) {
  if (!Array.isArray(steps)) throw invalid("steps must be an array");
  if (steps.length > 200) throw invalid("a journey has at most 200 steps");
  return steps.map((s, i) => validateStep(s, i));
}

/** A step that passed every check: what is stored. */
export interface CheckedStep {
  stepType: StepType;
  config: Record<string, unknown>;
  key: string | null;
}

/**
 * A journey's steps checked one by one (validateSteps) and then together (flow/graph.ts: keys, goto
 * targets, rules, templates, link buttons, loops that would spin, answers read where no question
 * sets them). The first error is refused with 400 as `steps[i].field: problem`; answers set on some
 * paths only come back as warnings.
 */
export function checkJourneySteps(input: readonly StepInput[]): { steps: CheckedStep[]; warnings: FlowProblem[] } {
  const steps = validateSteps(input).map((s, i) => ({ ...s, key: input[i]?.key ?? null }));
  const { errors, warnings } = checkFlow(steps.map((s, index) => ({ index, ...s })));
  const [first] = errors;
  if (first) {
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more problem${errors.length > 2 ? "s" : ""})` : "";
    throw invalid(`steps[${first.index}].${first.field}: ${first.message}${more}`);
  }
  return { steps, warnings };
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
