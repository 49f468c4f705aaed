/** Number answers: digit groupings (Western, Indian, European, Swiss), decimal commas and signs. */
import { describe, expect, it } from "vitest";
import { canonicalDecimal, MAX_NUMBER_LENGTH, parseNumber } from "../src/validation/number.ts";

describe("canonicalDecimal", () => {
  it.each<[string, string | null]>([
    // plain
    ["42", "42"],
    ["3.5", "3.5"],
    [".5", ".5"],
    [".25", ".25"],
    ["007", "007"],
    ["5.", null],
    [".", null],
    ["", null],
    ["4 2", null],
    ["42a", null],
    ["a42", null],
    // one comma: thousands when three digits follow a valid leading group, else a decimal comma
    ["1,000", "1000"],
    ["12,345", "12345"], // not 12.345
    ["999,999", "999999"],
    ["1,2345", "1.2345"],
    ["1,23", "1.23"],
    ["0,500", "0.500"],
    ["01,000", "01.000"],
    ["1000,000", "1000.000"],
    [",5", null],
    ["5,", null],
    // comma groups of three
    ["1,000,000", "1000000"],
    ["12,345,678", "12345678"],
    ["123,456,789.5", "123456789.5"],
    ["1,234,567.891", "1234567.891"],
    ["1,000.5", "1000.5"],
    ["1,000,00", null],
    ["1,234,56", null],
    ["0,000,000", null],
    ["1234,567,890", null],
    ["1,000.", null],
    // Indian (lakh/crore) groups
    ["1,00,000", "100000"],
    ["12,34,567", "1234567"],
    ["1,00,00,000", "10000000"],
    ["1,23,45,678.90", "12345678.90"],
    ["12,00,000", "1200000"],
    ["1,2,34,567", null],
    ["123,45,678", null],
    ["1,00,000,000", null],
    ["0,00,000", null],
    // space, no-break space, narrow no-break space, thin space, apostrophes
    ["1 000", "1000"],
    ["12 345 678", "12345678"],
    ["1\u00A0000", "1000"],
    ["1\u202F000", "1000"],
    ["1\u2009000", "1000"],
    ["1'000'000", "1000000"],
    ["1\u2019000", "1000"],
    ["1 000 000,25", "1000000.25"],
    ["1 000.5", "1000.5"],
    ["1 000'000", null], // one separator per number
    ["1 2345", null],
    ["1234 567", null],
    ["0 123", null],
    ["1 000 00", null],
    ["1 000,", null],
    // European dot groups
    ["1.234,56", "1234.56"],
    ["1.234.567,89", "1234567.89"],
    ["1.000.000", "1000000"],
    ["12.345.678", "12345678"],
    ["1.234", "1.234"], // a lone dot group is a decimal point
    ["1.23.456", null],
    ["1.234.56", null],
    ["1.2345,6", null],
    ["01.000.000", null],
    ["0.000.000", null],
    ["1.000.000,", null],
  ])("%j → %j", (body, expected) => {
    expect(canonicalDecimal(body)).toBe(expected);
  });

  it("refuses a body longer than the cap without looking at it", () => {
    expect(canonicalDecimal("1".repeat(MAX_NUMBER_LENGTH))).toBe("1".repeat(MAX_NUMBER_LENGTH));
    expect(canonicalDecimal("1".repeat(MAX_NUMBER_LENGTH + 1))).toBeNull();
  });
});

describe("parseNumber", () => {
  it.each<[string, number | null]>([
    ["+ 5", 5],
    ["- 5", -5],
    ["\u2212 5", -5],
    ["-1,000", -1000],
    ["\u22121 000,5", -1000.5],
    ["+1.234,5", 1234.5],
    ["-0", 0],
    ["-0.0", 0],
    ["\u22120", 0],
    ["  \t42\n", 42],
    ["\u00A042\u00A0", 42],
    ["\uFF11\uFF0C\uFF10\uFF10\uFF10", 1000], // full-width "1,000"
    ["5 -", null],
    ["-", null],
    ["+", null],
    ["-+5", null],
    ["- - 5", null],
    ["*5", null],
    ["\u20135", null], // an en dash is not a minus
  ])("%j → %j", (input, expected) => {
    const value = parseNumber(input);
    expect(value).toBe(expected);
    if (value === 0) expect(Object.is(value, -0)).toBe(false);
  });

  it("accepts exactly the cap and refuses one character more", () => {
    const padded = `${" ".repeat(MAX_NUMBER_LENGTH - 2)}42`;
    expect(parseNumber(padded)).toBe(42);
    expect(parseNumber(` ${padded}`)).toBeNull();
  });
});
