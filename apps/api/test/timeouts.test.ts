import { connect } from "node:net";
import { describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { newTenant, tokenFor } from "./admin-support.ts";

const env = await createTestEnv();
const TIMEOUT_MS = 2000;
const { url } = await startTestApi(env, { REQUEST_TIMEOUT_MS: String(TIMEOUT_MS) });
const port = Number(new URL(url).port);

/**
 * Sends `head` at once, then `trickle` one byte every `everyMs` (a slowloris client); resolves with
 * what the server answered and how long after the first byte the server closed the connection.
 */
function slowClient(head: string, trickle: string, everyMs: number, giveUpMs = 15_000) {
  return new Promise<{ answer: string; closedAfterMs: number | null }>((resolve) => {
    const sock = connect(port, "127.0.0.1");
    const t0 = Date.now();
    let answer = "";
    let i = 0;
    const timer = setInterval(() => {
      if (i < trickle.length && sock.writable) sock.write(trickle[i++]!);
    }, everyMs);
    const finish = (closedAfterMs: number | null) => {
      clearInterval(timer);
      clearTimeout(giveUp);
      sock.destroy();
      resolve({ answer, closedAfterMs });
    };
    const giveUp = setTimeout(() => finish(null), giveUpMs);
    sock.setEncoding("utf8");
    sock.on("data", (c) => {
      answer += c;
    });
    sock.on("error", () => undefined);
    sock.on("close", () => finish(Date.now() - t0));
    sock.on("connect", () => sock.write(head));
  });
}

describe("request timeouts (REQUEST_TIMEOUT_MS)", () => {
  it("a body sent one byte at a time is cut off with 408 in the project's error shape", async () => {
    const head =
      "POST /api/journeys HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n" +
      `authorization: Bearer ${tokenFor(newTenant())}\r\ncontent-length: 1000\r\n\r\n`;
    const { answer, closedAfterMs } = await slowClient(head, "x".repeat(1000), 200);
    expect(closedAfterMs, "the server never closed the connection").not.toBeNull();
    // The whole request had TIMEOUT_MS; Node checks once a second.
    expect(closedAfterMs!).toBeLessThan(TIMEOUT_MS + 3000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
    expect(JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4))).toEqual({
      error: "request_timeout",
      message: "the request was not received in time",
    });
  });

  it("headers sent one byte at a time are cut off too", async () => {
    const { answer, closedAfterMs } = await slowClient("GET /health/live HTTP/1.1\r\n", "x-slow: ".repeat(200), 200);
    expect(closedAfterMs, "the server never closed the connection").not.toBeNull();
    expect(closedAfterMs!).toBeLessThan(TIMEOUT_MS + 3000);
    expect(answer).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("a request that arrives in time is answered as usual", async () => {
    const res = await fetch(`${url}/health/live`);
    expect(res.status).toBe(200);
  });
});
