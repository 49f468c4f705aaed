/**
 * A private redis-server on a loopback port, for what must not touch the machine's shared Redis:
 * the fault suite FLUSHALLs, crashes and restarts it; the bench runs one at `--hz 100` and measures
 * memory in an empty one. Nothing is persisted: a restart comes back empty, as a Redis without
 * persistence (or a failover to an empty replica) does.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { Redis } from "ioredis";

export class PrivateRedis {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(
    readonly port: number,
    /** More redis-server arguments, e.g. ["--hz", "100"]. */
    private readonly extraArgs: string[] = [],
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running()) return;
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        ...this.extraArgs,
      ],
      { stdio: "ignore" },
    );
    this.child = child;
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (await this.ping()) return;
      if (!this.running()) throw new Error(`redis-server on :${this.port} exited at start (port taken?)`);
      if (Date.now() > deadline) throw new Error(`redis-server on :${this.port} did not answer within 10 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** A crash: SIGKILL, and wait until the port is closed. */
  async kill(): Promise<void> {
    if (this.running()) this.child!.kill("SIGKILL");
    await this.exited;
  }

  /** Synchronous last resort (process exit). */
  killNow(): void {
    if (this.running()) this.child!.kill("SIGKILL");
  }

  async stop(): Promise<void> {
    if (this.running()) this.child!.kill("SIGTERM");
    const timer = setTimeout(() => this.child?.kill("SIGKILL"), 5000);
    await this.exited;
    clearTimeout(timer);
  }

  async ping(): Promise<boolean> {
    const probe = new Redis(this.port, "127.0.0.1", {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      connectTimeout: 500,
    });
    probe.on("error", () => undefined);
    try {
      await probe.connect();
      return (await probe.ping()) === "PONG";
    } catch {
      return false;
    } finally {
      probe.disconnect();
    }
  }

  async command(...args: [string, ...(string | number)[]]): Promise<unknown> {
    const client = new Redis(this.port, "127.0.0.1", { maxRetriesPerRequest: 1 });
    client.on("error", () => undefined);
    try {
      return await client.call(...args);
    } finally {
      client.disconnect();
    }
  }
}
