import { request } from "node:http";
import { Worker } from "node:worker_threads";
import { afterAll, describe, expect, it } from "vitest";
import { startTestApi } from "../../../test/support/api.ts";
import { createTestEnv } from "../../../test/support/context.ts";
import { addBot } from "../../../test/support/fixtures.ts";
import { BODY_LIMIT } from "../src/app.ts";
import { newTenant, tokenFor } from "./admin-support.ts";

const env = await createTestEnv();
const { url } = await startTestApi(env);
const port = Number(new URL(url).port);
const bot = await addBot(env, newTenant());
const token = tokenFor(newTenant());
const RUNS = 50;

const OVER = BODY_LIMIT + 10;
const bigJourney = JSON.stringify({ bot_id: "x", name: "x", description: "x".repeat(OVER) });
const bigUpdate = JSON.stringify({ update_id: 1, pad: "x".repeat(OVER) });
const cases: { name: string; path: string; headers: Record<string, string>; body: string }[] = [
  {
    name: "POST /api/journeys",
    path: "/api/journeys",
    headers: { authorization: `Bearer ${token}` },
    body: bigJourney,
  },
  {
    name: "webhook",
    path: `/telegram/webhook/${bot.botId}`,
    headers: { "x-telegram-bot-api-secret-token": bot.webhookSecret },
    body: bigUpdate,
  },
];

/** What a client reads back: the status, or 0 and the network error (as the fault suite counts it). */
async function viaFetch(path: string, headers: Record<string, string>, body: string) {
  try {
    const res = await fetch(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
      signal: AbortSignal.timeout(15_000),
    });
    return { status: res.status, body: await res.text() };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { status: 0, body: e.cause?.code ?? e.message };
  }
}

/** node:http with chunked transfer (no Content-Length): the server finds out only while reading. */
function viaChunks(path: string, headers: Record<string, string>, body: string) {
  return new Promise<{ status: number; body: string }>((resolve) => {
    const req = request(`${url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "transfer-encoding": "chunked", ...headers },
    });
    req.on("response", (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      res.on("error", (err) => resolve({ status: 0, body: err.message }));
    });
    req.on("error", (err) => resolve({ status: 0, body: (err as NodeJS.ErrnoException).code ?? err.message }));
    for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.slice(i, i + 64 * 1024));
    req.end();
  });
}

/**
 * A raw socket in a worker thread (its own event loop) that is busy just after writing the request,
 * as a client on a loaded machine is: it reads only after the server had time to answer and, if it
 * does, close. Closing with the body unread resets the connection, and the client loses the answer.
 */
const BUSY_CLIENT = `
const { connect } = require("node:net");
const { parentPort } = require("node:worker_threads");
parentPort.on("message", (w) => {
  const sock = connect(w.port, "127.0.0.1");
  let data = "";
  let settled = false;
  const done = (why) => {
    if (settled) return;
    settled = true;
    const m = /^HTTP\\/1\\.1 (\\d{3})[^]*?\\r\\n\\r\\n([^]*)$/.exec(data);
    parentPort.postMessage(m ? { status: Number(m[1]), body: m[2] } : { status: 0, body: why });
    sock.destroy();
  };
  sock.setEncoding("utf8");
  sock.on("data", (chunk) => {
    data += chunk;
    const m = /content-length: (\\d+)\\r\\n[^]*?\\r\\n\\r\\n([^]*)$/i.exec(data);
    if (m && Buffer.byteLength(m[2]) >= Number(m[1])) done("complete");
  });
  sock.on("error", (err) => done(err.code || err.message));
  sock.on("close", () => done("closed"));
  sock.on("connect", () => {
    sock.write(w.head);
    sock.write(w.body);
    const until = Date.now() + 50;
    while (Date.now() < until) {}
  });
});`;
const busyClient = new Worker(BUSY_CLIENT, { eval: true });
afterAll(() => busyClient.terminate());

function viaBusyClient(path: string, headers: Record<string, string>, body: string) {
  const lines = Object.entries({ ...headers, "content-type": "application/json" }).map(([k, v]) => `${k}: ${v}\r\n`);
  const head = `POST ${path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: ${Buffer.byteLength(body)}\r\n${lines.join("")}\r\n`;
  return new Promise<{ status: number; body: string }>((resolve) => {
    busyClient.once("message", resolve);
    busyClient.postMessage({ port, head, body });
  });
}

describe(`a body over the limit is answered 413, and the client reads it (${RUNS} runs in a row)`, () => {
  for (const c of cases) {
    for (const [how, send] of [
      ["with Content-Length (fetch)", viaFetch],
      ["chunked (node:http)", viaChunks],
      ["busy client (raw socket)", viaBusyClient],
    ] as const) {
      it(`${c.name}, ${how}`, async () => {
        const seen: string[] = [];
        for (let i = 0; i < RUNS; i++) {
          const res = await send(c.path, c.headers, c.body);
          seen.push(res.status === 413 ? "413" : `${res.status} ${res.body.slice(0, 80)}`);
          if (res.status === 413) expect(JSON.parse(res.body)).toMatchObject({ error: "payload_too_large" });
        }
        expect(seen.filter((s) => s !== "413")).toEqual([]);
      });
    }
  }
});
