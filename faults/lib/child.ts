/**
 * The API and the worker as production runs them (`tsx apps/api/src/main.ts`, `tsx apps/worker/src/main.ts`),
 * each in its own process group: tsx starts the real Node process as its child, so a SIGKILL meant
 * to crash the service must reach the whole group, not only the tsx wrapper.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";
import { ROOT, TSX, tsxArgs } from "../../scripts/lib/procs.ts";

const KEEP_LINES = 400;

export interface Service {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  /** The last KEEP_LINES lines of output. */
  readonly lines: string[];
  /** How many lines so far had `"msg":"<msg>"`. */
  count(msg: string): number;
  readonly exited: Promise<number | null>;
  alive(): boolean;
  /** SIGKILL the whole process group (a crash: no shutdown hook runs) and wait for the exit. */
  crash(): Promise<void>;
  /** SIGTERM, then SIGKILL of the group after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

const living = new Set<Service>();

export function spawnService(
  name: string,
  entry: string,
  env: Record<string, string>,
  opts: { verbose?: boolean } = {},
): Service {
  const child = spawn(TSX, tsxArgs(entry), {
    cwd: ROOT,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  if (child.pid === undefined) throw new Error(`could not start ${name}`);
  const pid = child.pid;
  const lines: string[] = [];
  const counts = new Map<string, number>();
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on("line", (line) => {
      lines.push(line);
      if (lines.length > KEEP_LINES) lines.shift();
      const m = /"msg":"([^"]*)"/.exec(line);
      if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
      if (opts.verbose) process.stdout.write(`[${name}] ${line}\n`);
    });
  }
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  const alive = () => child.exitCode === null && child.signalCode === null;
  const killGroup = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone already
    }
  };
  const service: Service = {
    name,
    child,
    pid,
    lines,
    count: (msg) => counts.get(msg) ?? 0,
    exited,
    alive,
    async crash() {
      killGroup("SIGKILL");
      await exited;
      living.delete(service);
    },
    async stop(timeoutMs = 10_000) {
      if (alive()) {
        killGroup("SIGTERM");
        const timer = setTimeout(() => killGroup("SIGKILL"), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
      killGroup("SIGKILL"); // nothing of the group may outlive the run
      living.delete(service);
    },
  };
  living.add(service);
  void exited.then(() => {
    // tsx exits when its child does; make sure no grandchild is left behind either way.
    killGroup("SIGKILL");
  });
  return service;
}

/** Last resort on an abnormal exit of the runner: SIGKILL every group still running. */
export function killAllServicesNow(): void {
  for (const s of living) {
    try {
      process.kill(-s.pid, "SIGKILL");
    } catch {
      // gone
    }
  }
  living.clear();
}
