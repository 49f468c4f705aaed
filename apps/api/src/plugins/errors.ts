import { DomainError, ERROR_CODES } from "@journeys/core";
import type { FastifyError, FastifyInstance } from "fastify";

/**
 * One error handler. 4xx bodies say what is wrong; 5xx bodies say nothing internal (the log has it).
 * Domain error codes map to HTTP statuses here and nowhere else.
 */
export function registerErrorHandler(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError | DomainError, req, reply) => {
    if (err instanceof DomainError) {
      return reply.status(ERROR_CODES[err.code]).send({ error: err.code.toLowerCase(), message: err.message });
    }
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err }, "request failed");
      return reply.status(status).send({ error: "internal_error", message: "Internal Server Error" });
    }
    const error = err.validation
      ? "validation"
      : status === 413
        ? "payload_too_large"
        : (err.code ?? "bad_request").toLowerCase();
    return reply.status(status).send({ error, message: err.message });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.status(404).send({ error: "not_found", message: `Route ${req.method} ${req.url.split("?")[0]} not found` });
  });
}
