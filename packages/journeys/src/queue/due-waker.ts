import type { Queue } from "bullmq";
import type { Logger } from "../logger.ts";
import type { RedisClient } from "./connection.ts";

/** BullMQ's delayed-set score: the due time in ms, shifted left 12 bits, plus a counter. */
export const dueAtFromScore = (score: string | number): number => Math.floor(Number(score) / 0x1000);

/** How often the head of each delayed set is read again (to see jobs added since). */
export const DUE_WAKER_POLL_MS = 100;
/** The poke goes this long after the due time: it must reach Redis after the block's deadline. */
const AFTER_DUE_MS = 2;

export interface DueWaker {
  stop(): void;
}

/**
 * A BullMQ worker waiting for a delayed job blocks in `BZPOPMIN` until the job is due, and Redis
 * ends such a block only when its event loop wakes: on a command from any client, or on its own
 * timer, `hz` times a second. At Redis's default `hz 10` a due job therefore waited up to 100 ms
 * (median 25–30 ms in the bench, ~55 ms on an idle Redis). This reads the earliest future due time
 * of each queue's delayed set every DUE_WAKER_POLL_MS and sends one command just after it, so the block
 * ends when the job is due, whatever `hz` is. Best effort: an error is logged at debug and the next
 * poll tries again; a job added less than one poll before it is due is no later than without it.
 */
export function startDueWaker(queues: readonly Queue[], redis: RedisClient, log: Logger): DueWaker {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;

  async function nextDue(): Promise<number | null> {
    const now = Date.now();
    const heads = await Promise.all(
      queues.map((q) =>
        // The first job due after now; past-due ones are the worker's already (it is not blocked).
        redis.zrangebyscore(q.toKey("delayed"), (now + 1) * 0x1000, "+inf", "WITHSCORES", "LIMIT", 0, 1),
      ),
    );
    const due = heads.filter((h) => h.length === 2).map((h) => dueAtFromScore(h[1]!));
    return due.length ? Math.min(...due) : null;
  }

  function schedule(due: number | null) {
    if (stopped) return;
    const wait = due === null ? Number.POSITIVE_INFINITY : due + AFTER_DUE_MS - Date.now();
    timer =
      wait <= DUE_WAKER_POLL_MS
        ? setTimeout(() => void poke(), Math.max(0, wait))
        : setTimeout(() => void check(), DUE_WAKER_POLL_MS);
    timer.unref();
  }

  async function check() {
    try {
      schedule(await nextDue());
    } catch (err) {
      log.debug({ err: (err as Error).message }, "due waker: cannot read the delayed sets");
      schedule(null);
    }
  }

  // A keyed read, not a PING: on a Redis Cluster it reaches the node holding the queues (one slot).
  const wakeKey = queues[0]?.toKey("delayed");

  async function poke() {
    try {
      await (wakeKey ? redis.exists(wakeKey) : redis.ping());
    } catch (err) {
      log.debug({ err: (err as Error).message }, "due waker: ping failed");
    }
    await check();
  }

  void check();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
