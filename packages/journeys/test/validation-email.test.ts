/** E-mail answers: the syntax limits at their exact edges, and what normalising keeps. */
import { describe, expect, it } from "vitest";
import { EMAIL_ERROR, validateEmail } from "../src/validation/email.ts";

const refused = { ok: false, error: EMAIL_ERROR };

describe("validateEmail", () => {
  it("lower-cases the domain and keeps the local part's case", () => {
    expect(validateEmail("John.Smith@GMAIL.Com")).toEqual({ ok: true, value: "John.Smith@gmail.com" });
  });

  it("accepts a 64-character local part and refuses 65", () => {
    expect(validateEmail(`${"a".repeat(64)}@example.com`).ok).toBe(true);
    expect(validateEmail(`${"a".repeat(65)}@example.com`)).toEqual(refused);
  });

  it("accepts a 254-character address and refuses 255", () => {
    const domain = `${"d".repeat(63)}.${"e".repeat(63)}.${"f".repeat(63)}.com`;
    const at254 = `${"a".repeat(254 - 1 - domain.length)}@${domain}`;
    expect(at254).toHaveLength(254);
    expect(validateEmail(at254).ok).toBe(true);
    expect(validateEmail(`a${at254}`)).toEqual(refused);
  });

  it("accepts a 63-character label and refuses 64", () => {
    expect(validateEmail(`a@${"d".repeat(63)}.com`).ok).toBe(true);
    expect(validateEmail(`a@${"d".repeat(64)}.com`)).toEqual(refused);
  });

  it.each([
    "name@example.com\nname@example.org",
    "name@example.com,",
    "name@example.com.",
    "name@.example.com",
    "name@example.com/",
    "name\u200B@example.com",
    "name(comment)@example.com",
    "name@exam_ple.com",
  ])("refuses %j", (input) => {
    expect(validateEmail(input)).toEqual(refused);
  });

  it("refuses a very long answer before looking at it", () => {
    expect(validateEmail(`${"a".repeat(100_000)}@example.com`)).toEqual(refused);
  });
});
