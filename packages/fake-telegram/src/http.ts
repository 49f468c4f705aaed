/** Small HTTP helpers shared by the Bot API and the control API. */
import type { IncomingMessage, ServerResponse } from "node:http";

export const MAX_BODY_BYTES = 1024 * 1024;

/** Thrown while reading/parsing a request; `status` is what the client gets. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** Reads the whole body; past 1 MiB keeps draining (so the client can read our answer) and then throws 413. */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > MAX_BODY_BYTES) reject(new RequestError(413, "Request Entity Too Large"));
      else resolve(Buffer.concat(chunks));
    });
    req.on("error", reject);
  });
}

/** Query-string params merged with a JSON or urlencoded body (the body wins), like the Bot API accepts. */
export function parseParams(req: IncomingMessage, body: Buffer): Record<string, unknown> {
  const url = new URL(req.url ?? "/", "http://fake");
  const params: Record<string, unknown> = Object.fromEntries(url.searchParams);
  if (body.length === 0) return params;
  const type = (req.headers["content-type"] ?? "").toLowerCase();
  if (type.includes("application/x-www-form-urlencoded")) {
    return { ...params, ...Object.fromEntries(new URLSearchParams(body.toString("utf8"))) };
  }
  if (type.includes("multipart/")) {
    throw new RequestError(400, "Bad Request: multipart bodies are not supported by fake-telegram");
  }
  return { ...params, ...parseJsonObject(body) };
}

export function parseJsonObject(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8"));
  } catch {
    throw new RequestError(400, "Bad Request: can't parse JSON body");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new RequestError(400, "Bad Request: JSON body must be an object");
  }
  return value as Record<string, unknown>;
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

/** A number, or a string holding an integer (form bodies and query strings carry only strings). */
export function intParam(value: unknown): number | undefined {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return Number(value);
  return undefined;
}

/** Structured params arrive as JSON strings in form bodies. */
export function jsonParam(value: unknown): unknown {
  if (typeof value !== "string") return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}
