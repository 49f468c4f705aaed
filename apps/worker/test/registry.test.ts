/** The processor registry's wiring rules and the failure mapping every job goes through. */
import { type Job, UnrecoverableError } from "bullmq";
import { describe, expect, it } from "vitest";
import { createLogger, DomainError, JOBS, QUEUES } from "../../../packages/journeys/src/index.ts";
import { defineProcessor } from "../src/processors/base.ts";
import { createRegistry } from "../src/processors/registry.ts";

const log = createLogger("silent");
const ok = () => Promise.resolve("ok");
const all = [
  defineProcessor(JOBS.fireDelay, ok),
  defineProcessor(JOBS.sendOutbox, ok),
  defineProcessor(JOBS.sweep, ok),
];
/** A job as BullMQ hands it to a processor: only name and data are read before the processor runs. */
const job = (name: string, data: unknown) => ({ id: "1", name, data }) as Job;

describe("processor registry", () => {
  it("refuses to start when a job name has no processor", () => {
    expect(() => createRegistry(all.slice(0, 2))).toThrow(/job "sweep" has no processor/);
  });

  it("refuses to start when a job name has two processors", () => {
    expect(() => createRegistry([...all, defineProcessor(JOBS.sweep, ok)])).toThrow(/job "sweep" has two processors/);
  });

  it("runs a job on its own queue only", async () => {
    const registry = createRegistry(all);
    await expect(registry.handlerFor(QUEUES.maintenance, log)(job(JOBS.sweep, {}))).resolves.toBe("ok");
    await expect(registry.handlerFor(QUEUES.outbox, log)(job(JOBS.sweep, {}))).rejects.toBeInstanceOf(
      UnrecoverableError,
    );
    await expect(registry.handlerFor(QUEUES.outbox, log)(job("no-such-job", {}))).rejects.toBeInstanceOf(
      UnrecoverableError,
    );
  });

  it("fails a malformed payload without retrying and without running the processor", async () => {
    let ran = false;
    const registry = createRegistry([
      ...all.slice(0, 1),
      defineProcessor(JOBS.sendOutbox, async () => {
        ran = true;
      }),
      ...all.slice(2),
    ]);
    const handle = registry.handlerFor(QUEUES.outbox, log);
    await expect(handle(job(JOBS.sendOutbox, { outboxId: "1; DROP TABLE" }))).rejects.toBeInstanceOf(
      UnrecoverableError,
    );
    await expect(handle(job(JOBS.sendOutbox, { outboxId: 1, botId: "../x" }))).rejects.toBeInstanceOf(
      UnrecoverableError,
    );
    expect(ran).toBe(false);
    await handle(job(JOBS.sendOutbox, { outboxId: 1 })); // queued before jobs named their bot
    await handle(job(JOBS.sendOutbox, { outboxId: 1, botId: "my_bot" }));
    expect(ran).toBe(true);
  });

  it("maps DomainErrors to UnrecoverableError and leaves other errors to BullMQ's retries", async () => {
    const failing = (err: Error) =>
      createRegistry([defineProcessor(JOBS.fireDelay, () => Promise.reject(err)), ...all.slice(1)]).handlerFor(
        QUEUES.delays,
        log,
      )(job(JOBS.fireDelay, { scheduledMessageId: "8f0e2c4a-3b1d-4c5e-9f6a-7b8c9d0e1f2a" }));
    await expect(failing(new DomainError("NOT_FOUND", "session not found"))).rejects.toBeInstanceOf(UnrecoverableError);
    const transient = new Error("connection terminated");
    await expect(failing(transient)).rejects.toBe(transient);
  });
});
