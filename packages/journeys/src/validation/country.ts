import countries from "i18n-iso-countries";
import de from "i18n-iso-countries/langs/de.json" with { type: "json" };
import en from "i18n-iso-countries/langs/en.json" with { type: "json" };
import es from "i18n-iso-countries/langs/es.json" with { type: "json" };
import fr from "i18n-iso-countries/langs/fr.json" with { type: "json" };
import it from "i18n-iso-countries/langs/it.json" with { type: "json" };
import pt from "i18n-iso-countries/langs/pt.json" with { type: "json" };
import ru from "i18n-iso-countries/langs/ru.json" with { type: "json" };
import uk from "i18n-iso-countries/langs/uk.json" with { type: "json" };
import { matchOption } from "./choice.ts";
import type { AnswerContext, ValidationResult } from "./types.ts";

export const COUNTRY_ERROR =
  "I couldn't recognise that country. Please reply with a country name or its 2-letter code, for example Germany or DE.";

/** The longest official names are ~55 characters; anything much longer is not a country. */
const MAX_COUNTRY_LENGTH = 100;

// Registered explicitly: the Node entry point happens to preload every locale, but the browser
// one does not, and this list also decides which languages' names we match (see NAME_INDEX).
const LOCALES = [en, de, fr, es, it, pt, ru, uk];
for (const locale of LOCALES) countries.registerLocale(locale);

/** Everyday names the library doesn't list (it already has UK, USA, UAE, Czechia, Ivory Coast…). */
const ALIASES: Record<string, string> = {
  america: "US",
  britain: "GB",
  england: "GB",
  scotland: "GB",
  wales: "GB",
  "northern ireland": "GB",
  holland: "NL",
  korea: "KR",
  burma: "MM",
  vatican: "VA",
  "vatican city": "VA",
  macedonia: "MK",
  czech: "CZ",
  emirates: "AE",
  bosnia: "BA",
  drc: "CD",
};

/**
 * Lower-case, accent-free, punctuation-free key, so "Côte d'Ivoire", "cote divoire" and
 * "U.S.A." all match ("cote divoire", "usa"). A leading "the" is dropped ("The Gambia").
 */
function nameKey(s: string): string {
  return s
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .toLowerCase()
    .replace(/[.'\u2019]/g, "")
    .replace(/[^\p{L}\p{N}]+/gu, " ")
    .trim()
    .replace(/^the /, "");
}

const AMBIGUOUS = "";

/**
 * name key → alpha-2 code, built once from the registered locales. A key that names two countries
 * ("Congo": CG or CD) maps to AMBIGUOUS and is rejected rather than guessed.
 */
const NAME_INDEX: Map<string, string> = (() => {
  const index = new Map<string, string>();
  for (const { locale } of LOCALES) {
    for (const [code, names] of Object.entries(countries.getNames(locale, { select: "all" }))) {
      for (const name of names) {
        const key = nameKey(name);
        const existing = index.get(key);
        index.set(key, existing === undefined || existing === code ? code : AMBIGUOUS);
      }
    }
  }
  for (const [alias, code] of Object.entries(ALIASES)) index.set(nameKey(alias), code);
  return index;
})();

/** "🇩🇪" is two regional-indicator symbols spelling the code. */
function flagToCode(s: string): string | null {
  const points = [...s].map((c) => c.codePointAt(0) ?? 0);
  if (points.length !== 2 || !points.every((p) => p >= 0x1f1e6 && p <= 0x1f1ff)) return null;
  return String.fromCharCode(...points.map((p) => p - 0x1f1e6 + 65));
}

/** What an answer says: a code we are sure of, a code it may mean (a guess), or nothing. */
export type CountryReading = { code: string; certain: boolean } | null;

/**
 * Reads a country from a name, an alias, a flag or a code.
 *
 * Case rule for codes: only capitals are a code ("NO", "IN", "DEU"). The same letters in any
 * other case ("no", "No", "in", "can", "Nor") are most often a word — "no" was once stored as
 * Norway — and phone keyboards capitalise a message's first letter, so "No" is no code either.
 * Those readings come back uncertain and validateCountry asks back. A name of three letters
 * or more wins over a code, so "usa", "uae" and "uk" (not a code) are certain in any case; "us"
 * is asked back although the library lists "US" as a name.
 */
export function readCountry(input: string): CountryReading {
  if (input.length > MAX_COUNTRY_LENGTH) return null;
  // Tolerate surrounding punctuation/whitespace: "Germany!", "(DE)", "“France”".
  const trimmed = input.replace(/^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu, "");
  const flag = flagToCode(input.trim());
  if (flag !== null) return countries.isValid(flag) ? { code: flag, certain: true } : null;

  const byName = NAME_INDEX.get(nameKey(trimmed));
  const name = byName === undefined || byName === AMBIGUOUS ? null : byName;
  // Codes: "DE", "DEU". "UK" is not an ISO code, so it falls through to names.
  if (/^[a-z]{2,3}$/i.test(trimmed)) {
    const upper = trimmed.toUpperCase();
    const code = upper.length === 2 ? (countries.isValid(upper) ? upper : undefined) : countries.alpha3ToAlpha2(upper);
    if (code !== undefined && trimmed === upper) return { code, certain: true };
    // Two letters that are a code stay a guess even where the library lists them as a name
    // ("US", "U.S."): "us" is the word. Three letters are rarer words, and "usa" means the USA.
    if (name !== null && (upper.length === 3 || code === undefined)) return { code: name, certain: true };
    return code === undefined ? null : { code, certain: false };
  }
  return name === null ? null : { code: name, certain: true };
}

/** The alpha-2 code an answer names for sure, else null (see readCountry for what is a guess). */
export function lookupCountry(input: string): string | null {
  const reading = readCountry(input);
  return reading?.certain ? reading.code : null;
}

/** An upper-case ISO 3166-1 alpha-2 code that names a country ("DE"; not "de", "EU" or "ZZ"). */
export function isCountryCode(x: unknown): x is string {
  return typeof x === "string" && /^[A-Z]{2}$/.test(x) && countries.isValid(x);
}

export const countryAskBack = (code: string) =>
  `Did you mean ${countries.getName(code, "en") ?? code}? Please type the country's full name.`;

/**
 * A country answer: the alpha-2 code. At a question with `options` (buttons), a typed label
 * gives that option's value first. A lower- or mixed-case code ("no", "In") is asked back.
 */
export function validateCountry(input: string, ctx?: AnswerContext): ValidationResult {
  const option = matchOption(input, ctx?.options);
  if (option !== null) return { ok: true, value: option };
  const reading = readCountry(input);
  if (reading === null) return { ok: false, error: COUNTRY_ERROR };
  if (!reading.certain) return { ok: false, error: countryAskBack(reading.code), askBack: true };
  return { ok: true, value: reading.code };
}
