/**
 * Which mark a user writes decimals with, from their Telegram `language_code`. Only one shape of
 * number needs it: one separator followed by exactly three digits ("1.000", "12,345"), a
 * thousand-group to a German and a decimal to an Englishman. Every other shape settles itself
 * ("1,5", "1.234,56", "1,000,000"), so the locale is never asked about those.
 */
export type DecimalMark = "." | ",";

/** "1.000", "1,000", "999.999": a valid leading group, one separator, exactly three digits. */
const AMBIGUOUS_GROUP = /^[1-9]\d{0,2}([.,])\d{3}$/;

/** The separator of a number written in the ambiguous shape, else null. */
export function ambiguousSeparator(body: string): DecimalMark | null {
  const m = AMBIGUOUS_GROUP.exec(body);
  return m ? (m[1] as DecimalMark) : null;
}

/** language_code → mark; few distinct codes arrive, so the cache stays tiny (capped all the same). */
const MARKS = new Map<string, DecimalMark | null>();
const MAX_CACHED = 512;

/**
 * The decimal mark of a Telegram `language_code` ("de" → ",", "en" → ".", "de-CH" → ".",
 * "pt-br" → ","), from the ICU data Node ships, so regional variants come right without a table of
 * our own. Null when unknown: no code, a code Intl does not know, or a locale whose mark is
 * neither "." nor "," (Persian "٫").
 */
export function decimalMarkOf(languageCode: string | null | undefined): DecimalMark | null {
  if (typeof languageCode !== "string" || languageCode === "" || languageCode.length > 35) return null;
  const cached = MARKS.get(languageCode);
  if (cached !== undefined) return cached;
  const mark = lookupMark(languageCode.replaceAll("_", "-"));
  if (MARKS.size < MAX_CACHED) MARKS.set(languageCode, mark);
  return mark;
}

function lookupMark(tag: string): DecimalMark | null {
  try {
    const [locale] = Intl.NumberFormat.supportedLocalesOf(tag);
    if (locale === undefined) return null;
    const mark = new Intl.NumberFormat(locale).formatToParts(1.5).find((p) => p.type === "decimal")?.value;
    return mark === "." || mark === "," ? mark : null;
  } catch {
    return null; // not a well-formed language tag
  }
}

/** Both readings of an ambiguous body, for the question we ask back: ["1000", "1"]. */
export function readings(body: string, sign: string): [thousands: string, decimal: string] {
  const thousands = body.replace(/[.,]/, "");
  const decimal = String(Number(body.replace(",", ".")));
  return [`${sign}${thousands}`, `${sign}${decimal}`];
}
