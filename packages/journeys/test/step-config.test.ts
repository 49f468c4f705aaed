/** Step and trigger config checks (SPEC §3), called directly: no database, table-driven. */
import { describe, expect, it } from "vitest";
import { DomainError } from "../src/errors.ts";
import {
  MAX_DELAY_MINUTES,
  MAX_OPTIONS,
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
const choice = (options: unknown, extra: Record<string, unknown> = {}): StepInput =>
  question({ validation: "choice", options, ...extra });
const opts = (n: number) => Array.from({ length: n }, (_, i) => ({ label: `Option ${i + 1}`, value: `v${i + 1}` }));
const KINDS = "number, text, country, money, choice, phone, email";
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
    [
      "a choice question",
      choice([
        { label: "Yes", value: "yes" },
        { label: "No", value: "no" },
      ]),
    ],
    ["a choice with one option", choice(opts(1))],
    [`a choice with ${MAX_OPTIONS} options`, choice(opts(MAX_OPTIONS))],
    ["a 64-character label", choice([{ label: "L".repeat(64), value: "l" }])],
    ["a label of 64 emoji (one character each)", choice([{ label: "😀".repeat(64), value: "l" }])],
    ["a label padded past 64 characters", choice([{ label: `  ${"L".repeat(64)}  `, value: "l" }])],
    ["a 64-character value", choice([{ label: "L", value: "v".repeat(64) }])],
    [
      "values differing only in case",
      choice([
        { label: "A", value: "x" },
        { label: "B", value: "X" },
      ]),
    ],
    ["a choice with an error_text", choice(opts(2), { error_text: "Tap a button, please." })],
    [
      "a country question with options",
      question({ validation: "country", options: [{ label: "Germany", value: "DE" }] }),
    ],
    ["a country question without options", question({ validation: "country" })],
    ["a phone question", question({ validation: "phone" })],
    ["a phone question with a default region", question({ validation: "phone", default_region: "DE" })],
    ["an email question", question({ validation: "email" })],
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
      `steps[2]: config.validation must be one of ${KINDS}`,
    ],
    [
      "an unknown validation kind",
      question({ validation: "date" }),
      `steps[2]: config.validation must be one of ${KINDS}`,
    ],
    [
      "a validation kind in the wrong case",
      question({ validation: "Choice" }),
      `steps[2]: config.validation must be one of ${KINDS}`,
    ],
    [
      "a choice without options",
      question({ validation: "choice" }),
      "steps[2]: config.options is required for a choice question",
    ],
    ...[
      ["null", null],
      ["an object", { label: "Yes", value: "yes" }],
      ["a string", "yes,no"],
      ["empty", []],
      [`${MAX_OPTIONS + 1} options`, opts(MAX_OPTIONS + 1)],
    ].map(([name, options]): [string, StepInput, string] => [
      `choice options that are ${name}`,
      choice(options),
      "steps[2]: config.options must be an array of 1–100 {label, value} options",
    ]),
    ...[
      ["null", null],
      ["a string", "Yes"],
      ["an array", ["Yes", "yes"]],
    ].map(([name, option]): [string, StepInput, string] => [
      `an option that is ${name}`,
      choice([{ label: "No", value: "no" }, option]),
      "steps[2]: config.options[1] must be an object with label and value",
    ]),
    [
      "an option with an unknown field",
      choice([...opts(3), { label: "Yes", value: "yes", url: "https://example.com" }]),
      'steps[2]: config.options[3] has an unknown field "url" (allowed: label, value)',
    ],
    ...[
      ["missing", undefined],
      ["empty", ""],
      ["spaces only", "   "],
      ["65 characters", "L".repeat(65)],
      ["65 emoji", "😀".repeat(65)],
      ["a number", 1],
      ["null", null],
    ].map(([name, label]): [string, StepInput, string] => [
      `an option label that is ${name}`,
      choice([...opts(3), { label, value: "x" }]),
      "steps[2]: config.options[3].label must be 1–64 characters",
    ]),
    ...[
      ["missing", undefined],
      ["empty", ""],
      ["spaces only", " "],
      ["65 characters", "v".repeat(65)],
      ["a number", 1],
      ["an object", { id: 1 }],
    ].map(([name, value]): [string, StepInput, string] => [
      `an option value that is ${name}`,
      choice([...opts(3), { label: "X", value }]),
      "steps[2]: config.options[3].value must be a non-empty string of at most 64 characters",
    ]),
    [
      "duplicate values",
      choice([...opts(3), { label: "Again", value: "v2" }]),
      'steps[2]: config.options[3].value "v2" repeats options[1].value',
    ],
    [
      "labels that a typed answer cannot tell apart",
      choice([...opts(3), { label: "  option   2 ", value: "x" }]),
      'steps[2]: config.options[3].label "option   2" repeats options[1].label',
    ],
    ...[
      ["lower case", "de"],
      ["not ISO", "EU"],
      ["unassigned", "ZZ"],
      ["alpha-3", "DEU"],
      ["a name", "Germany"],
    ].map(([name, value]): [string, StepInput, string] => [
      `a country option whose value is ${name}`,
      question({
        validation: "country",
        options: [
          { label: "Germany", value: "DE" },
          { label: "X", value },
        ],
      }),
      "steps[2]: config.options[1].value must be an ISO 3166-1 alpha-2 country code in capitals, e.g. DE",
    ]),
    ...["number", "text", "money", "phone", "email"].map((kind): [string, StepInput, string] => [
      `options on a ${kind} question`,
      question({ validation: kind, options: opts(2) }),
      "steps[2]: config.options is only for choice and country questions",
    ]),
    ...[
      ["lower case", "de"],
      ["not ISO", "EU"],
      ["alpha-3", "DEU"],
      ["without phone numbers", "AQ"],
      ["empty", ""],
      ["a number", 49],
      ["null", null],
    ].map(([name, region]): [string, StepInput, string] => [
      `a default_region that is ${name}`,
      question({ validation: "phone", default_region: region }),
      "steps[2]: config.default_region must be an ISO 3166-1 alpha-2 code in capitals, e.g. DE",
    ]),
    ...["number", "text", "country", "money", "choice", "email"].map((kind): [string, StepInput, string] => [
      `a default_region on a ${kind} question`,
      question({ validation: kind, default_region: "DE", ...(kind === "choice" ? { options: opts(2) } : {}) }),
      "steps[2]: config.default_region is only for phone questions",
    ]),
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
