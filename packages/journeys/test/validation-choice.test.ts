/** Choice answers typed instead of tapped: label matching, values, and the re-prompt listing the labels. */
import { describe, expect, it } from "vitest";
import {
  CHOICE_NO_OPTIONS_ERROR,
  choiceError,
  labelKey,
  matchOption,
  validateChoice,
} from "../src/validation/choice.ts";
import { validateAnswer } from "../src/validation/index.ts";

const OPTIONS = [
  { label: "Beginner", value: "b" },
  { label: "Some  experience", value: "some" },
  { label: "Pro trader", value: "PRO" },
  { label: "b", value: "letter-b" }, // a label that is another option's value: labels win
];

describe("matchOption", () => {
  it.each<[string, string | null]>([
    ["Beginner", "b"],
    ["beginner", "b"],
    ["BEGINNER", "b"],
    ["  beginner\n", "b"],
    ["some experience", "some"], // runs of spaces count as one, in the label and in the answer
    ["Some\u00A0\u00A0 experience", "some"],
    ["pro   TRADER", "PRO"],
    ["b", "letter-b"],
    ["B", "letter-b"],
    ["PRO", "PRO"], // a value typed exactly
    ["pro", "PRO"], // in any case
    [" pro ", "PRO"],
    ["some", "some"],
    ["letter-b", "letter-b"],
    ["Begin", null],
    ["Beginner!", null],
    ["Pro-trader", null],
    ["protrader", null],
    ["", null],
    ["   ", null],
    ["x".repeat(300), null],
  ])("%j → %j", (input, value) => {
    expect(matchOption(input, OPTIONS)).toBe(value);
  });

  it("prefers a value typed in its exact case over one in another case", () => {
    const options = [
      { label: "One", value: "a" },
      { label: "Two", value: "A" },
    ];
    expect(matchOption("A", options)).toBe("A");
    expect(matchOption("a", options)).toBe("a");
  });

  it("matches nothing without options", () => {
    expect(matchOption("Beginner", undefined)).toBeNull();
    expect(matchOption("Beginner", [])).toBeNull();
  });

  it("labelKey folds case, edges, inner runs of spaces and full-width forms", () => {
    expect(labelKey("  Ｙｅｓ,\t\tPLEASE  ")).toBe("yes, please");
  });
});

describe("the re-prompt", () => {
  it("lists the labels", () => {
    expect(validateChoice("nope", OPTIONS)).toEqual({
      ok: false,
      error: "Please tap a button or type one of: Beginner, Some  experience, Pro trader, b.",
    });
  });

  it("cuts a long list and says how many are left", () => {
    const options = Array.from({ length: 100 }, (_, i) => ({ label: `Option number ${i + 1}`, value: `v${i}` }));
    const error = choiceError(options);
    expect(error).toMatch(/^Please tap a button or type one of: Option number 1, Option number 2, .* and \d+ more\.$/);
    expect(error.length).toBeLessThan(300);
    const listed = error.split(", ").length;
    expect(error).toContain(` and ${100 - listed} more.`);
  });

  it("lists one long label even when it alone passes the cut", () => {
    expect(choiceError([{ label: "L".repeat(64), value: "l" }])).toBe(
      `Please tap a button or type one of: ${"L".repeat(64)}.`,
    );
  });

  it("without options it still answers with a sentence, never throws", () => {
    expect(validateAnswer("choice", "Beginner")).toEqual({ ok: false, error: CHOICE_NO_OPTIONS_ERROR });
    expect(validateAnswer("choice", "Beginner", { options: [] })).toEqual({
      ok: false,
      error: CHOICE_NO_OPTIONS_ERROR,
    });
  });
});

describe("validateAnswer(choice)", () => {
  it("stores the option's value", () => {
    expect(validateAnswer("choice", "pro trader", { options: OPTIONS })).toEqual({ ok: true, value: "PRO" });
  });
});
