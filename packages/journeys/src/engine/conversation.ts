/**
 * The bot's side of a conversation: which of a user's live sessions on a bot an update is for, and
 * what the bot says when no session step does (a bare /start, an unknown link, /help, /cancel's
 * confirmation, a stale button). Pure, like transition(), which it calls for each session it addresses.
 */
import { type BotTexts, DEFAULT_BOT_TEXTS } from "./bot-texts.ts";
import { isLive, textTaker, transition } from "./transition.ts";
import type { Clock, EngineEvent, JourneyDef, OutItem, SessionState, TransitionResult } from "./types.ts";

export const CANCELLED_TEXT = "Done — you've left the conversation. Open your link again whenever you like.";
export const NOTHING_TO_CANCEL = "There is nothing to cancel right now.";
export const STALE_BUTTON = "This button is no longer active.";

export interface LiveSession {
  journey: JourneyDef;
  session: SessionState;
}

/** An update from a user, as the bot sees it (telegram/ turns updates into these). */
export type UserEvent =
  | Extract<EngineEvent, { type: "text" | "media" | "contact" | "edit" }>
  /** Any command but /start <param>; /start alone is `start`. */
  | { type: "command"; name: string }
  /** /start with a parameter that names no active journey of the bot (or an invalid one). */
  | { type: "unknown_link" }
  /**
   * A button press. `match`: the index in `live` whose current step visit the callback_data was
   * sealed for, with the option index; null when it matches none (stale, forged, another user's).
   */
  | {
      type: "button";
      match: { live: number; stepId: string; index: number } | null;
      callbackQueryId: string;
      messageId: number;
    };

export interface ConversationResult {
  /** transition() results for sessions in `live`, by index, in the order to apply them. */
  sessions: { live: number; result: TransitionResult }[];
  /** What the bot says outside any session, after the sessions' changes. */
  replies: OutItem[];
  /** A short word for the logs. */
  detail: string;
}

/**
 * `live`: the user's live sessions on the bot, most recently active first (the order in which a
 * message looks for the session it is for: the first waiting on a question, else the first waiting
 * on a delay).
 */
export function converse(
  texts: BotTexts | undefined,
  live: readonly LiveSession[],
  event: UserEvent,
  clock: Clock,
): ConversationResult {
  const t = texts ?? DEFAULT_BOT_TEXTS;
  const one = (index: number, e: EngineEvent): ConversationResult => {
    const l = live[index];
    if (!l) return { sessions: [], replies: [], detail: "no_session_waiting" };
    const result = transition({ ...l.journey, texts: t }, l.session, e, clock);
    return { sessions: [{ live: index, result }], replies: [], detail: result.outcome };
  };
  const addressed = addressee(live);
  switch (event.type) {
    case "text":
    case "media":
    case "contact":
    case "edit":
      return one(addressed, event);
    case "unknown_link":
      return { sessions: [], replies: [{ text: t.unknown_link_text }], detail: "unknown_link" };
    case "command": {
      if (event.name === "help") return { sessions: [], replies: [{ text: t.help_text }], detail: "help" };
      if (event.name === "cancel" || event.name === "stop") {
        const sessions = live
          .map((l, i) => ({
            live: i,
            result: transition(l.journey, l.session, { type: "command", name: event.name }, clock),
          }))
          .filter((s) => s.result.changes.length > 0);
        const text = sessions.length > 0 ? CANCELLED_TEXT : NOTHING_TO_CANCEL;
        return { sessions, replies: [{ text }], detail: `cancelled_${sessions.length}` };
      }
      if (addressed < 0) {
        // No live session: /start greets, any other command is answered with the help text.
        const text = event.name === "start" ? t.welcome_text : t.help_text;
        return { sessions: [], replies: [{ text }], detail: event.name === "start" ? "welcome" : "help" };
      }
      return one(addressed, { type: "command", name: event.name });
    }
    case "button": {
      const m = event.match;
      const l = m ? live[m.live] : undefined;
      if (m && l) {
        const result = transition(
          { ...l.journey, texts: t },
          l.session,
          {
            type: "button",
            stepId: m.stepId,
            index: m.index,
            callbackQueryId: event.callbackQueryId,
            messageId: event.messageId,
          },
          clock,
        );
        if (result.changes.length > 0)
          return { sessions: [{ live: m.live, result }], replies: [], detail: result.outcome };
      }
      return {
        sessions: [],
        replies: [{ method: "answerCallbackQuery", callback_query_id: event.callbackQueryId, text: STALE_BUTTON }],
        detail: "stale_button",
      };
    }
  }
}

/** The session a message is for: the one a text answers (textTaker), else the first live one; -1: none. */
function addressee(live: readonly LiveSession[]): number {
  const taker = textTaker(live);
  return taker ? live.indexOf(taker) : live.findIndex((l) => isLive(l.session));
}
