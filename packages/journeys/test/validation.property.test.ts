/**
 * Property tests: validators never throw and always return a well-formed, JSON-safe result.
 * They check robustness, not rules, and take ~2 s, so mutation runs (stryker.config.mjs) leave
 * this file out; the rule tables live in validation.test.ts and validation-*.test.ts.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { VALIDATION_KINDS, validateAnswer } from "../src/validation/index.ts";

describe("validateAnswer never throws", () => {
  const anyString = fc.oneof(
    fc.string(),
    fc.string({ unit: "grapheme" }),
    fc.string({ unit: "binary", maxLength: 200 }),
    fc.string({ unit: fc.constantFrom(..."0123456789 ,.'-+$€£¥₹₽kKmMeE\u00A0\u200B"), maxLength: 30 }),
    fc.string({ minLength: 4000, maxLength: 5000 }),
  );

  it("returns a well-formed result for 1,000 random strings", () => {
    fc.assert(
      fc.property(fc.constantFrom(...VALIDATION_KINDS), anyString, (kind, input) => {
        const result = validateAnswer(kind, input);
        if (result.ok) {
          expect(result.value).not.toBeUndefined();
          expect(JSON.parse(JSON.stringify(result.value))).toEqual(result.value);
          if (typeof result.value === "number") expect(Number.isFinite(result.value)).toBe(true);
        } else {
          expect(result.error.length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it("money amounts are finite and non-negative", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(..."0123456789 ,.-$€kmUSDEUR"), maxLength: 20 }), (input) => {
        const result = validateAnswer("money", input);
        if (result.ok && typeof result.value === "object") {
          expect(Number.isFinite(result.value.amount)).toBe(true);
          expect(result.value.amount).toBeGreaterThanOrEqual(0);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
