/**
 * No silent surprises (issue 16, item 5): ambiguous answers are asked back (`askBack: true`)
 * instead of stored as a guess; the user's Telegram language_code settles "1.000" / "1,000"
 * where it can; "41 years" is 41. Table-driven.
 */
import { describe, expect, it } from "vitest";
import { COUNTRY_ERROR, countryAskBack, readCountry, validateCountry } from "../src/validation/country.ts";
import { type ValidationResult, validateAnswer } from "../src/validation/index.ts";
import { MONEY_ERROR, MONEY_NEGATIVE_ERROR, moneyAskBack, validateMoney } from "../src/validation/money.ts";
import { NUMBER_ERROR, numberAskBack, validateNumber } from "../src/validation/number.ts";
import { decimalMarkOf } from "../src/validation/separators.ts";

const ok = (value: unknown) => ({ ok: true, value });
const askNumber = (thousands: string, decimal: string) => ({
  ok: false,
  error: numberAskBack([thousands, decimal]),
  askBack: true,
});
const askMoney = (thousands: string, decimal: string) => ({
  ok: false,
  error: moneyAskBack([thousands, decimal]),
  askBack: true,
});
const money = (amount: number, currency: string | null) => ok({ amount, currency });

describe("country: a code in lower or mixed case is a word until the user says otherwise", () => {
  it.each<[string, string]>([
    ["no", "NO"],
    ["No", "NO"], // phone keyboards capitalise the first letter
    ["nO", "NO"],
    ["us", "US"], // the library lists "US" as a name, but "us" is the word
    ["Us", "US"],
    ["in", "IN"],
    ["it", "IT"],
    ["be", "BE"],
    ["me", "ME"],
    ["to", "TO"],
    ["so", "SO"],
    ["am", "AM"],
    ["is", "IS"],
    ["de", "DE"],
    ["gb", "GB"],
    ["no.", "NO"],
    ["No!", "NO"],
    // three letters: an alpha-3 code that is also a word
    ["can", "CA"],
    ["Can", "CA"],
    ["and", "AD"],
    ["nor", "NO"],
    ["per", "PE"],
    ["fra", "FR"],
  ])("%j → asks whether the user meant %s", (input, code) => {
    expect(readCountry(input)).toEqual({ code, certain: false });
    expect(validateCountry(input)).toEqual({ ok: false, error: countryAskBack(code), askBack: true });
  });

  it("asks with the country's name", () => {
    expect(countryAskBack("NO")).toBe("Did you mean Norway? Please type the country's full name.");
    expect(validateAnswer("country", "in")).toEqual({
      ok: false,
      error: "Did you mean India? Please type the country's full name.",
      askBack: true,
    });
  });

  it.each<[string, string]>([
    ["NO", "NO"], // capitals: clearly the code
    ["US", "US"],
    ["IN", "IN"],
    ["IS!", "IS"],
    ["(DE)", "DE"],
    ["CAN", "CA"],
    ["AND", "AD"],
    ["usa", "US"], // a three-letter name wins over a code
    ["Usa", "US"],
    ["uae", "AE"],
    ["uk", "GB"], // not a code: a name
    ["Uk", "GB"],
    ["u.s.", "US"], // dotted: not a word
    ["norway", "NO"],
    ["India", "IN"],
    ["🇳🇴", "NO"],
  ])("%j → %s without asking", (input, code) => {
    expect(validateCountry(input)).toEqual(ok(code));
  });

  it.each(["xx", "zz", "eu", "Xy", "abc"])("%j is no country at all: the ordinary re-prompt", (input) => {
    expect(validateCountry(input)).toEqual({ ok: false, error: COUNTRY_ERROR });
  });
});

describe("decimalMarkOf: the user's decimal mark from language_code", () => {
  it.each<[string | null | undefined, "." | "," | null]>([
    ["de", ","],
    ["fr", ","],
    ["es", ","],
    ["it", ","],
    ["pt", ","],
    ["pt-br", ","],
    ["ru", ","],
    ["uk", ","],
    ["nl", ","],
    ["tr", ","],
    ["id", ","],
    ["en", "."],
    ["en-US", "."],
    ["en_GB", "."],
    ["ja", "."],
    ["zh-hans", "."],
    ["ko", "."],
    ["es-MX", "."], // Mexico writes 1,000.50
    ["de-CH", "."], // Switzerland writes 1'000.50
    ["fa", null], // "٫": neither mark
    ["xx", null],
    ["not a tag!", null],
    ["", null],
    [null, null],
    [undefined, null],
    ["e".repeat(36), null],
  ])("%j → %j", (code, mark) => {
    expect(decimalMarkOf(code)).toBe(mark);
  });
});

describe("number: one separator before exactly three digits", () => {
  it.each<[string, string | null, ValidationResult | object]>([
    // no language: ask
    ["1.000", null, askNumber("1000", "1")],
    ["1,000", null, askNumber("1000", "1")],
    ["12,345", null, askNumber("12345", "12.345")],
    ["999.999", null, askNumber("999999", "999.999")],
    ["-1.500", null, askNumber("-1500", "-1.5")],
    ["1.000", "xx", askNumber("1000", "1")], // a language Intl does not know settles nothing
    // a comma-decimal language
    ["1.000", "de", ok(1000)],
    ["1,000", "de", ok(1)],
    ["1,500", "ru", ok(1.5)],
    ["12.345", "pt-br", ok(12345)],
    ["-1.000", "de", ok(-1000)],
    // a point-decimal language
    ["1,000", "en", ok(1000)],
    ["1.000", "en", ok(1)],
    ["1.234", "ja", ok(1.234)],
    ["1,000", "de-CH", ok(1000)],
    // not the ambiguous shape: the structure decides, whatever the language
    ["1.5", null, ok(1.5)],
    ["1,5", null, ok(1.5)],
    ["1,5", "en", ok(1.5)],
    ["1.5", "de", ok(1.5)],
    ["1,50", "en", ok(1.5)],
    ["0,500", null, ok(0.5)], // no group starts with 0
    ["0.500", null, ok(0.5)],
    ["1000,000", null, ok(1000)], // the leading group is too long
    ["1,2345", null, ok(1.2345)],
    ["1.000.000", null, ok(1000000)],
    ["1,000,000", null, ok(1000000)],
    ["1,000,000", "de", ok(1000000)],
    ["1.000.000", "en", ok(1000000)],
    ["1.234,56", "en", ok(1234.56)],
    ["1,234.56", "de", ok(1234.56)],
    ["1 000", null, ok(1000)],
    ["1000", null, ok(1000)],
  ])("%j with %j", (input, languageCode, expected) => {
    expect(validateNumber(input, { languageCode })).toEqual(expected);
  });

  it("the ask-back names both readings and is a sentence", () => {
    expect(validateAnswer("number", "1.000")).toEqual({
      ok: false,
      error: "Do you mean 1000 or 1? Please type the number without separators.",
      askBack: true,
    });
  });
});

describe("number: a unit of age after the number", () => {
  it.each<[string, number]>([
    ["41 years", 41],
    ["41 Years", 41],
    ["41 year", 41],
    ["41years", 41],
    ["41 yrs", 41],
    ["41 yr", 41],
    ["41 y", 41],
    ["41y", 41],
    ["41 y.o.", 41],
    ["41 y.o", 41],
    ["41 Y.O.", 41],
    ["41 yo", 41],
    ["41yo", 41],
    ["41 y/o", 41],
    ["41 years old", 41],
    ["41 yrs old", 41],
    ["41 years.", 41],
    ["41 Jahre", 41],
    ["41 Jahre alt", 41],
    ["41 J.", 41],
    ["41 ans", 41],
    ["1 an", 1],
    ["41 años", 41],
    ["41 anos", 41],
    ["41 anni", 41],
    ["41 jaar", 41],
    ["41 лет", 41],
    ["41 год", 41],
    ["42 года", 42],
    ["41 років", 41],
    ["41 lat", 41],
    ["41 yaşında", 41],
    [" 41 years ", 41],
    ["４１ years", 41],
  ])("%j → %d", (input, value) => {
    expect(validateNumber(input)).toEqual(ok(value));
  });

  it.each([
    "41 apples",
    "41 years 3 months",
    "years",
    "41 years years",
    "41 yearss",
    "41 months",
    "41 old",
    "y 41",
    "forty-one years",
    "41 - years",
    "41 y.o.o.",
  ])("%j is still refused", (input) => {
    expect(validateNumber(input)).toEqual({ ok: false, error: NUMBER_ERROR });
  });

  it("an ambiguous number before the unit is still asked back", () => {
    expect(validateNumber("1.000 years")).toEqual(askNumber("1000", "1"));
  });
});

describe("money: the same separator rule, and no three-decimal amounts", () => {
  it.each<[string, string | null, object]>([
    // the case: a German's deposit of a thousand euros
    ["1.000 €", "de", money(1000, "EUR")],
    ["1.000 €", null, askMoney("1000", "1")],
    ["1.000 €", "en", askMoney("1000", "1")], // English says decimal: 1.000 EUR is no amount anyone means
    ["1,000 €", "de", askMoney("1000", "1")],
    ["1,000 €", "en", money(1000, "EUR")],
    ["€1.000", "es", money(1000, "EUR")],
    ["R$ 2.500", "pt-br", money(2500, "BRL")],
    ["2.500 руб", "ru", money(2500, "RUB")], // Russian's decimal mark is the comma
    // kept as they were: English notation when no language is known
    ["$1,000", null, money(1000, "USD")],
    ["$1,000", "en", money(1000, "USD")],
    ["12,345 EUR", null, money(12345, "EUR")],
    ["$1,000", "de", askMoney("1000", "1")],
    // a multiplier scales the decimals away, so the mark decides
    ["1.500k", null, money(1500, null)],
    ["1.500k", "en", money(1500, null)],
    ["1.500k", "de", money(1500000, null)],
    ["1,500k", "de", money(1500, null)],
    // not the ambiguous shape
    ["€250.50", null, money(250.5, "EUR")],
    ["€250.50", "de", money(250.5, "EUR")],
    ["12,50 €", "en", money(12.5, "EUR")],
    ["1.000.000 €", "en", money(1000000, "EUR")],
    ["1.000,50 €", null, money(1000.5, "EUR")],
    ["0.500 BHD", null, money(0.5, "BHD")],
    ["1k", null, money(1000, null)],
    ["300 EUR", "de", money(300, "EUR")],
    // a negative amount is refused whatever it means
    ["-1.000 €", null, { ok: false, error: MONEY_NEGATIVE_ERROR }],
    ["1.000 € 2", "de", { ok: false, error: MONEY_ERROR }],
  ])("%j with %j", (input, languageCode, expected) => {
    expect(validateMoney(input, { languageCode })).toEqual(expected);
  });

  it("the ask-back names both readings and is a sentence", () => {
    expect(validateAnswer("money", "1.000 €")).toEqual({
      ok: false,
      error: "Do you mean 1000 or 1? Please type the amount without separators.",
      askBack: true,
    });
  });
});
