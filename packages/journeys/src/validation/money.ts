import { canonicalDecimal } from "./number.ts";
import { ambiguousSeparator, decimalMarkOf, readings } from "./separators.ts";
import type { AnswerContext, ValidationResult } from "./types.ts";

export const MONEY_ERROR = "Please reply with an amount, for example 1500, $1,000 or 250 EUR.";
export const MONEY_NEGATIVE_ERROR = "The amount can't be negative. Please reply with an amount like 1500 or $1,000.";
export const moneyAskBack = ([thousands, decimal]: [string, string]) =>
  `Do you mean ${thousands} or ${decimal}? Please type the amount without separators.`;
export const MONEY_CURRENCY_ERROR =
  "I don't recognise that currency. Please use a 3-letter code like USD or EUR, or a symbol like $, € or £.";

/** Longer input can't be a single amount; rejecting it up front keeps the regexes cheap. */
const MAX_MONEY_LENGTH = 64;

/**
 * Active ISO 4217 codes. Node 20 ships full ICU, so Intl knows the current list (~160 codes, no
 * test codes like XXX/XTS); the constant is only a fallback for runtimes built without it.
 */
const CURRENCY_CODES: ReadonlySet<string> = new Set(
  typeof Intl.supportedValuesOf === "function"
    ? Intl.supportedValuesOf("currency")
    : "AED AUD BRL CAD CHF CNY CZK DKK EUR GBP HKD HUF IDR ILS INR JPY KRW KZT MXN NOK NZD PLN RUB SEK SGD THB TRY UAH USD ZAR".split(
        " ",
      ),
);

/** Symbols and words people actually type. Ambiguous ones ("kr", "franc", "peso") are left out. */
const CURRENCY_TOKENS: Record<string, string> = {
  $: "USD",
  us$: "USD",
  "€": "EUR",
  "£": "GBP",
  "¥": "JPY", // also used for CNY, but the spec (and most users) mean yen
  "₹": "INR",
  "₽": "RUB",
  "₩": "KRW",
  "₺": "TRY",
  "₴": "UAH",
  "₪": "ILS",
  "₦": "NGN",
  "₱": "PHP",
  "₫": "VND",
  "₸": "KZT",
  "฿": "THB",
  a$: "AUD",
  au$: "AUD",
  c$: "CAD",
  ca$: "CAD",
  nz$: "NZD",
  hk$: "HKD",
  s$: "SGD",
  r$: "BRL",
  dollar: "USD",
  dollars: "USD",
  "us dollar": "USD",
  "us dollars": "USD",
  buck: "USD",
  bucks: "USD",
  euro: "EUR",
  euros: "EUR",
  pound: "GBP",
  pounds: "GBP",
  quid: "GBP",
  yen: "JPY",
  rupee: "INR",
  rupees: "INR",
  ruble: "RUB",
  rubles: "RUB",
  rouble: "RUB",
  roubles: "RUB",
  руб: "RUB",
  рублей: "RUB",
  yuan: "CNY",
  rmb: "CNY",
};

/** Suffix multiplier → power of ten ("1.5k", "2M", "3 million"). */
const MULTIPLIERS: Record<string, number> = {
  k: 3,
  thousand: 3,
  m: 6,
  mn: 6,
  mln: 6,
  million: 6,
  b: 9,
  bn: 9,
  billion: 9,
};

const NO_CURRENCY = "";

/** "" → NO_CURRENCY, a known symbol/word/code → ISO code, anything else → null. */
function resolveCurrency(token: string): string | null {
  const key = token.trim().toLowerCase().replace(/\s+/g, " ");
  if (key === "") return NO_CURRENCY;
  const known = CURRENCY_TOKENS[key];
  if (known !== undefined) return known;
  const code = key.toUpperCase();
  return /^[A-Z]{3}$/.test(code) && CURRENCY_CODES.has(code) ? code : null;
}

/** The text after the number: a currency ("eur"), a multiplier ("k") or both ("k eur", "m$"). */
function resolveSuffix(post: string): { exponent: number; currency: string } | null {
  const whole = resolveCurrency(post);
  // Whole-token first, so codes that start like a multiplier (MXN, KES, BND) stay currencies.
  if (whole !== null) return { exponent: 0, currency: whole };
  const m = /^\s*(thousand|million|billion|mln|mn|bn|k|m|b)(.*)$/isu.exec(post);
  if (!m) return null;
  const exponent = MULTIPLIERS[(m[1] ?? "").toLowerCase()];
  const currency = resolveCurrency(m[2] ?? "");
  return exponent === undefined || currency === null ? null : { exponent, currency };
}

type Failure = { ok: false; error: string };
const fail = (error: string): Failure => ({ ok: false, error });

/**
 * A money answer: `{ amount, currency }`.
 *
 * "1.000 €" / "$1,000" (one separator, three digits) are read with the user's decimal mark from
 * `languageCode`, English when unknown (the bot's own texts are English, and "$1,000" is the
 * SPEC's example). A separator that mark calls a group is a thousand ("1.000 €" in German,
 * "$1,000" in English). One it calls a decimal would make an amount with three decimal places,
 * which nobody means, so we ask back ("1.000 €" in English or with no language, "1,000 €" in
 * German) — unless a multiplier scales the decimals away ("1.500k" is 1500 in English).
 */
export function validateMoney(input: string, ctx?: AnswerContext): ValidationResult {
  if (input.length > MAX_MONEY_LENGTH) return fail(MONEY_ERROR);
  const s = input.normalize("NFKC").trim();
  // Exactly one run of digits (with grouping), optional text before and after: "US$ 1,000",
  // "1.5k EUR". Digits on both sides of a word ("5 or 6", "$5 and $6") fail the match.
  const m = /^(?<pre>[^\d]*?)(?<num>\.?\d(?:[\d.,' \u2019]*\d)?)(?<post>[^\d]*)$/su.exec(s);
  if (!m?.groups) return fail(MONEY_ERROR);
  const { pre = "", num = "", post = "" } = m.groups;

  // A sign can sit before or after a prefix currency: "-$5", "$-5", "+€3".
  const signs = pre.match(/[+\-\u2212]/g) ?? [];
  if (signs.length > 1) return fail(MONEY_ERROR);
  const negative = signs[0] === "-" || signs[0] === "\u2212";
  const prefix = resolveCurrency(pre.replace(/[+\-\u2212]/, ""));
  // Tolerate a sentence-ending full stop or "!": "300 EUR."
  const suffix = resolveSuffix(post.replace(/[.!]+\s*$/, ""));
  if (prefix === null || suffix === null) {
    return fail(looksLikeCode(pre) || looksLikeCode(post) ? MONEY_CURRENCY_ERROR : MONEY_ERROR);
  }
  if (prefix !== NO_CURRENCY && suffix.currency !== NO_CURRENCY && prefix !== suffix.currency) {
    return fail(MONEY_ERROR); // "$300 EUR": which one?
  }

  const mark = decimalMarkOf(ctx?.languageCode) ?? ".";
  if (ambiguousSeparator(num) === mark && suffix.exponent === 0 && !negative) {
    return { ok: false, error: moneyAskBack(readings(num, "")), askBack: true };
  }
  const decimal = canonicalDecimal(num, mark);
  if (decimal === null) return fail(MONEY_ERROR); // "12 34", "1,2,3"
  // Scale in decimal notation so "1.1k" is exactly 1100 (1.1 * 1000 is 1100.0000000000002).
  const amount = Number(`${decimal}e${suffix.exponent}`);
  if (!Number.isFinite(amount)) return fail(MONEY_ERROR);
  if (negative && amount !== 0) return fail(MONEY_NEGATIVE_ERROR);
  const currency = prefix || suffix.currency || null;
  return { ok: true, value: { amount: amount === 0 ? 0 : amount, currency } };
}

/** "300 XYZ" deserves a currency-specific message; "300 apples" just the generic one. */
function looksLikeCode(s: string): boolean {
  return /^\s*[a-z]{3}\s*[.!]*\s*$/i.test(s);
}
