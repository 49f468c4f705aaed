/**
 * The closed set of domain error codes. Each transport maps them once: HTTP statuses in the API
 * (apps/api/src/plugins/errors.ts), UnrecoverableError (or a retry) in the worker.
 */
export const ERROR_CODES = ["NOT_FOUND", "VALIDATION", "CONFLICT", "TELEGRAM_REJECTED"] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}

export const notFound = (what: string) => new DomainError("NOT_FOUND", `${what} not found`);
export const invalid = (reason: string) => new DomainError("VALIDATION", reason);
export const conflict = (reason: string) => new DomainError("CONFLICT", reason);
