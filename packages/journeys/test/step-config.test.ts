/** Step and trigger config checks (SPEC §3), called directly: no database, table-driven. */
import { describe, expect, it } from "vitest";
import { DomainError } from "../src/errors.ts";
import {
  MAX_DELAY_MINUTES,
  MAX_TEXT_LENGTH,
  START_PARAM_RE,
  type StepInput,
  validateStep,
  validateSteps,
  validateTrigger,
} from "../src/step-config.ts";

/** The reason a config is refused: a VALIDATION DomainError carrying exactly this message. */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    expect((err as DomainError).code).toBe("VALIDATION");
    return (err as Error).message;
  }
  throw new Error("expected the config to be refused");
}

const question = (config: Record<string, unknown>): StepInput => ({
  step_type: "question",
  config: { text: "How old are you?", answer_key: "age", validation: "number", ...config },
});
const delay = (min: unknown, max: unknown): StepInput => ({
  step_type: "delay",
  config: { min_minutes: min, max_minutes: max },
});

describe("validateStep accepts", () => {
  it.each<[string, StepInput]>([
    ["a message", { step_type: "message", config: { text: "Hi" } }],
    ["a message of exactly 4096 characters", { step_type: "message", config: { text: "x".repeat(MAX_TEXT_LENGTH) } }],
    ["a message padded with spaces", { step_type: "message", config: { text: "  hi  " } }],
    ["a question", question({})],
    ["a question with an error_text", question({ error_text: "Digits, please." })],
    ["an error_text of exactly 4096 characters", question({ error_text: "e".repeat(MAX_TEXT_LENGTH) })],
    ["an answer key with every allowed character", question({ answer_key: "Az09_.-" })],
    ["a one-character answer key", question({ answer_key: "a" })],
    ["a 64-character answer key", question({ answer_key: "k".repeat(64) })],
    ["a question validated as text", question({ validation: "text" })],
    ["a question validated as country", question({ validation: "country" })],
    ["a question validated as money", question({ validation: "money" })],
    ["a delay of zero minutes", delay(0, 0)],
    ["a delay with min == max", delay(5, 5)],
    ["a delay range", delay(1, 10)],
    ["a fractional delay", delay(0.5, 1.5)],
    ["the longest delay (30 days)", delay(MAX_DELAY_MINUTES, MAX_DELAY_MINUTES)],
    ["a conditional with any config", { step_type: "conditional", config: { anything: [1, 2] } }],
    ["a conditional with an empty config", { step_type: "conditional", config: {} }],
  ])("%s", (_name, step) => {
    expect(validateStep(step, 0)).toEqual({ stepType: step.step_type, config: step.config });
  });

  it("returns the config object itself, not a copy", () => {
    const config = { text: "Hi" };
    expect(validateStep({ step_type: "message", config }, 0).config).toBe(config);
  });
});

describe("validateStep refuses", () => {
  const TOO_LONG = MAX_TEXT_LENGTH + 1;
  it.each<[string, StepInput, string]>([
    [
      "an unknown step type",
      { step_type: "video", config: {} },
      'steps[2]: unknown step_type "video" (expected one of message, question, delay, conditional)',
    ],
    [
      "a step type in the wrong case",
      { step_type: "Message", config: { text: "Hi" } },
      'steps[2]: unknown step_type "Message" (expected one of message, question, delay, conditional)',
    ],
    ["a null config", { step_type: "message", config: null }, "steps[2]: config must be an object"],
    ["an array config", { step_type: "conditional", config: [] }, "steps[2]: config must be an object"],
    ["a string config", { step_type: "message", config: "Hi" }, "steps[2]: config must be an object"],
    [
      "a message without text",
      { step_type: "message", config: {} },
      "steps[2]: config.text must be a non-empty string",
    ],
    [
      "a message with empty text",
      { step_type: "message", config: { text: "" } },
      "steps[2]: config.text must be a non-empty string",
    ],
    [
      "a message of spaces only",
      { step_type: "message", config: { text: " \n\t " } },
      "steps[2]: config.text must be a non-empty string",
    ],
    [
      "a message whose text is not a string",
      { step_type: "message", config: { text: 42 } },
      "steps[2]: config.text must be a non-empty string",
    ],
    [
      "a message longer than Telegram allows",
      { step_type: "message", config: { text: "x".repeat(TOO_LONG) } },
      `steps[2]: config.text is ${TOO_LONG} characters; Telegram allows at most 4096`,
    ],
    ["a question without text", question({ text: undefined }), "steps[2]: config.text must be a non-empty string"],
    [
      "a question longer than Telegram allows",
      question({ text: "q".repeat(TOO_LONG) }),
      `steps[2]: config.text is ${TOO_LONG} characters; Telegram allows at most 4096`,
    ],
    [
      "a question without an answer key",
      question({ answer_key: undefined }),
      "steps[2]: config.answer_key must match ^[A-Za-z0-9_.-]{1,64}$",
    ],
    ...[
      ["an empty answer key", ""],
      ["a 65-character answer key", "k".repeat(65)],
      ["an answer key with a space", "first name"],
      ["an answer key with a slash", "a/b"],
      ["an answer key with a leading space", " age"],
      ["an answer key with a trailing newline", "age\n"],
      ["an answer key with a non-ASCII letter", "âge"],
      ["a numeric answer key", 42],
    ].map(([name, key]): [string, StepInput, string] => [
      name as string,
      question({ answer_key: key }),
      "steps[2]: config.answer_key must match ^[A-Za-z0-9_.-]{1,64}$",
    ]),
    [
      "a question without a validation kind",
      question({ validation: undefined }),
      "steps[2]: config.validation must be one of number, text, country, money",
    ],
    [
      "an unknown validation kind",
      question({ validation: "date" }),
      "steps[2]: config.validation must be one of number, text, country, money",
    ],
    ["an empty error_text", question({ error_text: "" }), "steps[2]: config.error_text must be a non-empty string"],
    [
      "an error_text of spaces only",
      question({ error_text: "   " }),
      "steps[2]: config.error_text must be a non-empty string",
    ],
    [
      "an error_text that is not a string",
      question({ error_text: null }),
      "steps[2]: config.error_text must be a non-empty string",
    ],
    [
      "an error_text longer than Telegram allows",
      question({ error_text: "e".repeat(TOO_LONG) }),
      `steps[2]: config.error_text is ${TOO_LONG} characters; Telegram allows at most 4096`,
    ],
    ...[
      ["missing", undefined],
      ["a string", "5"],
      ["negative", -1],
      ["a tiny negative", -0.001],
      ["NaN", Number.NaN],
      ["infinite", Number.POSITIVE_INFINITY],
      ["null", null],
    ].map(([name, value]): [string, StepInput, string] => [
      `a delay whose min_minutes is ${name}`,
      delay(value, 10),
      "steps[2]: config.min_minutes must be a non-negative number of minutes",
    ]),
    [
      "a delay whose max_minutes is negative",
      delay(0, -1),
      "steps[2]: config.max_minutes must be a non-negative number of minutes",
    ],
    [
      "a delay whose max_minutes is missing",
      delay(0, undefined),
      "steps[2]: config.max_minutes must be a non-negative number of minutes",
    ],
    [
      "a delay longer than 30 days",
      delay(0, MAX_DELAY_MINUTES + 1),
      "steps[2]: config.max_minutes must be at most 43200 (30 days)",
    ],
    [
      "a delay just over 30 days",
      delay(MAX_DELAY_MINUTES + 0.5, MAX_DELAY_MINUTES + 0.5),
      "steps[2]: config.min_minutes must be at most 43200 (30 days)",
    ],
    ["a delay with min > max", delay(10, 5), "steps[2]: config.min_minutes (10) must not exceed max_minutes (5)"],
    [
      "a delay with min just over max",
      delay(5.5, 5),
      "steps[2]: config.min_minutes (5.5) must not exceed max_minutes (5)",
    ],
  ])("%s", (_name, step, message) => {
    expect(refusal(() => validateStep(step, 2))).toBe(message);
  });
});

describe("validateSteps", () => {
  const message = (i: number): StepInput => ({ step_type: "message", config: { text: `Message ${i}` } });

  it.each([0, 1, 199, 200])("accepts %i steps", (n) => {
    const steps = Array.from({ length: n }, (_, i) => message(i));
    expect(validateSteps(steps)).toEqual(steps.map((s) => ({ stepType: "message", config: s.config })));
  });

  it.each([201, 1000])("refuses %i steps", (n) => {
    const steps = Array.from({ length: n }, (_, i) => message(i));
    expect(refusal(() => validateSteps(steps))).toBe("a journey has at most 200 steps");
  });

  it.each<[string, unknown]>([
    ["an object", { 0: message(0), length: 1 }],
    ["a string", "steps"],
    ["null", null],
  ])("refuses %s instead of an array", (_name, steps) => {
    expect(refusal(() => validateSteps(steps as StepInput[]))).toBe("steps must be an array");
  });

  it("names the first bad step by its index", () => {
    const steps = [message(0), message(1), { step_type: "message", config: {} }, { step_type: "nope", config: {} }];
    expect(refusal(() => validateSteps(steps))).toBe("steps[2]: config.text must be a non-empty string");
  });
});

describe("validateTrigger", () => {
  it.each<[string, Record<string, unknown>]>([
    ["telegram_deeplink", { start_param: "broker_access" }],
    ["telegram_deeplink", { start_param: "AZaz09_-" }],
    ["telegram_deeplink", { start_param: "a" }],
    ["telegram_deeplink", { start_param: "p".repeat(64), extra: true }],
    ["stripe_event", {}],
    ["stripe_event", { event: "checkout.session.completed" }],
    ["manual", {}],
    ["manual", { start_param: "not checked here!" }],
  ])("accepts %s %j", (type, config) => {
    const result = validateTrigger(type, config);
    expect(result).toEqual({ triggerType: type, config });
    expect(result.config).toBe(config);
  });

  it.each<[string, unknown, string]>([
    ["webhook", {}, 'unknown trigger_type "webhook" (expected one of telegram_deeplink, stripe_event, manual)'],
    ["", {}, 'unknown trigger_type "" (expected one of telegram_deeplink, stripe_event, manual)'],
    ["Manual", {}, 'unknown trigger_type "Manual" (expected one of telegram_deeplink, stripe_event, manual)'],
    ["manual", null, "trigger_config must be an object"],
    ["manual", [], "trigger_config must be an object"],
    ["stripe_event", "x", "trigger_config must be an object"],
    ["telegram_deeplink", undefined, "trigger_config must be an object"],
    ...[undefined, "", "p".repeat(65), "bad!param", "two words", " leading", "trailing\n", "a.b", "ünïcode", 42].map(
      (p): [string, unknown, string] => [
        "telegram_deeplink",
        { start_param: p },
        "trigger_config.start_param must match [A-Za-z0-9_-]{1,64}",
      ],
    ),
  ])("refuses %s %j", (type, config, message) => {
    expect(refusal(() => validateTrigger(type, config))).toBe(message);
  });

  it("START_PARAM_RE is Telegram's deep-link alphabet, whole string", () => {
    expect(START_PARAM_RE.source).toBe("^[A-Za-z0-9_-]{1,64}$");
  });
});
