/**
 * E-mail addresses: a sane syntax check, no network look-ups (no MX, no SMTP probe): a typo in
 * the domain is the user's to fix, and an answer must not wait on DNS.
 */
import type { ValidationResult } from "./types.ts";

export const EMAIL_ERROR = "That doesn't look like an e-mail address. Please reply with one like name@example.com.";

/** RFC 5321's limits: a forward path of 254 characters, a local part of 64. */
const MAX_EMAIL_LENGTH = 254;
const MAX_LOCAL_LENGTH = 64;

// Unquoted local part: the atom characters, dots only between them ("a.b", not ".a", "a..b").
// Quoted local parts ("john doe"@x) are legal but nobody types them into a chat.
const LOCAL = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(?:\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
// Domain: two or more labels of letters, digits and inner hyphens (letters include IDNs), the
// last one a top-level domain of letters. No IP literals ([192.0.2.1]).
const DOMAIN = /^(?:[\p{L}\p{N}](?:[\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?\.)+\p{L}{2,63}$/u;

export function validateEmail(input: string): ValidationResult {
  const text = input.length > MAX_EMAIL_LENGTH * 2 ? "" : input.normalize("NFC").trim();
  // "mailto:" comes along when an address is copied from a link.
  const address = text.replace(/^mailto:/i, "");
  if (address.length > MAX_EMAIL_LENGTH) return { ok: false, error: EMAIL_ERROR };
  const at = address.indexOf("@");
  if (at < 0 || at !== address.lastIndexOf("@")) return { ok: false, error: EMAIL_ERROR };
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > MAX_LOCAL_LENGTH || !LOCAL.test(local) || !DOMAIN.test(domain)) {
    return { ok: false, error: EMAIL_ERROR };
  }
  // The domain is case-insensitive (DNS), so it is stored lower-cased and two spellings compare
  // equal. The local part is the receiving server's to interpret: RFC 5321 lets "John" and
  // "john" be different mailboxes, so it keeps the case the user typed.
  return { ok: true, value: `${local}@${domain.toLowerCase()}` };
}
