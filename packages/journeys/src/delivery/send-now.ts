import type { Dispatcher, Effects } from "../queue/effects.ts";
import { RetryLaterError } from "./retry-later.ts";
import { type SendDeps, sendOutboxChat } from "./send-outbox.ts";

/**
 * For the worker: what a fired delay wrote is sent by the job that fired it, right after the
 * commit — the outbox job's own work (`sendOutboxChat`: rate limit, chat order, row lock), minus
 * the trip through Redis and a second job. Whatever cannot go now — no send place within
 * MAX_PLACE_WAIT_MS, Telegram asks to wait, an error — is handed to `queued` (the outbox job), as
 * an update's messages are; new delays go to `queued` too. A worker that dies before sending leaves
 * the rows pending, and the sweeper gives them their job.
 */
export function sendNowDispatcher(send: SendDeps, queued: Dispatcher): Dispatcher {
  return {
    async dispatch(effects: Effects) {
      const [first] = effects.outbox;
      if (first === undefined) return queued.dispatch(effects);
      try {
        // One transition writes to one chat, and a flush sends the whole chat in order.
        await sendOutboxChat(send, first.id, first.botId);
        if (effects.scheduled.length > 0) await queued.dispatch({ outbox: [], scheduled: effects.scheduled });
      } catch (err) {
        const level = err instanceof RetryLaterError ? "debug" : "warn";
        send.log[level](
          { outbox_id: first.id, err: (err as Error).message },
          "sending after the fire failed: queued instead",
        );
        await queued.dispatch(effects); // rows already sent are skipped by their job
      }
    },
  };
}
