/**
 * The closed set of domain error codes. Each transport maps them once: HTTP statuses in the API,
 * UnrecoverableError (or a retry) in the worker.
 */
export const ERROR_CODES = {
  NOT_FOUND: 404,
  VALIDATION: 400,
  CONFLICT: 409,
  TELEGRAM_REJECTED: 400,
  FORBIDDEN: 403,
} as const;
export type ErrorCode = keyof typeof ERROR_CODES;

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
