import countries from "i18n-iso-countries";
import de from "i18n-iso-countries/langs/de.json" with { type: "json" };
import en from "i18n-iso-countries/langs/en.json" with { type: "json" };
import es from "i18n-iso-countries/langs/es.json" with { type: "json" };
import fr from "i18n-iso-countries/langs/fr.json" with { type: "json" };
import it from "i18n-iso-countries/langs/it.json" with { type: "json" };
import pt from "i18n-iso-countries/langs/pt.json" with { type: "json" };
import ru from "i18n-iso-countries/langs/ru.json" with { type: "json" };
import uk from "i18n-iso-countries/langs/uk.json" with { type: "json" };
import type { ValidationResult } from "./types.ts";

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

export function lookupCountry(input: string): string | null {
  if (input.length > MAX_COUNTRY_LENGTH) return null;
  // Tolerate surrounding punctuation/whitespace: "Germany!", "(DE)", "“France”".
  const trimmed = input.replace(/^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu, "");
  const flag = flagToCode(input.trim());
  if (flag !== null) return countries.isValid(flag) ? flag : null;

  // Codes first: "DE", "de", "DEU", "usa". "UK" is not an ISO code, so it falls through to names.
  if (/^[a-z]{2}$/i.test(trimmed)) {
    const code = trimmed.toUpperCase();
    if (countries.isValid(code)) return code;
  } else if (/^[a-z]{3}$/i.test(trimmed)) {
    const code = countries.alpha3ToAlpha2(trimmed.toUpperCase());
    if (code !== undefined) return code;
  }
  const byName = NAME_INDEX.get(nameKey(trimmed));
  return byName === undefined || byName === AMBIGUOUS ? null : byName;
}

export function validateCountry(input: string): ValidationResult {
  const code = lookupCountry(input);
  return code === null ? { ok: false, error: COUNTRY_ERROR } : { ok: true, value: code };
}
