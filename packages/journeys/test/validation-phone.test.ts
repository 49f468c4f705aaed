/** Phone answers: E.164 with libphonenumber-js, the default region, and contacts shared with the button. */
import { describe, expect, it } from "vitest";
import { validateAnswer } from "../src/validation/index.ts";
import {
  isPhoneRegion,
  PHONE_ERROR,
  PHONE_INTERNATIONAL_ERROR,
  phoneFromContact,
  validatePhone,
} from "../src/validation/phone.ts";
import { phoneFromContact as fromTypes } from "../src/validation/types.ts";

describe("validatePhone", () => {
  it.each<[string, string | null, string]>([
    ["+49 151 23456789", null, "+4915123456789"],
    ["0049 151 23456789", null, "+4915123456789"],
    ["0151 23456789", "DE", "+4915123456789"],
    ["015123456789", "DE", "+4915123456789"],
    ["(202) 555-0143", "US", "+12025550143"],
    ["202-555-0143", "US", "+12025550143"],
    ["+1 202 555 0143", "DE", "+12025550143"], // an explicit country code beats the default region
    ["07911 123456", "GB", "+447911123456"],
    ["8 (912) 345-67-89", "RU", "+79123456789"],
  ])("%j in %j → %s", (input, defaultRegion, e164) => {
    expect(validatePhone(input, { defaultRegion })).toEqual({ ok: true, value: e164 });
  });

  it.each<[string, string | null, string]>([
    ["0151 23456789", null, PHONE_INTERNATIONAL_ERROR], // no region, no country code: ask for it
    ["0151 23456789", "ZZ", PHONE_INTERNATIONAL_ERROR], // an unknown region is no region
    ["0151 23456789", "de", PHONE_INTERNATIONAL_ERROR], // nor is one in lower case
    ["0151 23456789", "AQ", PHONE_INTERNATIONAL_ERROR], // a country without a numbering plan
    ["0000 1234", "DE", PHONE_ERROR], // read as German, it is no valid German number
    ["+49 000 0000000", null, PHONE_ERROR], // the right length, but no such number
    ["+49 151 2345678912345", null, PHONE_ERROR],
    ["+999 123 456 789", null, PHONE_ERROR],
    ["00 999 123 456 789", null, PHONE_ERROR],
    ["call me: +49 151 23456789", null, PHONE_INTERNATIONAL_ERROR],
    ["call me: +49 151 23456789", "DE", PHONE_ERROR],
    ["abc", null, PHONE_INTERNATIONAL_ERROR],
    ["", "DE", PHONE_ERROR],
    [`+49 ${"1".repeat(40)}`, null, PHONE_ERROR],
  ])("%j in %j is refused", (input, defaultRegion, error) => {
    expect(validatePhone(input, { defaultRegion })).toEqual({ ok: false, error });
  });

  it("is reached through validateAnswer with the context", () => {
    expect(validateAnswer("phone", "0151 23456789", { defaultRegion: "DE" })).toEqual({
      ok: true,
      value: "+4915123456789",
    });
    expect(validateAnswer("phone", "0151 23456789")).toEqual({ ok: false, error: PHONE_INTERNATIONAL_ERROR });
  });
});

describe("phoneFromContact", () => {
  it.each<[string, string | null, string | null]>([
    ["4915123456789", null, "+4915123456789"], // what Telegram sends: digits, no "+"
    ["+4915123456789", null, "+4915123456789"],
    ["12025550143", "DE", "+12025550143"],
    [" 4915123456789 ", null, "+4915123456789"],
    ["015123456789", "DE", "+4915123456789"], // a national number: the default region reads it
    ["015123456789", null, null],
    ["+015123456789", "DE", null], // a "+" says international, and it is not
    ["4900000000000", null, null],
    ["", null, null],
    ["not a number", "DE", null],
    ["1".repeat(41), null, null],
  ])("%j (region %j) → %j", (phoneNumber, region, e164) => {
    expect(phoneFromContact(phoneNumber, region)).toBe(e164);
  });

  it("never throws on a non-string", () => {
    expect(phoneFromContact(undefined as never)).toBeNull();
    expect(phoneFromContact(4915123456789 as never)).toBeNull();
  });

  it("is the same function from types.ts and index.ts", () => {
    expect(fromTypes).toBe(phoneFromContact);
  });
});

describe("isPhoneRegion", () => {
  it.each<[unknown, boolean]>([
    ["DE", true],
    ["US", true],
    ["GB", true],
    ["de", false],
    ["ZZ", false],
    ["AQ", false],
    ["DEU", false],
    ["", false],
    [null, false],
    [49, false],
  ])("%j → %j", (x, expected) => {
    expect(isPhoneRegion(x)).toBe(expected);
  });
});
