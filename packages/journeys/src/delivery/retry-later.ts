/**
 * A send that may succeed later (429 beyond the in-call wait, 5xx, network): the row stays pending
 * with its attempt counted, and the transport retries the job — after `retryAfterMs` when Telegram
 * said how long to wait, otherwise with its own backoff. Not a DomainError: nothing is wrong with
 * the request, only with the moment.
 */
export class RetryLaterError extends Error {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "RetryLaterError";
  }
}
