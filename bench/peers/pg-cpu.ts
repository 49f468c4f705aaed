/**
 * CPU time of the Postgres backends serving one database, read from /proc: a backend's command line
 * is "postgres: <cluster>: <user> <database> <client> <state>", so the bench's own database names its
 * backends even on a Postgres shared with other work. Background processes (WAL writer,
 * checkpointer, autovacuum) serve every database and are not counted; a backend that exits between
 * two readings takes its share with it. Linux with a local Postgres only; null elsewhere.
 */
import { readdirSync, readFileSync } from "node:fs";

/** CPU ms so far of each backend connected to `database`, by pid. */
export function backendCpu(database: string): Map<number, number> | null {
  let pids: string[];
  try {
    pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const out = new Map<number, number>();
  for (const pid of pids) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, "utf8");
      if (!cmd.startsWith("postgres: ") || !cmd.includes(` ${database} `)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      out.set(Number(pid), ((Number(fields[11]) + Number(fields[12])) * 1000) / 100); // utime + stime, USER_HZ 100
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return out;
}

/** CPU ms the database's backends used since `before` (backends started since count from zero). */
export function backendCpuSince(database: string, before: Map<number, number> | null): number | null {
  const now = backendCpu(database);
  if (!before || !now) return null;
  let ms = 0;
  for (const [pid, cpu] of now) ms += cpu - (before.get(pid) ?? 0);
  return ms;
}
