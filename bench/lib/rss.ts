/**
 * Resident memory of a child started through tsx. `tsx file.ts` is a small wrapper that spawns the
 * node process actually running the code, so the figure we want is that descendant's, read from
 * /proc/<pid>/status (VmRSS now, VmHWM the peak since it started). Linux only; null elsewhere.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface Memory {
  pid: number;
  rssMb: number;
  peakMb: number;
}

function parentOf(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // "pid (comm) state ppid …" — comm may hold spaces or parentheses: split after the last ')'.
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

function memoryOf(pid: number): Memory | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? Number.NaN);
    return { pid, rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
  } catch {
    return null;
  }
}

/** `rootPid` and all its descendants. */
function processTree(rootPid: number): number[] {
  let pids: number[];
  try {
    pids = readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .map(Number);
  } catch {
    return [];
  }
  const children = new Map<number, number[]>();
  for (const pid of pids) {
    const ppid = parentOf(pid);
    if (ppid !== null) children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** The process under `rootPid` (itself included) with the largest RSS: tsx's node child. */
export function appMemory(rootPid: number | undefined): Memory | null {
  if (!rootPid) return null;
  const mems = processTree(rootPid)
    .map(memoryOf)
    .filter((m): m is Memory => m !== null && Number.isFinite(m.rssMb));
  return mems.sort((a, b) => b.rssMb - a.rssMb)[0] ?? null;
}

/** CPU time (user + system, ms) used so far by `rootPid` and its descendants; null when unreadable. */
export function cpuMs(rootPid: number | undefined): number | null {
  if (!rootPid) return null;
  let ticks = 0;
  for (const pid of processTree(rootPid)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]); // utime, stime: fields 14 and 15 of the line
    } catch {
      // exited meanwhile
    }
  }
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** Samples a set of named processes every `everyMs`, keeping each name's highest RSS and peak. */
export class RssTracker {
  private readonly peak = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pids: () => Record<string, number | undefined>,
    everyMs = 500,
  ) {
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): void {
    for (const [name, pid] of Object.entries(this.pids())) {
      const m = appMemory(pid);
      if (m) this.peak.set(name, Math.max(this.peak.get(name) ?? 0, m.rssMb, m.peakMb));
    }
  }

  peakMb(name: string): number | null {
    return this.peak.get(name) ?? null;
  }

  stop(): void {
    this.sample();
    clearInterval(this.timer);
  }
}
