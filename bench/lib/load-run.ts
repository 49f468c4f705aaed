/**
 * Runs bench/load.ts as a separate process against one server and returns its result line, with
 * the CPU time the watched processes used meanwhile (ms per request: a figure that holds up better
 * than the rate on a shared machine) and how busy the whole machine was.
 */
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Stack } from "../../scripts/lib/harness/stack.ts";
import { startProc } from "../../scripts/lib/procs.ts";
import type { LoadConfig, LoadResult } from "../load.ts";
import { cpuMs } from "./rss.ts";

export interface MeasuredLoad extends LoadResult {
  /** CPU ms per completed request (warm-up included), per watched process. */
  cpuMsPerRequest: Record<string, number | null>;
  /** Share of all cores busy during the run (any process on the machine), 0–1. */
  machineBusy: number | null;
}

/** Busy and total jiffies over all cores, from the first line of /proc/stat. */
function machineTicks(): { busy: number; total: number } | null {
  try {
    const line = readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const [, ...nums] = line.trim().split(/\s+/);
    const v = nums.map(Number);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

export async function runLoad(
  stack: Stack,
  config: LoadConfig,
  watch: Record<string, number | undefined> = {},
): Promise<MeasuredLoad> {
  const file = join(tmpdir(), `journeys-bench-load-${stack.id}-${config.updateIdBase}.json`);
  writeFileSync(file, JSON.stringify(config));
  let last = "";
  try {
    const cpu0 = Object.fromEntries(Object.entries(watch).map(([k, pid]) => [k, cpuMs(pid)]));
    const m0 = machineTicks();
    const proc = stack.track(
      startProc("load", "bench/load.ts", {
        args: [file],
        quiet: true,
        onLine: (line) => {
          if (line.startsWith("{")) last = line;
          else if (line.trim()) console.log(`[load] ${line}`);
        },
      }),
    );
    const code = await proc.exited;
    const m1 = machineTicks();
    if (code !== 0 || !last) throw new Error(`load driver exited with ${code}`);
    const result = JSON.parse(last) as LoadResult;
    const cpuMsPerRequest = Object.fromEntries(
      Object.entries(watch).map(([k, pid]) => {
        const before = cpu0[k];
        const after = cpuMs(pid);
        const ok = before != null && after != null && result.total_requests > 0;
        return [k, ok ? (after - before) / result.total_requests : null];
      }),
    );
    const machineBusy = m0 && m1 && m1.total > m0.total ? (m1.busy - m0.busy) / (m1.total - m0.total) : null;
    return { ...result, cpuMsPerRequest, machineBusy };
  } finally {
    rmSync(file, { force: true });
  }
}
