/**
 * Answer validators for questionnaire steps. Each one turns a raw Telegram message into a
 * normalised, JSON-serialisable value, or into a friendly re-prompt that the bot sends back
 * verbatim (marked `askBack` when the input was ambiguous and we ask rather than guess).
 * Validators are pure, cap their input length and never throw.
 */
import { validateChoice } from "./choice.ts";
import { validateCountry } from "./country.ts";
import { validateEmail } from "./email.ts";
import { validateMoney } from "./money.ts";
import { validateNumber } from "./number.ts";
import { validatePhone } from "./phone.ts";
import { validateText } from "./text.ts";
import type { AnswerContext, ValidationResult } from "./types.ts";

export const VALIDATION_KINDS = ["number", "text", "country", "money", "choice", "phone", "email"] as const;
export type ValidationKind = (typeof VALIDATION_KINDS)[number];

export type { AnswerContext, ChoiceOption, NormalisedValue, ValidationResult } from "./types.ts";

export function isValidationKind(x: unknown): x is ValidationKind {
  return typeof x === "string" && (VALIDATION_KINDS as readonly string[]).includes(x);
}

const VALIDATORS: Record<ValidationKind, (input: string, ctx: AnswerContext) => ValidationResult> = {
  number: validateNumber,
  text: validateText,
  country: validateCountry,
  money: validateMoney,
  choice: (input, ctx) => validateChoice(input, ctx.options),
  phone: validatePhone,
  email: validateEmail,
};

export function validateAnswer(kind: ValidationKind, input: string, ctx: AnswerContext = {}): ValidationResult {
  // Answers arrive from untyped sources (Telegram updates, JSON): a non-string is just an invalid answer.
  const text = typeof input === "string" ? input : "";
  // An unknown kind is a programming/config error, not a bad answer, so it does throw.
  if (!isValidationKind(kind)) throw new Error(`Unknown validation kind: ${String(kind)}`);
  return VALIDATORS[kind](text, ctx ?? {});
}

export { phoneFromContact } from "./phone.ts";
export { decimalMarkOf } from "./separators.ts";
export { validateChoice, validateCountry, validateEmail, validateMoney, validateNumber, validatePhone, validateText };
