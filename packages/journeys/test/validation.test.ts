import { describe, expect, it } from "vitest";
import {
  type AnswerContext,
  isValidationKind,
  type NormalisedValue,
  VALIDATION_KINDS,
  type ValidationKind,
  validateAnswer,
} from "../src/validation/index.ts";

const LONG = "1".repeat(4000);
const LONG_WORDS = "lorem ipsum ".repeat(334).slice(0, 4000);

type ValidCase = [input: string, expected: NormalisedValue];

/** What each kind is asked with below: a choice needs its options, a phone a default region. */
const OPTIONS = [
  { label: "Yes, please", value: "yes" },
  { label: "No", value: "no" },
  { label: "Maybe later", value: "later" },
  { label: "🚀 Crypto", value: "crypto" },
];
const CONTEXT: Partial<Record<ValidationKind, AnswerContext>> = {
  choice: { options: OPTIONS },
  phone: { defaultRegion: "DE" },
};

/** Keeps test names readable when the input is thousands of characters long. */
const label = (input: string) => (input.length > 40 ? `${input.slice(0, 40)}… (${input.length} chars)` : input);

const valid: Record<ValidationKind, ValidCase[]> = {
  number: [
    ["42", 42],
    ["0", 0],
    ["-7", -7],
    ["+5", 5],
    ["  3.14  ", 3.14],
    ["-0.5", -0.5],
    [".5", 0.5],
    ["007", 7],
    ["1 000", 1000],
    ["1\u00A0000", 1000],
    ["12 345 678", 12345678],
    ["1,234.56", 1234.56],
    ["1,234,567", 1234567],
    ["41 years", 41],
    ["41 y.o.", 41],
    ["12,5", 12.5],
    ["12,50", 12.5],
    ["0,500", 0.5],
    ["1 234,5", 1234.5],
    ["1'000", 1000],
    ["1.234,56", 1234.56],
    ["1.000.000", 1000000],
    ["1,00,000", 100000],
    ["\u221212", -12],
    ["\uFF14\uFF12", 42],
    ["-0", 0],
    ["9".repeat(64), 1e64],
  ],
  text: [
    ["hello", "hello"],
    ["  padded  ", "padded"],
    ["\u00A0\u2003 nbsp and em space \u200B", "nbsp and em space"],
    ["line one\nline two", "line one\nline two"],
    ["🎉 party 👨‍👩‍👧", "🎉 party 👨‍👩‍👧"],
    ["مرحبا بالعالم", "مرحبا بالعالم"],
    ["שלום", "שלום"],
    ["日本語のテキスト", "日本語のテキスト"],
    ["Robert'); DROP TABLE answers;--", "Robert'); DROP TABLE answers;--"],
    ['{"a": [1, 2], "b": "\\u0000"}', '{"a": [1, 2], "b": "\\u0000"}'],
    ["<b>not html</b> & co", "<b>not html</b> & co"],
    ["0", "0"],
    ["a", "a"],
    ["a\u0000b", "ab"],
    ["zero\u200Bwidth inside", "zero\u200Bwidth inside"],
    ["🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"],
    ["x".repeat(4096), "x".repeat(4096)],
    ["😀".repeat(4096), "😀".repeat(4096)],
    [`  ${"y".repeat(4096)}  `, "y".repeat(4096)],
    [LONG_WORDS.slice(0, 4000).trim(), LONG_WORDS.slice(0, 4000).trim()],
  ],
  country: [
    ["Germany", "DE"],
    ["germany", "DE"],
    ["GERMANY", "DE"],
    ["  Germany!  ", "DE"],
    ["DE", "DE"],
    ["DEU", "DE"],
    ["Deutschland", "DE"],
    ["Allemagne", "DE"],
    ["Германия", "DE"],
    ["USA", "US"],
    ["US", "US"],
    ["U.S.A.", "US"],
    ["United States", "US"],
    ["united states of america", "US"],
    ["America", "US"],
    ["UK", "GB"],
    ["the UK", "GB"],
    ["Great Britain", "GB"],
    ["England", "GB"],
    ["Britain", "GB"],
    ["United Kingdom", "GB"],
    ["Russia", "RU"],
    ["Россия", "RU"],
    ["South Korea", "KR"],
    ["Korea", "KR"],
    ["North Korea", "KP"],
    ["UAE", "AE"],
    ["Holland", "NL"],
    ["The Netherlands", "NL"],
    ["Czechia", "CZ"],
    ["Czech Republic", "CZ"],
    ["Ivory Coast", "CI"],
    ["Côte d'Ivoire", "CI"],
    ["cote divoire", "CI"],
    ["España", "ES"],
    ["espana", "ES"],
    ["(FR)", "FR"],
    ["🇯🇵", "JP"],
  ],
  money: [
    ["1000", { amount: 1000, currency: null }],
    ["0", { amount: 0, currency: null }],
    ["$1,000", { amount: 1000, currency: "USD" }],
    ["1k", { amount: 1000, currency: null }],
    ["1K", { amount: 1000, currency: null }],
    ["1.5k", { amount: 1500, currency: null }],
    ["1.1k", { amount: 1100, currency: null }],
    ["2m", { amount: 2000000, currency: null }],
    ["2M", { amount: 2000000, currency: null }],
    ["3 million", { amount: 3000000, currency: null }],
    ["€250.50", { amount: 250.5, currency: "EUR" }],
    ["300 EUR", { amount: 300, currency: "EUR" }],
    ["300EUR", { amount: 300, currency: "EUR" }],
    ["eur 300", { amount: 300, currency: "EUR" }],
    ["£20", { amount: 20, currency: "GBP" }],
    ["¥5000", { amount: 5000, currency: "JPY" }],
    ["₹1,00,000", { amount: 100000, currency: "INR" }],
    ["1 000 000 ₽", { amount: 1000000, currency: "RUB" }],
    ["300 usd", { amount: 300, currency: "USD" }],
    ["300 dollars", { amount: 300, currency: "USD" }],
    ["300 euros", { amount: 300, currency: "EUR" }],
    ["300 pounds", { amount: 300, currency: "GBP" }],
    ["US$50", { amount: 50, currency: "USD" }],
    ["$ 50 USD", { amount: 50, currency: "USD" }],
    ["1.5k EUR", { amount: 1500, currency: "EUR" }],
    ["$2.5m", { amount: 2500000, currency: "USD" }],
    ["12,50 €", { amount: 12.5, currency: "EUR" }],
    ["  100 chf  ", { amount: 100, currency: "CHF" }],
    ["300 MXN", { amount: 300, currency: "MXN" }],
    ["300 EUR.", { amount: 300, currency: "EUR" }],
    ["+5", { amount: 5, currency: null }],
  ],
  choice: [
    ["Yes, please", "yes"],
    ["yes, please", "yes"],
    ["  YES,   PLEASE ", "yes"],
    ["No", "no"],
    ["no", "no"],
    ["maybe later", "later"],
    ["MAYBE\u00A0LATER", "later"],
    ["🚀 Crypto", "crypto"],
    ["🚀 crypto", "crypto"],
    ["later", "later"],
    ["LATER", "later"],
    ["crypto", "crypto"],
  ],
  phone: [
    ["+49 151 23456789", "+4915123456789"],
    ["+4915123456789", "+4915123456789"],
    ["0151 23456789", "+4915123456789"],
    ["0151/23456789", "+4915123456789"],
    ["(0151) 234-567-89", "+4915123456789"],
    ["0049 151 23456789", "+4915123456789"],
    ["\uFF0B49 151 23456789", "+4915123456789"],
    ["+1 202 555 0143", "+12025550143"],
    ["+44 20 7946 0958", "+442079460958"],
    ["+33 6 12 34 56 78", "+33612345678"],
    ["  +7 912 345-67-89  ", "+79123456789"],
  ],
  email: [
    ["name@example.com", "name@example.com"],
    ["  name@example.com  ", "name@example.com"],
    ["Name.Surname@Example.COM", "Name.Surname@example.com"],
    ["first+tag@sub.example.co.uk", "first+tag@sub.example.co.uk"],
    ["o'neil@example.ie", "o'neil@example.ie"],
    ["user_1-x@my-domain.org", "user_1-x@my-domain.org"],
    ["mailto:name@example.com", "name@example.com"],
    ["jörg@müller.de", "jörg@müller.de"],
    ["a@b.io", "a@b.io"],
    [`${"l".repeat(64)}@example.com`, `${"l".repeat(64)}@example.com`],
  ],
};

const invalid: Record<ValidationKind, string[]> = {
  number: [
    "",
    "   ",
    "\u00A0\u2003",
    "abc",
    "forty two",
    "42 apples",
    "NaN",
    "Infinity",
    "-Infinity",
    "1e400",
    "1e3",
    "0x1F",
    "12 34",
    "1 23",
    "1,2,3",
    "1,234,56",
    "1.2.3",
    "--5",
    "+-5",
    "5-",
    "1/2",
    "$5",
    "12.",
    LONG,
    `${"9".repeat(65)}`,
  ],
  text: [
    "",
    " ",
    "\t\n\r ",
    "\u00A0",
    "\u2003\u2003",
    "\u200B",
    "\u200B\u200C\u200D\uFEFF",
    "\u2800",
    "\u3164",
    "\u0000",
    " \u0000 ",
    "x".repeat(4097),
    "😀".repeat(4097),
    "a".repeat(100_000),
    " ".repeat(100_000),
    `${" ".repeat(50_000)}x${" ".repeat(50_000)}x`,
    "\u202E",
    "\u200E\u200F",
    "\u0001\u0002",
    "\u00A0\u200B\u2003\u3000",
  ],
  country: [
    "",
    "   ",
    "XX",
    "xx",
    "ZZZ",
    "Atlantis",
    "Narnia",
    "Congo",
    "123",
    "276",
    "!!!",
    "Germany France",
    "German",
    "🇽🇽",
    "🎉",
    "United",
    "Gerrmany",
    "a",
    "the",
    "DE DE",
    "x".repeat(4000),
    `${"Germany ".repeat(500)}`,
  ],
  money: [
    "",
    "   ",
    "abc",
    "dollars",
    "$",
    "k",
    "-5",
    "-$5",
    "$-5",
    "€-3.50",
    "300 XYZ",
    "300 abc",
    "300 apples",
    "5 or 6",
    "$5 and $6",
    "12 34",
    "1,2,3",
    "$300 EUR",
    "1e400",
    "NaN",
    "Infinity",
    "0x10",
    "5 kr",
    "--5",
    LONG,
    `$${"9".repeat(4000)}`,
  ],
  choice: [
    "",
    "   ",
    "yess",
    "Yes please",
    "Yes, please!",
    "YES, PLEASE, YES, PLEASE",
    "maybe",
    "Maybe  later later",
    "Krypto",
    "🚀",
    "l a t e r",
    "x".repeat(4000),
  ],
  phone: [
    "",
    "abc",
    "12",
    "+49 000 0000000",
    "+49 151 2345678912345",
    "+999 123 456 789",
    "call me on +49 151 23456789",
    "+49 151 23456789 or +49 151 23456780",
    "+49 151 2345678x",
    "49151234567890123456789",
    LONG,
  ],
  email: [
    "",
    "name",
    "name@",
    "@example.com",
    "name@example",
    "name@@example.com",
    "na@me@example.com",
    "name @example.com",
    "name@exa mple.com",
    ".name@example.com",
    "name.@example.com",
    "na..me@example.com",
    "name@example..com",
    "name@-example.com",
    "name@example-.com",
    "name@example.c",
    "name@example.123",
    "name@[192.0.2.1]",
    '"john doe"@example.com',
    "<name@example.com>",
    `${"l".repeat(65)}@example.com`,
    `a@${"d".repeat(63)}.${"e".repeat(63)}.${"f".repeat(63)}.${"g".repeat(60)}.com`,
    LONG,
  ],
};

describe.each(VALIDATION_KINDS)("validateAnswer(%s)", (kind) => {
  it.each(valid[kind].map(([input, expected]) => [label(input), input, expected] as const))(
    "accepts %j",
    (_label, input, expected) => {
      expect(validateAnswer(kind, input, CONTEXT[kind])).toEqual({ ok: true, value: expected });
    },
  );

  it.each(invalid[kind].map((input) => [label(input), input]))("rejects %j", (_label, input) => {
    const result = validateAnswer(kind, input, CONTEXT[kind]);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.trim().length).toBeGreaterThan(0);
      expect(result.error).toMatch(/^[A-Z].*[.]$/); // a sentence the bot can send verbatim
    }
  });

  it("has at least 20 cases", () => {
    expect(valid[kind].length + invalid[kind].length).toBeGreaterThanOrEqual(20);
  });
});

describe("error messages", () => {
  it.each<[ValidationKind, string, RegExp]>([
    ["number", "abc", /number/i],
    ["text", "", /text/i],
    ["text", "x".repeat(4097), /too long/i],
    ["country", "Atlantis", /country/i],
    ["money", "abc", /amount/i],
    ["money", "-5", /negative/i],
    ["money", "300 XYZ", /currency/i],
    ["choice", "maybe", /Yes, please, No, Maybe later, 🚀 Crypto/],
    ["phone", "abc", /phone number/i],
    ["email", "abc", /e-mail/i],
  ])("%s %j → %s", (kind, input, pattern) => {
    const result = validateAnswer(kind, input, CONTEXT[kind]);
    expect(result).toEqual({ ok: false, error: expect.stringMatching(pattern) });
  });
});

describe("long input", () => {
  it.each(VALIDATION_KINDS)("%s rejects a 4,000-character answer quickly", (kind) => {
    const input = kind === "text" ? "x".repeat(5000) : LONG;
    const started = performance.now();
    for (let i = 0; i < 100; i++) expect(validateAnswer(kind, input, CONTEXT[kind]).ok).toBe(false);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});

describe("isValidationKind", () => {
  it.each([...VALIDATION_KINDS])("accepts %s", (kind) => {
    expect(isValidationKind(kind)).toBe(true);
  });
  it.each([["date"], ["Number"], [""], [null], [undefined], [42], [{}]])("rejects %j", (x) => {
    expect(isValidationKind(x)).toBe(false);
  });
});
