/**
 * Answer validators for questionnaire steps. Each one turns a raw Telegram message into a
 * normalised, JSON-serialisable value, or into a friendly re-prompt that the bot sends back
 * verbatim. Validators are pure, cap their input length and never throw.
 */
import { validateCountry } from "./country.ts";
import { validateMoney } from "./money.ts";
import { validateNumber } from "./number.ts";
import { validateText } from "./text.ts";
import type { ValidationResult } from "./types.ts";

export const VALIDATION_KINDS = ["number", "text", "country", "money"] as const;
export type ValidationKind = (typeof VALIDATION_KINDS)[number];

export type { NormalisedValue, ValidationResult } from "./types.ts";

export function isValidationKind(x: unknown): x is ValidationKind {
  return typeof x === "string" && (VALIDATION_KINDS as readonly string[]).includes(x);
}

const VALIDATORS: Record<ValidationKind, (input: string) => ValidationResult> = {
  number: validateNumber,
  text: validateText,
  country: validateCountry,
  money: validateMoney,
};

export function validateAnswer(kind: ValidationKind, input: string): ValidationResult {
  // Answers arrive from untyped sources (Telegram updates, JSON): a non-string is just an invalid answer.
  const text = typeof input === "string" ? input : "";
  // An unknown kind is a programming/config error, not a bad answer, so it does throw.
  if (!isValidationKind(kind)) throw new Error(`Unknown validation kind: ${String(kind)}`);
  return VALIDATORS[kind](text);
}

export { validateCountry, validateMoney, validateNumber, validateText };
