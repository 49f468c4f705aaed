/** JSON Logic rules (issue 17): the write-time check and evaluation with the unset rule. Pure, table-driven. */
import { describe, expect, it } from "vitest";
import type { FlowData } from "../../src/flow/data.ts";
import {
  checkRule,
  evaluateRule,
  MAX_RULE_DEPTH,
  MAX_STEP_SOURCE_BYTES,
  RULE_OPERATORS,
} from "../../src/flow/rules.ts";

const data: FlowData = {
  answers: {
    age: 17,
    adult_age: 35,
    country: "DE",
    deposit_amount: { amount: 250, currency: "EUR" },
    no_currency: { amount: 1000, currency: null },
    name: "Ann",
    empty: "",
    stored_null: null,
    tags: ["a", "b"],
  },
  user: { first_name: "Ann", language_code: "de" },
  trigger: { param: "broker_qualify" },
};

const v = (path: string) => ({ var: path });
/** An array nested n levels deep: depth n, or n + 1 inside an operator. */
const deepArray = (n: number): unknown => (n === 0 ? 1 : [deepArray(n - 1)]);
/** Nested `!` n levels deep around `true`: depth n. */
const nested = (n: number): unknown => (n === 0 ? true : { "!": [nested(n - 1)] });

describe("checkRule accepts", () => {
  it.each<[string, unknown, string[]]>([
    ["a comparison", { "<": [v("answers.age"), 18] }, ["answers.age"]],
    ["a money amount", { ">=": [v("answers.deposit_amount.amount"), 100] }, ["answers.deposit_amount.amount"]],
    [
      "user and trigger",
      { and: [{ "==": [v("user.language_code"), "de"] }, v("trigger.param")] },
      ["user.language_code", "trigger.param"],
    ],
    ["a root alone", { "!!": v("answers") }, ["answers"]],
    ["in with a list", { in: [v("answers.country"), ["DE", "AT", "CH"]] }, ["answers.country"]],
    ["var with a default", { "<": [{ var: ["answers.age", 0] }, 18] }, ["answers.age"]],
    ["var in array form", { var: ["answers.age"] }, ["answers.age"]],
    ["missing", { missing: ["answers.age", "user.first_name"] }, ["answers.age", "user.first_name"]],
    ["missing with one array argument", { missing: [["answers.age"]] }, ["answers.age"]],
    ["missing_some", { missing_some: [1, ["answers.age", "answers.country"]] }, ["answers.age", "answers.country"]],
    ["if", { if: [{ "<": [v("answers.age"), 18] }, false, true] }, ["answers.age"]],
    ["a literal", true, []],
    ["null", null, []],
    [
      "every allowed operator",
      { and: RULE_OPERATORS.filter((op) => !op.startsWith("missing") && op !== "var").map((op) => ({ [op]: [1, 2] })) },
      [],
    ],
    [`depth ${MAX_RULE_DEPTH}`, nested(MAX_RULE_DEPTH), []],
    ["a path with a dash and digits", v("answers.q-1.0"), ["answers.q-1.0"]],
  ])("%s", (_name, rule, vars) => {
    expect(checkRule(rule)).toMatchObject({ ok: true, vars });
  });

  it.each<[string, unknown, string[]]>([
    ["var only", { "<": [{ var: "answers.age" }, 18] }, []],
    ["missing only", { missing: ["answers.age", "user.username"] }, ["answers.age", "user.username"]],
    ["missing_some", { missing_some: [1, ["answers.a", "answers.b"]] }, ["answers.a", "answers.b"]],
    ["missing and var on one path", { or: [{ missing: ["answers.age"] }, { "<": [{ var: "answers.age" }, 18] }] }, []],
    ["missing and var on two", { and: [{ "!": { missing: ["answers.a"] } }, { var: "answers.b" }] }, ["answers.a"]],
  ])("lists the paths only tested for being set: %s", (_name, rule, presenceOnly) => {
    expect(checkRule(rule)).toMatchObject({ ok: true, presenceOnly });
  });
});

describe("checkRule refuses", () => {
  it.each<[string, unknown, RegExp]>([
    ["an unknown operator", { method: ["x", "constructor"] }, /unknown operator "method"/],
    ["arithmetic", { "+": [1, 2] }, /unknown operator "\+"/],
    ["log", { log: "x" }, /unknown operator "log"/],
    ["an unknown operator deep inside", { and: [true, { or: [{ map: [[1], 1] }] }] }, /unknown operator "map"/],
    [`depth ${MAX_RULE_DEPTH + 1}`, nested(MAX_RULE_DEPTH + 1), /deeper than 10 levels/],
    ["nested literal arrays", { in: [1, deepArray(MAX_RULE_DEPTH)] }, /deeper than 10/],
    ["an object with two keys", { "<": [1, 2], ">": [1, 2] }, /exactly one key/],
    ["an empty object", {}, /exactly one key/],
    ["a computed var path", { var: { cat: ["answers.", "age"] } }, /literal variable path/],
    ["a numeric var path", { var: 1 }, /literal variable path/],
    ["an unknown root", v("session.id"), /unknown variable "session.id"/],
    ["an empty path (the whole data)", v(""), /unknown variable ""/],
    ["a prototype path", v("answers.__proto__"), /may not name "__proto__"/],
    ["constructor", v("answers.age.constructor"), /may not name "constructor"/],
    ["an unknown user field", v("user.firstname"), /user has first_name/],
    ["an unknown trigger field", v("trigger.start"), /trigger has param/],
    ["an empty segment", v("answers..age"), /empty segment/],
    ["var with a computed default", { var: ["answers.age", { var: "answers.x" }] }, /default must be a literal/],
    ["var with three arguments", { var: ["answers.age", 1, 2] }, /path and an optional default/],
    ["missing with a bad root", { missing: ["answers.age", "x"] }, /unknown variable "x"/],
    ["missing with a computed path", { missing: [v("answers.age")] }, /literal variable path/],
    ["missing_some without a list", { missing_some: [1, "answers.age"] }, /missing_some/],
    ["a non-finite number", { "<": [1, Number.POSITIVE_INFINITY] }, /finite/],
    ["a function", { "!": () => 1 }, /may not hold function/],
    [
      "over 16 KB",
      { in: [v("answers.country"), Array.from({ length: 2000 }, (_, i) => `country-${i}`)] },
      /bytes as JSON; at most 16384/,
    ],
  ])("%s", (_name, rule, error) => {
    const result = checkRule(rule);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(error);
  });

  it("names the limit it enforces", () => {
    expect(MAX_STEP_SOURCE_BYTES).toBe(16 * 1024);
  });
});

describe("evaluateRule", () => {
  it.each<[string, unknown, boolean]>([
    ["a comparison that holds", { "<": [v("answers.age"), 18] }, true],
    ["a comparison that fails", { "<": [v("answers.adult_age"), 18] }, false],
    ["between", { "<=": [18, v("answers.adult_age"), 65] }, true],
    ["a money amount", { ">=": [v("answers.deposit_amount.amount"), 250] }, true],
    ["a money currency", { "==": [v("answers.deposit_amount.currency"), "EUR"] }, true],
    ["in a list", { in: [v("answers.country"), ["DE", "AT"]] }, true],
    ["not in a list", { in: [v("answers.country"), ["FR"]] }, false],
    ["in a string", { in: ["nn", v("answers.name")] }, true],
    ["in a stored list", { in: ["b", v("answers.tags")] }, true],
    ["loose ==", { "==": [v("answers.age"), "17"] }, true],
    ["strict ===", { "===": [v("answers.age"), "17"] }, false],
    ["user", { "==": [v("user.first_name"), "Ann"] }, true],
    ["trigger", { "===": [v("trigger.param"), "broker_qualify"] }, true],
    ["and", { and: [{ "<": [v("answers.age"), 18] }, { "==": [v("answers.country"), "DE"] }] }, true],
    ["or", { or: [false, { "==": [v("answers.country"), "FR"] }] }, false],
    ["if", { if: [{ "<": [v("answers.age"), 18] }, "minor", ""] }, true],
    ["a literal true", true, true],
    ["a literal false", false, false],
    ["an empty array is falsy", { if: [true, [], true] }, false],
    // The unset rule: any comparison or `in` with a null/undefined operand is false.
    ["< with an unset answer", { "<": [v("answers.unset"), 18] }, false],
    [">= with an unset answer", { ">=": [v("answers.unset"), 0] }, false],
    ["== with an unset answer", { "==": [v("answers.unset"), null] }, false],
    ["!= with an unset answer", { "!=": [v("answers.unset"), "DE"] }, false],
    ["!== with an unset answer", { "!==": [v("answers.unset"), 1] }, false],
    ["in with an unset list", { in: ["x", v("answers.unset")] }, false],
    ["in with an unset item", { in: [v("answers.unset"), ["DE"]] }, false],
    ["between with an unset middle", { "<": [0, v("answers.unset"), 100] }, false],
    ["a path through an unset object", { "<": [v("answers.unset.amount"), 100] }, false],
    ["a stored null", { "<": [v("answers.stored_null"), 18] }, false],
    ["an unset user field", { "==": [v("user.last_name"), ""] }, false],
    ["another trigger", { "==": [v("trigger.param"), "x"] }, false],
    ["a missing currency (null)", { "==": [v("answers.no_currency.currency"), "EUR"] }, false],
    [
      "an unset comparison inside or",
      { or: [{ in: ["x", v("answers.unset")] }, { "==": [v("answers.country"), "DE"] }] },
      true,
    ],
    ["! of an unset comparison", { "!": { "<": [v("answers.unset"), 18] } }, true],
    ["! of an unset variable", { "!": v("answers.unset") }, true],
    ["!! of a set variable", { "!!": v("answers.age") }, true],
    ["missing an unset answer", { missing: ["answers.unset"] }, true],
    ["missing a set answer", { missing: ["answers.age"] }, false],
    ["missing an empty string", { missing: ["answers.empty"] }, true],
    ["missing_some satisfied", { missing_some: [1, ["answers.age", "answers.unset"]] }, false],
    ["a default stands in for an unset answer", { "<": [{ var: ["answers.unset", 0] }, 18] }, true],
    // Refused rules are false at run time too, never evaluated.
    ["an unknown operator", { "+": [1, 1] }, false],
    ["a bad root", { "!": v("session.x") }, false],
    ["a depth over the limit", nested(MAX_RULE_DEPTH + 2), false],
  ])("%s → %s", (_name, rule, expected) => {
    expect(evaluateRule(rule, data)).toBe(expected);
  });

  it("an unset trigger param reads as unset", () => {
    const noTrigger: FlowData = { answers: {}, user: {}, trigger: {} };
    expect(evaluateRule({ "==": [v("trigger.param"), "x"] }, noTrigger)).toBe(false);
    expect(evaluateRule({ missing: ["trigger.param"] }, noTrigger)).toBe(true);
  });

  it("never throws, whatever the data's shape", () => {
    const odd = { answers: null, user: undefined, trigger: 5 } as unknown as FlowData;
    expect(evaluateRule({ "<": [v("answers.age"), 18] }, odd)).toBe(false);
    expect(evaluateRule({ in: ["a", v("trigger.param")] }, odd)).toBe(false);
  });

  it("gives the same answer when the same rule object is evaluated again (cached rewrite)", () => {
    const rule = { "<": [v("answers.age"), 18] };
    expect(evaluateRule(rule, data)).toBe(true);
    expect(evaluateRule(rule, { ...data, answers: { age: 40 } })).toBe(false);
    expect(evaluateRule(rule, { ...data, answers: {} })).toBe(false);
  });

  it("leaves json-logic-js's own operators as the library defines them", async () => {
    const jsonLogic = (await import("json-logic-js")).default;
    expect(jsonLogic.apply({ "<": [null, 18] })).toBe(true);
  });
});
