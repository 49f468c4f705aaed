/**
 * Child processes for the local tools (npm start, verify, chat, bench, faults): each line of their
 * output labelled and the last ones kept, clean stop on SIGTERM with a bounded wait, SIGKILL after,
 * and a crash on purpose (SIGKILL to the whole group).
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
  pid: number;
  /** The last KEEP_LINES lines of its output, stdout and stderr together. */
  lines: string[];
  /** How many lines so far were a log record with `"msg":"<msg>"`. */
  count(msg: string): number;
  exited: Promise<number | null>;
  alive(): boolean;
  /** A graceful stop: SIGTERM, then SIGKILL of its group after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
  /** A crash: SIGKILL to its whole group (no shutdown hook runs), and wait for the exit. */
  crash(): Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

const COLORS = [36, 35, 33, 32, 34];
const KEEP_LINES = 400;
/** Every group started and not yet stopped: killed by killAllNow() on an abnormal exit. */
const living = new Set<Proc>();

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
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const pid = child.pid;
  const color = COLORS[name.length % COLORS.length];
  const label = process.stdout.isTTY ? `\x1b[${color}m[${name}]\x1b[0m` : `[${name}]`;
  const lines: string[] = [];
  const counts = new Map<string, number>();
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream }).on("line", (line) => {
      lines.push(line);
      if (lines.length > KEEP_LINES) lines.shift();
      const msg = /"msg":"([^"]*)"/.exec(line)?.[1];
      if (msg !== undefined) counts.set(msg, (counts.get(msg) ?? 0) + 1);
      opts.onLine?.(line);
      if (!opts.quiet) process.stdout.write(`${label} ${line}\n`);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const signalGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already
    }
  };
  const proc: Proc = {
    name,
    child,
    pid,
    lines,
    count: (msg) => counts.get(msg) ?? 0,
    exited,
    alive,
    // SIGKILL goes to the whole group (tsx's node child too); a graceful signal goes to tsx alone,
    // which relays it once to the process running the code.
    kill: (signal = "SIGKILL") => {
      if (!alive()) return;
      if (signal === "SIGKILL") signalGroup(signal);
      else child.kill(signal);
    },
    async crash() {
      signalGroup("SIGKILL");
      await exited;
    },
    async stop(timeoutMs = 10_000) {
      if (alive()) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => signalGroup("SIGKILL"), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
    },
  };
  living.add(proc);
  void exited.then(() => {
    // tsx exits when its child does: nothing of the group may outlive it.
    signalGroup("SIGKILL");
    living.delete(proc);
  });
  return proc;
}

/** Last resort on an abnormal exit of the parent (synchronous): SIGKILL every group still running. */
export function killAllNow(): void {
  for (const p of living) p.kill("SIGKILL");
  living.clear();
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
