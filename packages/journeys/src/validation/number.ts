import { ambiguousSeparator, type DecimalMark, decimalMarkOf, readings } from "./separators.ts";
import type { AnswerContext, ValidationResult } from "./types.ts";

export const NUMBER_ERROR = "Please reply with a number, for example 42 or 3.5.";
export const numberAskBack = ([thousands, decimal]: [string, string]) =>
  `Do you mean ${thousands} or ${decimal}? Please type the number without separators.`;

/** Longer input can't be a sensible number; rejecting it up front keeps every regex below cheap. */
export const MAX_NUMBER_LENGTH = 64;

const GROUP_SEPARATORS = " \u00A0\u202F\u2009'\u2019";

// Digit-group patterns (no sign, no surrounding space). Only ASCII digits: exponents ("1e3"),
// hex ("0x1F"), "NaN" and "Infinity" are deliberately not numbers here.
const PLAIN_DOT = /^(?:\d+(?:\.\d+)?|\.\d+)$/; // 42, 3.5, .5
const SINGLE_COMMA = /^\d+,\d+$/; // 12,5  0,500  1000,000: a decimal comma (1,000 is decided before)
const COMMA_GROUPS = /^[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$/; // 1,000  1,234,567.89
const SPACE_GROUPS = new RegExp(`^[1-9]\\d{0,2}([${GROUP_SEPARATORS}])\\d{3}(?:\\1\\d{3})*(?:[.,]\\d+)?$`); // 1 000, 1 234,5, 1'000
const DOT_GROUPS = /^[1-9]\d{0,2}(?:(?:\.\d{3})+,\d+|(?:\.\d{3}){2,})$/; // 1.234,56  1.000.000 (a lone 1.234 is decided before)
const INDIAN_GROUPS = /^[1-9]\d?(?:,\d{2})+,\d{3}(?:\.\d+)?$/; // 1,00,000 (lakh grouping, common with ₹)

/**
 * Parses an unsigned number written with optional digit grouping and returns it as a canonical
 * decimal string ("1234.5"), or null. Returning a string lets money apply k/m multipliers
 * exactly (Number("1.1e3") is 1100, whereas 1.1 * 1000 is 1100.0000000000002).
 *
 * The structure decides wherever it can: "12,5" and "0,500" are decimal commas (no valid
 * thousands group), "1,000,000" and "1.000.000" are groups, "1.234,56" and "1,234.56" say which
 * mark is which. Only one separator followed by exactly three digits after a valid leading group
 * ("1.000", "12,345") can be either; `decimalMark` decides that one: with "." (English, the
 * default) "1,234" is 1234 and "1.234" is 1.234; with "," (German) the other way round. Callers
 * that must not guess check `ambiguousSeparator` first.
 */
export function canonicalDecimal(body: string, decimalMark: DecimalMark = "."): string | null {
  if (body.length === 0 || body.length > MAX_NUMBER_LENGTH) return null;
  const ambiguous = ambiguousSeparator(body);
  if (ambiguous !== null) return ambiguous === decimalMark ? body.replace(",", ".") : body.replace(/[.,]/, "");
  if (PLAIN_DOT.test(body)) return body;
  if (SINGLE_COMMA.test(body)) return body.replace(",", ".");
  if (COMMA_GROUPS.test(body) || INDIAN_GROUPS.test(body)) return body.replaceAll(",", "");
  if (SPACE_GROUPS.test(body)) return body.replace(/[^\d.,]/g, "").replace(",", ".");
  if (DOT_GROUPS.test(body)) return body.replaceAll(".", "").replace(",", ".");
  return null;
}

/**
 * A unit of age after the number: "41 years", "41 y.o.", "41yo", "41 Jahre", "41 ans", "41 лет".
 * Only age units: they are what people add at "How old are you?", and a number question has no
 * other unit it could mean. "42 apples" stays refused.
 */
const AGE_UNIT =
  /^(?<num>.*\d)\s*(?:y|yrs?|years?|y\.?\s?o|y\/o|(?:yrs?|years?)\s+old|j|jahre?n?|jahre\s+alt|ans?|años?|anos?|anni|anno|jaar|лет|года?|рік|роки|років|lata?|yaş|yaşında)\.?$/iu;

/** Sign and unsigned body of an answer ("− 1 000" → ["-", "1 000"]), or null. */
function splitSign(input: string): [sign: "" | "-", body: string] | null {
  if (input.length > MAX_NUMBER_LENGTH) return null;
  // NFKC folds full-width digits and exotic spaces (e.g. "４２", NBSP) into their ASCII forms.
  const match = /^([+\-\u2212]?)\s*(.*)$/su.exec(input.normalize("NFKC").trim());
  if (!match) return null;
  return [match[1] === "" || match[1] === "+" ? "" : "-", match[2] ?? ""];
}

function toNumber(sign: string, decimal: string): number | null {
  const value = Number(`${sign}${decimal}`);
  if (!Number.isFinite(value)) return null;
  return value === 0 ? 0 : value; // no -0: it would surprise anyone comparing or displaying it
}

/**
 * Parses a whole answer as a signed, finite number; null when it isn't exactly one number.
 * `decimalMark` settles "1.000" / "1,000" (see canonicalDecimal); validateNumber asks instead.
 */
export function parseNumber(input: string, decimalMark: DecimalMark = "."): number | null {
  const parts = splitSign(input);
  if (parts === null) return null;
  const decimal = canonicalDecimal(parts[1], decimalMark);
  return decimal === null ? null : toNumber(parts[0], decimal);
}

/**
 * A number answer. "1.000" and "1,000" are read with the user's decimal mark (from
 * `languageCode`: "de" → 1000 and 1, "en" → 1 and 1000); when the language does not settle it we
 * ask back with both readings rather than store a guess. A trailing age unit is dropped.
 */
export function validateNumber(input: string, ctx?: AnswerContext): ValidationResult {
  if (input.length > MAX_NUMBER_LENGTH) return { ok: false, error: NUMBER_ERROR };
  const text = input.normalize("NFKC").trim();
  const unit = AGE_UNIT.exec(text);
  const parts = splitSign(unit?.groups?.num ?? text);
  if (parts === null) return { ok: false, error: NUMBER_ERROR };
  const [sign, body] = parts;
  const mark = decimalMarkOf(ctx?.languageCode);
  if (mark === null && ambiguousSeparator(body) !== null) {
    return { ok: false, error: numberAskBack(readings(body, sign)), askBack: true };
  }
  const decimal = canonicalDecimal(body, mark ?? ".");
  const value = decimal === null ? null : toNumber(sign, decimal);
  return value === null ? { ok: false, error: NUMBER_ERROR } : { ok: true, value };
}
