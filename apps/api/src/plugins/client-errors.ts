import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";

/** Node's client errors by code: the status to answer and the project's short name for it. */
const CLIENT_ERRORS: Record<string, [number, string, string]> = {
  ERR_HTTP_REQUEST_TIMEOUT: [408, "request_timeout", "the request was not received in time"],
  HPE_HEADER_OVERFLOW: [431, "headers_too_large", "the request headers are too large"],
};

/**
 * What Node's HTTP parser refuses before Fastify sees a request (a request too slow to arrive, too
 * large headers, malformed HTTP), answered in the project's error shape like everything else, then
 * the socket is closed. The request line is never echoed.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, error, message] = CLIENT_ERRORS[err.code ?? ""] ?? [400, "bad_request", "malformed HTTP request"];
  const body = JSON.stringify({ error, message });
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
