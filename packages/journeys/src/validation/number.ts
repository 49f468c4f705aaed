import type { ValidationResult } from "./types.ts";

export const NUMBER_ERROR = "Please reply with a number, for example 42 or 3.5.";

/** Longer input can't be a sensible number; rejecting it up front keeps every regex below cheap. */
export const MAX_NUMBER_LENGTH = 64;

const GROUP_SEPARATORS = " \u00A0\u202F\u2009'\u2019";

// Digit-group patterns (no sign, no surrounding space). Only ASCII digits: exponents ("1e3"),
// hex ("0x1F"), "NaN" and "Infinity" are deliberately not numbers here.
const PLAIN_DOT = /^(?:\d+(?:\.\d+)?|\.\d+)$/; // 42, 3.5, .5
const SINGLE_COMMA = /^\d+,\d+$/; // 12,5 (decimal) or 1,000 (thousands): decided below
const COMMA_GROUPS = /^[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?$/; // 1,000  1,234,567.89
const SPACE_GROUPS = new RegExp(`^[1-9]\\d{0,2}([${GROUP_SEPARATORS}])\\d{3}(?:\\1\\d{3})*(?:[.,]\\d+)?$`); // 1 000, 1 234,5, 1'000
const DOT_GROUPS = /^[1-9]\d{0,2}(?:(?:\.\d{3})+,\d+|(?:\.\d{3}){2,})$/; // 1.234,56  1.000.000 (a lone 1.234 is a decimal)
const INDIAN_GROUPS = /^[1-9]\d?(?:,\d{2})+,\d{3}(?:\.\d+)?$/; // 1,00,000 (lakh grouping, common with ₹)

/**
 * Parses an unsigned number written with optional digit grouping and returns it as a canonical
 * decimal string ("1234.5"), or null. Returning a string lets money apply k/m multipliers
 * exactly (Number("1.1e3") is 1100, whereas 1.1 * 1000 is 1100.0000000000002).
 *
 * Comma rule: a single comma followed by exactly three digits is a thousands separator when the
 * digits before it form a valid leading group ("1,000" → 1000, "12,345" → 12345); otherwise the
 * comma is a decimal comma ("12,5" → 12.5, "0,500" → 0.5). So "1,234" means 1234, never 1.234.
 */
export function canonicalDecimal(body: string): string | null {
  if (body.length === 0 || body.length > MAX_NUMBER_LENGTH) return null;
  if (PLAIN_DOT.test(body)) return body;
  if (SINGLE_COMMA.test(body)) {
    return /^[1-9]\d{0,2},\d{3}$/.test(body) ? body.replace(",", "") : body.replace(",", ".");
  }
  if (COMMA_GROUPS.test(body) || INDIAN_GROUPS.test(body)) return body.replaceAll(",", "");
  if (SPACE_GROUPS.test(body)) return body.replace(/[^\d.,]/g, "").replace(",", ".");
  if (DOT_GROUPS.test(body)) return body.replaceAll(".", "").replace(",", ".");
  return null;
}

/** Parses a whole answer as a signed, finite number; null when it isn't exactly one number. */
export function parseNumber(input: string): number | null {
  if (input.length > MAX_NUMBER_LENGTH) return null;
  // NFKC folds full-width digits and exotic spaces (e.g. "４２", NBSP) into their ASCII forms.
  const match = /^([+\-\u2212]?)\s*(.*)$/su.exec(input.normalize("NFKC").trim());
  if (!match) return null;
  const decimal = canonicalDecimal(match[2] ?? "");
  if (decimal === null) return null;
  const value = Number(match[1] === "" || match[1] === "+" ? decimal : `-${decimal}`);
  if (!Number.isFinite(value)) return null;
  return value === 0 ? 0 : value; // no -0: it would surprise anyone comparing or displaying it
}

export function validateNumber(input: string): ValidationResult {
  const value = parseNumber(input);
  return value === null ? { ok: false, error: NUMBER_ERROR } : { ok: true, value };
}
