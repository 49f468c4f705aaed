/**
 * Phone numbers, stored as E.164 ("+4915123456789"). libphonenumber-js's "max" metadata checks
 * each country's number patterns, not just lengths, so "+49 000 0000000" is refused rather than
 * stored as a lead nobody can call.
 */
import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from "libphonenumber-js/max";
import type { AnswerContext, ValidationResult } from "./types.ts";

export const PHONE_ERROR =
  "That doesn't look like a phone number. Please type it with the country code, for example +49 151 23456789, or tap the button to share it.";
export const PHONE_INTERNATIONAL_ERROR =
  "Please type your number in international format, starting with + and the country code, for example +49 151 23456789, or tap the button to share it.";

/** The longest E.164 number is 15 digits; spaces, dashes and brackets leave room up to here. */
const MAX_PHONE_LENGTH = 40;

/** A region libphonenumber knows ("DE"), else undefined: an odd default must not break parsing. */
function region(code: string | null | undefined): CountryCode | undefined {
  return typeof code === "string" && /^[A-Z]{2}$/.test(code) && isSupportedCountry(code) ? code : undefined;
}

/** E.164 of a valid number, else null. "00" is the international prefix most of the world dials. */
function toE164(text: string, defaultRegion: CountryCode | undefined): string | null {
  const international = text.replace(/^00/, "+");
  // extract: false: the whole answer must be the number ("call me on +49…" is not a phone number).
  const parsed = parsePhoneNumberFromString(international, { defaultCountry: defaultRegion, extract: false });
  return parsed?.isValid() ? parsed.number : null;
}

export function validatePhone(input: string, ctx?: AnswerContext): ValidationResult {
  if (input.length > MAX_PHONE_LENGTH) return { ok: false, error: PHONE_ERROR };
  // NFKC folds full-width digits and "＋" into ASCII.
  const text = input.normalize("NFKC").trim();
  const defaultRegion = region(ctx?.defaultRegion);
  const number = toE164(text, defaultRegion);
  if (number !== null) return { ok: true, value: number };
  const national = !/^(?:\+|00)/.test(text);
  return { ok: false, error: national && defaultRegion === undefined ? PHONE_INTERNATIONAL_ERROR : PHONE_ERROR };
}

/**
 * A contact shared with the phone button: its phone_number (digits, maybe without "+") → E.164,
 * or null. Telegram sends the account's own number in full international form, usually without
 * the "+"; the default region is only a fallback for a contact that carries a national number.
 */
export function phoneFromContact(phoneNumber: string, defaultRegion?: string | null): string | null {
  if (typeof phoneNumber !== "string" || phoneNumber.length > MAX_PHONE_LENGTH) return null;
  const text = phoneNumber.normalize("NFKC").trim();
  if (/^(?:\+|00)/.test(text)) return toE164(text, undefined);
  return toE164(`+${text}`, undefined) ?? toE164(text, region(defaultRegion));
}

/** A default region a phone question may carry: an upper-case alpha-2 code with a numbering plan. */
export function isPhoneRegion(x: unknown): x is CountryCode {
  return typeof x === "string" && region(x) !== undefined;
}
