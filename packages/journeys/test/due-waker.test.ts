/**
 * The due waker against a real BullMQ worker on a private redis-server started with `--hz 1`: Redis
 * then notices the end of a worker's blocking wait only once a second (or on other traffic), so
 * delayed jobs run up to a second late — unless the waker pokes Redis when each falls due.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, expect, it } from "vitest";
import { freePort } from "../../../scripts/lib/procs.ts";
import { createLogger } from "../src/logger.ts";
import { startDueWaker } from "../src/queue/due-waker.ts";

const port = await freePort();
const server: ChildProcess = spawn(
  "redis-server",
  ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--hz", "1"],
  { stdio: "ignore" },
);
const exited = new Promise((resolve) => server.once("exit", resolve));
afterAll(async () => {
  if (server.exitCode === null) server.kill("SIGKILL");
  await exited;
});

async function connect(): Promise<Redis> {
  for (let i = 0; ; i++) {
    const redis = new Redis(port, "127.0.0.1", {
      lazyConnect: true,
      maxRetriesPerRequest: null,
      retryStrategy: () => null,
    });
    redis.on("error", () => undefined);
    try {
      await redis.connect();
      await redis.ping();
      return redis;
    } catch (err) {
      redis.disconnect();
      if (i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

it("ends a worker's wait when its delayed jobs fall due, with Redis at hz 1", async () => {
  const connection = await connect();
  const name = `waker-${randomBytes(3).toString("hex")}`;
  const queue = new Queue(name, { connection });
  const late: number[] = [];
  const worker = new Worker(
    name,
    async (job) => {
      late.push(Date.now() - (job.timestamp + (job.opts.delay ?? 0)));
    },
    { connection: await connect() },
  );
  await worker.waitUntilReady();
  const waker = startDueWaker([queue], connection, createLogger("silent"));
  try {
    // Spread over 2 s: without the waker each job waits for Redis's next once-a-second tick.
    for (const delay of [400, 700, 1000, 1300, 1600, 1900]) await queue.add("j", {}, { delay });
    for (let waited = 0; late.length < 6 && waited < 10_000; waited += 50) {
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(late).toHaveLength(6);
    const median = [...late].sort((a, b) => a - b)[3]!;
    // Poked on time, a job runs within a few ms of its due time; without the poke, about 500 ms late.
    expect(median).toBeLessThan(250);
  } finally {
    waker.stop();
    await worker.close();
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  }
});
