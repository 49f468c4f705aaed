/**
 * A service's process as its container would run it: the compose command in the image's working
 * directory, with only the image's and the service's environment (nothing leaks in from this
 * machine's), as the image's non-root user when this runs as root. Output is kept for the report.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createInterface } from "node:readline";

/** The `node` user of the official node images. */
const NODE_USER = { uid: 1000, gid: 1000 };
const KEEP_LINES = 60;

export interface Container {
  name: string;
  child: ChildProcess;
  /** The last lines of its stdout and stderr. */
  lines: string[];
  exited: Promise<number | null>;
  running(): boolean;
  stop(timeoutMs?: number): Promise<void>;
}

export interface ContainerOptions {
  cwd: string;
  env: Record<string, string>;
  /** The image's USER: anything but root runs as NODE_USER when we can switch users. */
  user: string;
  echo?: boolean;
}

export function canSwitchUser(): boolean {
  return process.getuid?.() === 0;
}

export function startContainer(name: string, argv: string[], opts: ContainerOptions): Container {
  const asUser = opts.user !== "root" && opts.user !== "0" && canSwitchUser() ? NODE_USER : {};
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: opts.cwd,
    env: opts.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
    ...asUser,
  });
  const lines: string[] = [];
  for (const stream of [child.stdout, child.stderr]) {
    createInterface({ input: stream! }).on("line", (line) => {
      lines.push(line);
      if (lines.length > KEEP_LINES) lines.shift();
      if (opts.echo) process.stdout.write(`[${name}] ${line}\n`);
    });
  }
  let gone = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once("error", (err) => {
      lines.push(`cannot start: ${err.message}`);
      gone = true;
      resolve(null);
    });
    child.once("exit", (code) => {
      gone = true;
      // Let the last lines of output arrive before anyone reads them.
      setTimeout(() => resolve(code), 50);
    });
  });
  return {
    name,
    child,
    lines,
    exited,
    running: () => !gone,
    async stop(timeoutMs = 10_000) {
      if (gone || !child.pid) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid!, "SIGKILL");
        } catch {
          // already gone
        }
      }, timeoutMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Run a one-off command in a container (like `docker compose run`); its exit code and output. */
export async function runOnce(
  name: string,
  argv: string[],
  opts: ContainerOptions,
  timeoutMs = 60_000,
): Promise<{ code: number | null; output: string }> {
  const c = startContainer(name, argv, opts);
  const timer = setTimeout(() => void c.stop(1000), timeoutMs);
  const code = await c.exited;
  clearTimeout(timer);
  return { code, output: c.lines.join("\n") };
}
