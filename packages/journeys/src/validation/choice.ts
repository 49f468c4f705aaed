/**
 * Choice answers typed instead of tapped: the option whose label matches, ignoring case and
 * runs of spaces, or whose value is typed exactly (any case). Step configs guarantee unique
 * values and labels (step-config.ts), so at most one option matches each way.
 */
import type { ChoiceOption, ValidationResult } from "./types.ts";

/** Option labels are at most 64 characters; longer text can't match one. */
const MAX_CHOICE_LENGTH = 256;
/** The labels listed in the re-prompt stop here, so 100 options don't make a wall of text. */
const MAX_LISTED_LENGTH = 200;

export const CHOICE_NO_OPTIONS_ERROR = "Please choose one of the options.";

/** "  Yes,   please " and "YES, PLEASE" → "yes, please". */
export function labelKey(s: string): string {
  return s.normalize("NFKC").trim().replace(/\s+/gu, " ").toLowerCase();
}

/** The value of the option the text names, or null. */
export function matchOption(input: string, options: readonly ChoiceOption[] | undefined): string | null {
  if (!options || options.length === 0 || input.length > MAX_CHOICE_LENGTH) return null;
  const key = labelKey(input);
  if (key === "") return null;
  const byLabel = options.find((o) => labelKey(o.label) === key);
  if (byLabel) return byLabel.value;
  const typed = input.trim();
  const byValue =
    options.find((o) => o.value === typed) ?? options.find((o) => o.value.toLowerCase() === typed.toLowerCase());
  return byValue ? byValue.value : null;
}

/** "Please tap a button or type one of: Yes, No, Maybe." — cut to "…: A, B and 40 more." */
export function choiceError(options: readonly ChoiceOption[] | undefined): string {
  if (!options || options.length === 0) return CHOICE_NO_OPTIONS_ERROR;
  const listed: string[] = [];
  let length = 0;
  for (const { label } of options) {
    const text = label.trim();
    if (listed.length > 0 && length + text.length > MAX_LISTED_LENGTH) break;
    listed.push(text);
    length += text.length + 2;
  }
  const rest = options.length - listed.length;
  const list = rest > 0 ? `${listed.join(", ")} and ${rest} more` : listed.join(", ");
  return `Please tap a button or type one of: ${list}.`;
}

export function validateChoice(input: string, options: readonly ChoiceOption[] | undefined): ValidationResult {
  const value = matchOption(input, options);
  return value === null ? { ok: false, error: choiceError(options) } : { ok: true, value };
}
