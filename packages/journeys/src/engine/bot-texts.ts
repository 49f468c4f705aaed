/**
 * A bot's own texts (SPEC §10 "Bot texts"): what the bot says outside any journey step. Each is set
 * per bot through the bots API (tenant_bots.*_text); NULL there means the default here.
 */
export interface BotTexts {
  /** A bare /start from a user with no live session on this bot. */
  welcome_text: string;
  /** /start with a parameter that matches no active journey of this bot. */
  unknown_link_text: string;
  /** /help. */
  help_text: string;
  /** A reply while the session waits on a delay: sent once per delay. */
  waiting_text: string;
  /** A journey that cannot take the user now (paused journeys, later issues). */
  unavailable_text: string;
}

export const BOT_TEXT_FIELDS = [
  "welcome_text",
  "unknown_link_text",
  "help_text",
  "waiting_text",
  "unavailable_text",
] as const satisfies readonly (keyof BotTexts)[];

export const DEFAULT_BOT_TEXTS: Readonly<BotTexts> = {
  welcome_text: "Hi! This bot runs guided conversations. Open the link you were given to start one.",
  unknown_link_text: "Sorry, this link is not active (it may have expired). Please check the link you were given.",
  help_text:
    "Answer the questions as they come; some have buttons you can press. Send /cancel to stop the current conversation at any time.",
  waiting_text: "Thanks! There is nothing to answer right now — you'll hear back from us here.",
  unavailable_text: "Sorry, this conversation is not available right now. Please try again later.",
};

/** A bot's texts with NULL (or missing) fields filled from the defaults. */
export function botTexts(row: Partial<Record<keyof BotTexts, string | null | undefined>>): BotTexts {
  const out = { ...DEFAULT_BOT_TEXTS };
  for (const f of BOT_TEXT_FIELDS) {
    const v = row[f];
    if (typeof v === "string" && v !== "") out[f] = v;
  }
  return out;
}
