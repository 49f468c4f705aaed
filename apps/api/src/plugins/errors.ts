import { DomainError, type ErrorCode } from "@journeys/core";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

/** The HTTP status of each domain error code (the one place the API maps them). */
const STATUS_OF: Record<ErrorCode, number> = { NOT_FOUND: 404, VALIDATION: 400, CONFLICT: 409, TELEGRAM_REJECTED: 400 };

/** How much of a refused request's body is read and thrown away so that the client reads the answer. */
export const DRAIN_LIMIT = 16 * 1024 * 1024;

/** Short machine-readable names for the statuses clients see; the message says the rest. */
const STATUS_NAMES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  405: "method_not_allowed",
  409: "conflict",
  413: "payload_too_large",
  415: "unsupported_media_type",
  429: "rate_limited",
  503: "unavailable",
};

/** The short name of an error status, as every error body carries it. */
export const statusName = (status: number) =>
  STATUS_NAMES[status] ?? (status >= 500 ? "internal_error" : "bad_request");

/** An error a hook or handler throws to answer a given status (4xx, or 503) with its own message. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = "HttpError";
  }
}

type ValidationIssue = NonNullable<FastifyError["validation"]>[number];

/**
 * One line per problem, naming the field: "body/steps/0/step_type must be one of: message, …",
 * "body: unknown field \"extra\"". (The validator's own wording leaves out which field or values.)
 */
function validationMessage(err: FastifyError): string {
  const where = (issue: ValidationIssue) => `${err.validationContext ?? "request"}${issue.instancePath}`;
  const lines = (err.validation ?? []).flatMap((issue) => {
    const params = (issue.params ?? {}) as Record<string, unknown>;
    // TypeBox reports an unknown field twice: as a false sub-schema and as additionalProperties.
    if (issue.keyword === "boolean" && issue.schemaPath.endsWith("/additionalProperties")) return [];
    if (issue.keyword === "additionalProperties") {
      const names = ([] as unknown[]).concat(params.additionalProperties ?? params.additionalProperty ?? []);
      return [`${where(issue)}: unknown field ${names.map((n) => `"${String(n)}"`).join(", ")}`];
    }
    if (issue.keyword === "enum" && Array.isArray(params.allowedValues)) {
      return [`${where(issue)} must be one of: ${params.allowedValues.join(", ")}`];
    }
    return [`${where(issue)} ${issue.message ?? "is invalid"}`];
  });
  return lines.length > 0 ? lines.join("; ") : err.message;
}

/**
 * Postgres refusing a value the request carried: NUL in text (22021), `\u0000` in jsonb (22P05),
 * an unpaired UTF-16 surrogate in jsonb (22P02 "invalid input syntax for type json"). The schemas
 * let these strings through; the client sent them, so it is a 400, not a 500.
 */
function unstorableValue(err: unknown): boolean {
  for (let e = err as { code?: unknown; message?: unknown; cause?: unknown } | undefined, i = 0; e && i < 3; i++) {
    if (e.code === "22021" || e.code === "22P05") return true;
    if (e.code === "22P02" && typeof e.message === "string" && e.message.includes("type json")) return true;
    e = e.cause as typeof e;
  }
  return false;
}

/**
 * A request refused before its body was read (413, 415, a failed auth hook) still has the body on
 * the wire. Fastify answers a body-parser error with `Connection: close`; closing with unread bytes
 * makes the kernel reset the connection, and a client still writing (or slow to read) loses the
 * answer to EPIPE/ECONNRESET. So the body is read and dropped instead, up to DRAIN_LIMIT, and the
 * connection stays open; past the limit (or a declared length past it) the socket is closed.
 */
function drainUnreadBody(req: FastifyRequest, reply: FastifyReply): void {
  const raw = req.raw;
  if (raw.complete || raw.readableEnded) return;
  if (Number(req.headers["content-length"] ?? 0) > DRAIN_LIMIT) {
    reply.header("connection", "close");
    return;
  }
  reply.removeHeader("connection");
  let read = 0;
  raw.on("data", (chunk: Buffer) => {
    read += chunk.length;
    if (read > DRAIN_LIMIT) raw.socket?.destroy();
  });
  raw.resume();
}

/**
 * One error handler. 4xx bodies say what is wrong; 5xx bodies say nothing internal (the log has it).
 * Domain error codes map to HTTP statuses here and nowhere else.
 */
export function registerErrorHandler(app: FastifyInstance) {
  app.setErrorHandler((err: FastifyError | DomainError, req, reply) => {
    drainUnreadBody(req, reply);
    if (err instanceof DomainError) {
      return reply.status(STATUS_OF[err.code]).send({ error: err.code.toLowerCase(), message: err.message });
    }
    if (unstorableValue(err)) {
      return reply.status(400).send({
        error: "bad_request",
        message: "a value cannot be stored: text must not contain NUL characters or unpaired UTF-16 surrogates",
      });
    }
    if (err instanceof HttpError) {
      return reply
        .status(err.statusCode)
        .send({ error: STATUS_NAMES[err.statusCode] ?? "bad_request", message: err.message });
    }
    const status = err.statusCode && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err }, "request failed");
      return reply.status(status).send({ error: "internal_error", message: "Internal Server Error" });
    }
    if (err.validation) return reply.status(400).send({ error: "validation", message: validationMessage(err) });
    return reply.status(status).send({ error: STATUS_NAMES[status] ?? "bad_request", message: err.message });
  });
  // Every route's path as a pattern, so a known path asked with another method answers 405 with
  // the methods it has (Allow), not 404.
  const known: { pattern: RegExp; methods: Set<string> }[] = [];
  app.addHook("onRoute", (route) => {
    if (route.url.includes("*")) return;
    const source = `^${route.url.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/:[A-Za-z0-9_]+/g, "[^/]+")}/?$`;
    let entry = known.find((k) => k.pattern.source === source);
    if (!entry) {
      entry = { pattern: new RegExp(source), methods: new Set() };
      known.push(entry);
    }
    for (const m of ([] as string[]).concat(route.method)) entry.methods.add(m.toUpperCase());
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split("?")[0] ?? "/";
    const allowed = new Set(known.filter((k) => k.pattern.test(path)).flatMap((k) => [...k.methods]));
    if (allowed.size > 0) {
      const allow = [...allowed].sort().join(", ");
      return reply
        .status(405)
        .header("allow", allow)
        .send({ error: "method_not_allowed", message: `${req.method} is not allowed here; allowed: ${allow}` });
    }
    // The path is not echoed: it may be long or hold what a client should not see reflected.
    return reply.status(404).send({ error: "not_found", message: `no route ${req.method} for this path` });
  });
}

/**
 * Fastify's router refuses some URLs before any route or hook (a path segment longer than the
 * router allows, a malformed percent-encoding): answered in the project's error shape, with the
 * nosniff header the hooks would have set, and without echoing the path.
 */
export function frameworkErrors(err: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  reply.header("x-content-type-options", "nosniff");
  if (err.code === "FST_ERR_MAX_PARAM_LENGTH") {
    reply.status(414).send({ error: "uri_too_long", message: "a path segment is too long" });
  } else {
    reply.status(400).send({ error: "bad_request", message: "the URL is malformed" });
  }
}
