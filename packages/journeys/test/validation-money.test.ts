/** Money answers: every currency word and symbol, multipliers, anchors and signs (table-driven). */
import { describe, expect, it } from "vitest";
import type { ValidationResult } from "../src/validation/index.ts";
import { MONEY_CURRENCY_ERROR, MONEY_ERROR, MONEY_NEGATIVE_ERROR, validateMoney } from "../src/validation/money.ts";

const money = (amount: number, currency: string | null): ValidationResult => ({
  ok: true,
  value: { amount, currency },
});

/** Symbols people type before or after the amount: "₩5000", "5000 ₩". */
const SYMBOLS: [string, string][] = [
  ["$", "USD"],
  ["US$", "USD"],
  ["€", "EUR"],
  ["£", "GBP"],
  ["¥", "JPY"],
  ["₹", "INR"],
  ["₽", "RUB"],
  ["₩", "KRW"],
  ["₺", "TRY"],
  ["₴", "UAH"],
  ["₪", "ILS"],
  ["₦", "NGN"],
  ["₱", "PHP"],
  ["₫", "VND"],
  ["₸", "KZT"],
  ["฿", "THB"],
  ["A$", "AUD"],
  ["AU$", "AUD"],
  ["C$", "CAD"],
  ["CA$", "CAD"],
  ["NZ$", "NZD"],
  ["HK$", "HKD"],
  ["S$", "SGD"],
  ["R$", "BRL"],
];

/** Words, mostly written after the amount: "20 bucks", "300 рублей". */
const WORDS: [string, string][] = [
  ["dollar", "USD"],
  ["dollars", "USD"],
  ["US dollar", "USD"],
  ["us dollars", "USD"],
  ["buck", "USD"],
  ["bucks", "USD"],
  ["euro", "EUR"],
  ["Euros", "EUR"],
  ["pound", "GBP"],
  ["pounds", "GBP"],
  ["quid", "GBP"],
  ["yen", "JPY"],
  ["rupee", "INR"],
  ["rupees", "INR"],
  ["ruble", "RUB"],
  ["rubles", "RUB"],
  ["rouble", "RUB"],
  ["roubles", "RUB"],
  ["руб", "RUB"],
  ["рублей", "RUB"],
  ["yuan", "CNY"],
  ["RMB", "CNY"],
];

describe("currency symbols", () => {
  it.each(SYMBOLS)("%s before the amount → %s", (symbol, code) => {
    expect(validateMoney(`${symbol}5000`)).toEqual(money(5000, code));
  });
  it.each(SYMBOLS)("%s after the amount → %s", (symbol, code) => {
    expect(validateMoney(`5000 ${symbol}`)).toEqual(money(5000, code));
  });
});

describe("currency words", () => {
  it.each(WORDS)("20 %s → %s", (word, code) => {
    expect(validateMoney(`20 ${word}`)).toEqual(money(20, code));
  });
  it.each(WORDS)("%s 20 → %s", (word, code) => {
    expect(validateMoney(`${word} 20`)).toEqual(money(20, code));
  });
});

describe("ISO codes", () => {
  it.each<[string, string]>([
    ["300 USD", "USD"],
    ["300 usd", "USD"],
    ["300 Chf", "CHF"],
    ["KZT 300", "KZT"],
    ["300 MXN", "MXN"], // starts like the multiplier "m"
    ["300 KES", "KES"], // starts like "k"
    ["300 BND", "BND"], // starts like "b"
    ["300   EUR", "EUR"],
    ["300 US  dollars", "USD"], // inner runs of spaces count as one
  ])("%s → %s", (input, code) => {
    expect(validateMoney(input)).toEqual(money(300, code));
  });
});

describe("multipliers", () => {
  it.each<[string, number, string | null]>([
    ["3k", 3_000, null],
    ["3 thousand", 3_000, null],
    ["3 Thousand", 3_000, null],
    ["3m", 3_000_000, null],
    ["3 mn", 3_000_000, null],
    ["3mln", 3_000_000, null],
    ["3 million", 3_000_000, null],
    ["3 MILLION", 3_000_000, null],
    ["3b", 3_000_000_000, null],
    ["3 bn", 3_000_000_000, null],
    ["3 billion", 3_000_000_000, null],
    ["1.1k", 1_100, null],
    ["0.5k", 500, null],
    ["300 K EUR", 300_000, "EUR"],
    ["300k€", 300_000, "EUR"],
    ["2m$", 2_000_000, "USD"],
    ["$2.5m", 2_500_000, "USD"],
    ["1.5 bn dollars", 1_500_000_000, "USD"],
    ["€1 thousand", 1_000, "EUR"],
  ])("%s → %d %s", (input, amount, currency) => {
    expect(validateMoney(input)).toEqual(money(amount, currency));
  });
});

describe("signs and zero", () => {
  it.each<[string, ValidationResult]>([
    ["+5", money(5, null)],
    ["+$5", money(5, "USD")],
    ["$+5", money(5, "USD")],
    ["-0", money(0, null)],
    ["-$0", money(0, "USD")],
    ["\u22120", money(0, null)],
    ["0.00 EUR", money(0, "EUR")],
    ["-5", { ok: false, error: MONEY_NEGATIVE_ERROR }],
    ["\u22125", { ok: false, error: MONEY_NEGATIVE_ERROR }], // Unicode minus is a minus, not nothing
    ["\u2212$5", { ok: false, error: MONEY_NEGATIVE_ERROR }],
    ["$\u22125", { ok: false, error: MONEY_NEGATIVE_ERROR }],
    ["-1k", { ok: false, error: MONEY_NEGATIVE_ERROR }],
    ["+-5", { ok: false, error: MONEY_ERROR }],
    ["-\u22125", { ok: false, error: MONEY_ERROR }],
    ["--5", { ok: false, error: MONEY_ERROR }],
    ["++5", { ok: false, error: MONEY_ERROR }],
  ])("%j → %j", (input, expected) => {
    expect(validateMoney(input)).toEqual(expected);
  });
});

describe("exactly one amount, nothing unknown around it", () => {
  it.each<[string, string]>([
    ["5 $6", MONEY_ERROR], // not 6 USD
    ["5 EUR 6", MONEY_ERROR], // not 5 EUR
    ["$5 $6", MONEY_ERROR],
    ["300 xk", MONEY_ERROR], // not 300,000
    ["300 kx", MONEY_ERROR],
    ["300 k k", MONEY_ERROR],
    ["300 k XYZ", MONEY_ERROR],
    ["300 kilo", MONEY_ERROR],
    ["300 k.EUR", MONEY_ERROR], // only a full stop at the very end is forgiven
    ["300 EUR.x", MONEY_ERROR],
    ["apples 300", MONEY_ERROR],
    ["300 apples", MONEY_ERROR],
    ["300 ab", MONEY_ERROR],
    ["300 abcd", MONEY_ERROR],
    ["a300", MONEY_ERROR],
    ["300 XYZ", MONEY_CURRENCY_ERROR],
    ["300 xyz", MONEY_CURRENCY_ERROR],
    ["300 XYZ.", MONEY_CURRENCY_ERROR],
    ["300 XYZ!", MONEY_CURRENCY_ERROR],
    ["XYZ 300", MONEY_CURRENCY_ERROR],
    [" XYZ300", MONEY_CURRENCY_ERROR],
    ["300 XXX", MONEY_CURRENCY_ERROR], // ISO's "no currency" code is not a currency
    ["300 XTS", MONEY_CURRENCY_ERROR], // nor is its test code
    ["€300 USD", MONEY_ERROR], // two different currencies
    ["£5 EUR", MONEY_ERROR],
    ["5.5.5", MONEY_ERROR],
    ["12 34", MONEY_ERROR],
    ["$", MONEY_ERROR],
    ["", MONEY_ERROR],
  ])("%j → %j", (input, error) => {
    expect(validateMoney(input)).toEqual({ ok: false, error });
  });

  it.each<[string, ValidationResult]>([
    ["$300 USD", money(300, "USD")], // the same currency twice is fine
    ["300 EUR.", money(300, "EUR")],
    ["300 EUR!!", money(300, "EUR")],
    ["300 EUR. ", money(300, "EUR")],
    ["300.", money(300, null)],
    [".5", money(0.5, null)],
    ["1'000 CHF", money(1000, "CHF")],
    ["1\u2019000 CHF", money(1000, "CHF")],
    ["１００ ＥＵＲ", money(100, "EUR")], // full-width, folded by NFKC
    ["\u00A0$1\u00A0000\u00A0", money(1000, "USD")],
  ])("%j → %j", (input, expected) => {
    expect(validateMoney(input)).toEqual(expected);
  });
});

describe("length cap", () => {
  it("accepts a 64-character answer", () => {
    const input = `${" ".repeat(58)}$1,000`;
    expect(input).toHaveLength(64);
    expect(validateMoney(input)).toEqual(money(1000, "USD"));
  });
  it("refuses a 65-character answer before parsing it", () => {
    expect(validateMoney(`${" ".repeat(59)}$1,000`)).toEqual({ ok: false, error: MONEY_ERROR });
  });
});
