/** Country answers: everyday aliases, each registered language, codes, flags and the cap. */
import { describe, expect, it } from "vitest";
import { COUNTRY_ERROR, lookupCountry, validateCountry } from "../src/validation/country.ts";

describe("aliases the library lacks", () => {
  it.each<[string, string]>([
    ["America", "US"],
    ["Britain", "GB"],
    ["England", "GB"],
    ["Scotland", "GB"],
    ["Wales", "GB"],
    ["Northern Ireland", "GB"],
    ["Holland", "NL"],
    ["Korea", "KR"],
    ["Burma", "MM"],
    ["Vatican", "VA"],
    ["Vatican City", "VA"],
    ["Macedonia", "MK"],
    ["Czech", "CZ"],
    ["Emirates", "AE"],
    ["Bosnia", "BA"],
    ["DRC", "CD"],
  ])("%s → %s", (input, code) => {
    expect(lookupCountry(input)).toBe(code);
    expect(lookupCountry(input.toUpperCase())).toBe(code);
  });
});

describe("names in each registered language", () => {
  it.each<[string, string, string]>([
    ["en", "Germany", "DE"],
    ["de", "Frankreich", "FR"],
    ["fr", "Allemagne", "DE"],
    ["es", "Alemania", "DE"],
    ["it", "Germania", "DE"],
    ["pt", "Alemanha", "DE"],
    ["ru", "Франция", "FR"],
    ["uk", "Німеччина", "DE"],
  ])("%s: %s → %s", (_locale, input, code) => {
    expect(lookupCountry(input)).toBe(code);
  });

  it.each([
    ["Canada", "CA"],
    ["Italia", "IT"],
  ])("a name several languages share (%s) still names one country", (input, code) => {
    expect(lookupCountry(input)).toBe(code);
  });

  it("matches no language it was not given", () => {
    expect(lookupCountry("Ελλάδα")).toBeNull(); // Greek
  });
});

describe("name keys", () => {
  it.each<[string, string]>([
    ["Côte d\u2019Ivoire", "CI"], // typographic apostrophe
    ["COTE D'IVOIRE", "CI"],
    ["South-Korea", "KR"],
    ["SOUTH   KOREA", "KR"],
    ["The Gambia", "GM"],
    ["the bahamas", "BS"],
    ["Great-Britain", "GB"],
    ["U.K.", "GB"],
    ["St. Lucia", "LC"],
    ["Türkiye", "TR"],
    ["“France”", "FR"],
    ["¿España?", "ES"],
    ["...Japan...", "JP"],
    ["Holland!", "NL"],
    ["(usa)", "US"],
    ["((DE))", "DE"],
    ["DE!!", "DE"],
    ["Falkland Islands (Malvinas)", "FK"], // the library's name ends in ")"
    ["Saint Martin (French part)", "MF"],
  ])("%j → %s", (input, code) => {
    expect(lookupCountry(input)).toBe(code);
  });

  it.each([
    "Netherlands The", // only a leading "the" is dropped
    "TheGambia",
    "the the",
    "cote d ivoire", // the apostrophe is removed, not turned into a space
    "Ge rmany",
    "Congo", // CG or CD: refused, not guessed
    "Saint Vincent and Grenadines", // "the" is dropped only in front; inner words must all be there
  ])("%j is no country", (input) => {
    expect(lookupCountry(input)).toBeNull();
  });
});

describe("codes", () => {
  it.each<[string, string | null]>([
    ["GB", "GB"],
    ["DE.", "DE"],
    ["gb", null], // lower case: a guess, asked back (validation-ambiguous.test.ts)
    ["de.", null],
    ["UK", "GB"], // not ISO, found as a name
    ["uk", "GB"], // so in any case
    ["GBR", "GB"],
    ["fra", null],
    ["DEU!", "DE"],
    ["ZZ", null],
    ["EU", null],
    ["AAA", null],
    ["xyz", null],
    ["a1", null],
    ["12", null],
    ["d3", null],
  ])("%j → %j", (input, code) => {
    expect(lookupCountry(input)).toBe(code);
  });
});

describe("flags", () => {
  it.each<[string, string | null]>([
    ["🇩🇪", "DE"],
    [" 🇫🇷 ", "FR"],
    ["🇬🇧", "GB"],
    ["🇦🇩", "AD"], // the first regional indicator, A
    ["🇿🇦", "ZA"], // and the last, Z
    ["🇦🇦", null], // two regional indicators, but no country
    ["🇩", null],
    ["🇩🇪🇫🇷", null],
    ["🇩🇪🇩", null],
    ["🇩🇪🇺", null], // three indicators spell DEU, an alpha-3 code, but no flag
  ])("%s → %j", (input, code) => {
    expect(lookupCountry(input)).toBe(code);
  });
});

describe("length cap", () => {
  it("reads a 100-character answer", () => {
    expect(lookupCountry(`${" ".repeat(93)}Germany`)).toBe("DE");
  });
  it("refuses a 101-character answer", () => {
    expect(lookupCountry(`${" ".repeat(94)}Germany`)).toBeNull();
  });
});

describe("validateCountry", () => {
  it("returns the code or the re-prompt", () => {
    expect(validateCountry("Scotland")).toEqual({ ok: true, value: "GB" });
    expect(validateCountry("Narnia")).toEqual({ ok: false, error: COUNTRY_ERROR });
  });

  it("at a question with options, a typed label gives that option's value first", () => {
    const options = [
      { label: "Germany 🇩🇪", value: "DE" },
      { label: "Schweiz / Suisse", value: "CH" },
      { label: "Canada", value: "CA" },
    ];
    expect(validateCountry("germany 🇩🇪", { options })).toEqual({ ok: true, value: "DE" });
    expect(validateCountry("schweiz  /  SUISSE", { options })).toEqual({ ok: true, value: "CH" });
    expect(validateCountry("France", { options })).toEqual({ ok: true, value: "FR" }); // typed names still work
    expect(validateCountry("Deutschland", { options })).toEqual({ ok: true, value: "DE" });
    expect(validateCountry("Narnia", { options })).toEqual({ ok: false, error: COUNTRY_ERROR });
  });
});
