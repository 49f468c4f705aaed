/**
 * Child processes for the local tools (npm start, verify, chat, bench, faults): each line of their
 * output labelled, clean stop on SIGTERM with a bounded wait, SIGKILL after.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const TSX = `${ROOT}node_modules/.bin/tsx`;

export const ENTRY = {
  api: "apps/api/src/main.ts",
  worker: "apps/worker/src/main.ts",
  fakeTelegram: "packages/fake-telegram/src/cli.ts",
} as const;

/** Where `npm start -- --fake-telegram` runs the fake Bot API unless told otherwise. */
export const DEFAULT_FAKE_TELEGRAM_PORT = "8081";

/**
 * V8's old-generation budget for the API and the worker, as package.json's start:api and
 * start:worker set it (keep the two in step). The live heap under load is about 50 MB; without a
 * budget V8 sizes it from the machine's memory and let RSS swing past 300 MB at 1,100 requests/s.
 */
export const HEAP_FLAGS = ["--max-old-space-size=192"];

/** tsx's arguments for `entry`: the heap budget first for the API and the worker. */
export function tsxArgs(entry: string, args: readonly string[] = []): string[] {
  const service = entry === ENTRY.api || entry === ENTRY.worker;
  return [...(service ? HEAP_FLAGS : []), entry, ...args];
}

export interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  stop(timeoutMs?: number): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

const COLORS = [36, 35, 33, 32, 34];

export function startProc(
  name: string,
  entry: string,
  opts: {
    env?: Record<string, string | undefined>;
    args?: string[];
    quiet?: boolean;
    onLine?: (line: string) => void;
  } = {},
): Proc {
  const child = spawn(TSX, tsxArgs(entry, opts.args), {
    cwd: ROOT,
    env: { ...process.env, ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
    // Own process group: a terminal's Ctrl-C reaches only the parent, which stops each child once
    // (a second signal would make close-with-grace exit at once, skipping the graceful stop).
    detached: true,
  });
  const color = COLORS[name.length % COLORS.length];
  const label = process.stdout.isTTY ? `\x1b[${color}m[${name}]\x1b[0m` : `[${name}]`;
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      opts.onLine?.(line);
      if (!opts.quiet) process.stdout.write(`${label} ${line}\n`);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return {
    name,
    child,
    exited,
    // SIGKILL goes to the whole group (tsx's node child too); a graceful signal goes to tsx alone,
    // which relays it once to the process running the code.
    kill: (signal = "SIGKILL") => {
      if (child.exitCode !== null || child.signalCode !== null || !child.pid) return;
      try {
        process.kill(signal === "SIGKILL" ? -child.pid : child.pid, signal);
      } catch {
        // already gone
      }
    },
    async stop(timeoutMs = 10_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      }, timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Poll `url` until it answers 2xx (or `timeoutMs` passes). */
export async function waitForHttp(url: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url);
      if (res.ok) return;
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}

/** A free loopback port (for a child process that must know its URL before it listens). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
