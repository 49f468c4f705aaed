/** What a validator returns: the normalised value, or the re-prompt the bot sends back verbatim. */
export type NormalisedValue = number | string | { amount: number; currency: string | null };
export type ValidationResult = { ok: true; value: NormalisedValue } | { ok: false; error: string };
