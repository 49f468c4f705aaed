import type { ValidationResult } from "./types.ts";

/** Telegram's own message limit, so a valid answer always fits in one message when echoed back. */
export const MAX_TEXT_LENGTH = 4096;

export const TEXT_EMPTY_ERROR = "Please reply with some text; an empty message can't be used as an answer.";
export const TEXT_TOO_LONG_ERROR = `That's too long. Please keep your answer under ${MAX_TEXT_LENGTH} characters.`;

// String.prototype.trim() covers Unicode spaces (\u00A0, \u2003, \uFEFF) but not zero-width
// characters, which paste in from web pages and make an answer look blank.
const EDGE_INVISIBLE = /^[\s\u200B-\u200D\u2060\u180E]$/u;
// A UTF-16 surrogate without its partner (code units, so no /u flag).
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
// An answer made only of spaces, format/control characters or blank-looking letters (the Braille
// blank and Hangul fillers are popular "empty message" tricks) is treated as empty.
const VISIBLE = /[^\s\p{Cf}\p{Cc}\u2800\u3164\u115F\u1160\uFFA0]/u;

export function validateText(input: string): ValidationResult {
  // Postgres text/jsonb cannot store NUL, so drop it here rather than fail at insert time.
  // Everything else (emoji, RTL, quotes, SQL/JSON metacharacters) is kept verbatim.
  // An unpaired UTF-16 surrogate (JSON can carry one as "\ud800") cannot be stored either: it
  // becomes U+FFFD, as any UTF-8 encoder would make it.
  const value = trimInvisible(input.replaceAll("\u0000", "").replace(LONE_SURROGATE, "\uFFFD"));
  if (!VISIBLE.test(value)) return { ok: false, error: TEXT_EMPTY_ERROR };
  // .length counts UTF-16 units (up to 2 per character); count code points so an emoji is one.
  if (value.length > MAX_TEXT_LENGTH && (value.length > 2 * MAX_TEXT_LENGTH || codePoints(value) > MAX_TEXT_LENGTH)) {
    return { ok: false, error: TEXT_TOO_LONG_ERROR };
  }
  return { ok: true, value };
}

/** A scanning trim: a regex like /\s+$/ is quadratic on long runs of inner whitespace. */
function trimInvisible(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && EDGE_INVISIBLE.test(s.charAt(start))) start++;
  while (end > start && EDGE_INVISIBLE.test(s.charAt(end - 1))) end--;
  return s.slice(start, end);
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}
