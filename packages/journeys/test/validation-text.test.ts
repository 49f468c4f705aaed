/** Text answers: invisible edges, blank-looking fillers, unpaired surrogates, the length cap; and dispatch by kind. */
import { describe, expect, it } from "vitest";
import { validateAnswer } from "../src/validation/index.ts";
import { NUMBER_ERROR } from "../src/validation/number.ts";
import { MAX_TEXT_LENGTH, TEXT_EMPTY_ERROR, TEXT_TOO_LONG_ERROR, validateText } from "../src/validation/text.ts";

const ok = (value: string) => ({ ok: true, value });
const empty = { ok: false, error: TEXT_EMPTY_ERROR };
const tooLong = { ok: false, error: TEXT_TOO_LONG_ERROR };

describe("validateText", () => {
  it.each<[string, string, object]>([
    ["zero-width space at both ends", "\u200Bhi\u200B", ok("hi")],
    ["zero-width non-joiner and joiner", "\u200C\u200Dhi\u200D\u200C", ok("hi")],
    ["word joiner", "\u2060hi\u2060", ok("hi")],
    ["Mongolian vowel separator", "\u180Ehi\u180E", ok("hi")],
    ["mixed invisible edges", " \u200B\u00A0hi \u2060\n", ok("hi")],
    ["invisible characters inside are kept", "h\u200Bi", ok("h\u200Bi")],
    ["a lone high surrogate becomes U+FFFD", "a\uD800b", ok("a\uFFFDb")],
    ["a lone low surrogate becomes U+FFFD", "a\uDC00b", ok("a\uFFFDb")],
    ["a high surrogate at the end", "ab\uD83D", ok("ab\uFFFD")],
    ["a low surrogate at the start", "\uDE00ab", ok("\uFFFDab")],
    ["a reversed pair is two lone halves", "\uDE00\uD83D", ok("\uFFFD\uFFFD")],
    ["a real pair is kept", "\uD83D\uDE00", ok("😀")],
    ["NUL anywhere is dropped", "\u0000a\u0000b\u0000", ok("ab")],
    ["Hangul choseong filler", "\u115F", empty],
    ["Hangul jungseong filler", "\u1160", empty],
    ["half-width Hangul filler", "\uFFA0", empty],
    ["Hangul filler", "\u3164", empty],
    ["Braille blank", "\u2800", empty],
    ["fillers between spaces", " \u2800 \u3164 ", empty],
    ["format characters only", "\u200E\u202E\u2066", empty],
    ["control characters only", "\u0007\u001B", empty],
    ["a filler next to a letter", "\u2800a", ok("\u2800a")],
  ])("%s", (_name, input, expected) => {
    expect(validateText(input)).toEqual(expected);
  });

  it.each<[string, string, object]>([
    ["exactly the limit", "x".repeat(MAX_TEXT_LENGTH), ok("x".repeat(MAX_TEXT_LENGTH))],
    ["one over the limit", "x".repeat(MAX_TEXT_LENGTH + 1), tooLong],
    ["the limit in emoji (two UTF-16 units each)", "😀".repeat(MAX_TEXT_LENGTH), ok("😀".repeat(MAX_TEXT_LENGTH))],
    ["one emoji over the limit", "😀".repeat(MAX_TEXT_LENGTH + 1), tooLong],
    [
      "the limit in letters plus one emoji",
      `${"x".repeat(MAX_TEXT_LENGTH - 1)}😀`,
      ok(`${"x".repeat(MAX_TEXT_LENGTH - 1)}😀`),
    ],
    ["one letter and one emoji over", `${"x".repeat(MAX_TEXT_LENGTH)}😀`, tooLong],
    ["twice the limit in UTF-16 units", "😀".repeat(MAX_TEXT_LENGTH).concat("x"), tooLong],
  ])("%s", (_name, input, expected) => {
    expect(validateText(input)).toEqual(expected);
  });

  it("counts the limit after trimming", () => {
    const input = ` \u200B${"y".repeat(MAX_TEXT_LENGTH)}\u200B `;
    expect(validateText(input)).toEqual(ok("y".repeat(MAX_TEXT_LENGTH)));
  });

  it("the too-long message names the limit", () => {
    expect(TEXT_TOO_LONG_ERROR).toContain("4096");
  });
});

describe("validateAnswer", () => {
  it.each<[string, string, unknown]>([
    ["number", "42", 42],
    ["text", " hi ", "hi"],
    ["country", "DE", "DE"],
    ["money", "$5", { amount: 5, currency: "USD" }],
  ])("dispatches %s", (kind, input, value) => {
    expect(validateAnswer(kind as never, input)).toEqual({ ok: true, value });
  });

  it("treats a non-string answer as empty", () => {
    expect(validateAnswer("text", 42 as never)).toEqual(empty);
    expect(validateAnswer("number", null as never)).toEqual({ ok: false, error: NUMBER_ERROR });
  });

  it("throws on an unknown kind: that is a config error, not a bad answer", () => {
    expect(() => validateAnswer("date" as never, "2026-12-04")).toThrow("Unknown validation kind: date");
  });
});
