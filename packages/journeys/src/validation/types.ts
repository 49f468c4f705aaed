/** What a validator returns: the normalised value, or the re-prompt the bot sends back verbatim. */
export type NormalisedValue = number | string | { amount: number; currency: string | null };

/**
 * `askBack` marks ambiguous input ("no": Norway or a no?; "1.000": a thousand or one?): we ask
 * instead of guessing, so the engine sends this text even where a step's own `error_text` would
 * replace an ordinary invalid-answer text.
 */
export type ValidationResult = { ok: true; value: NormalisedValue } | { ok: false; error: string; askBack?: true };

export interface ChoiceOption {
  label: string;
  value: string;
}

/** What a validator may know besides the text. */
export interface AnswerContext {
  /** Telegram `from.language_code` of the update (e.g. "de", "en-US"), when known. */
  languageCode?: string | null;
  /** ISO 3166-1 alpha-2 region for phone numbers typed without a country code. */
  defaultRegion?: string | null;
  /** A choice question's options (and a country question's optional button options). */
  options?: readonly ChoiceOption[];
}

// Listed with the types so the engine finds it next to ValidationResult; it lives in phone.ts.
export { phoneFromContact } from "./phone.ts";
