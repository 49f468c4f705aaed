/** Each scenario's figures, the table printed at the end, and faults/results.json. */

export interface ScenarioResult {
  id: number;
  name: string;
  /** Messages, updates or requests, as the scenario defines them. */
  tried: number;
  lost: number;
  duplicates: number;
  double_advanced: number;
  server_errors: number;
  passed: boolean;
  /** Scenario-specific measurements (kills, recovery times…), for comparing runs. */
  metrics: Record<string, number | string>;
  /** What failed, one line each (empty when passed). */
  failures: string[];
  seconds: number;
}

/** Collects a scenario's assertions: every one is evaluated and reported, not only the first. */
export class Checks {
  readonly failures: string[] = [];
  ok(condition: boolean, what: string): boolean {
    if (!condition) this.failures.push(what);
    return condition;
  }
  eq(actual: number, expected: number, what: string): boolean {
    return this.ok(actual === expected, `${what}: expected ${expected}, got ${actual}`);
  }
  atMost(actual: number, max: number, what: string): boolean {
    return this.ok(actual <= max, `${what}: expected at most ${max}, got ${actual}`);
  }
}

export function table(results: ScenarioResult[]): string {
  const head = ["scenario", "tried", "lost", "duplicates", "double-advanced", "5xx", "result", "time"];
  const rows = byId(results).map((r) => [
    r.name,
    String(r.tried),
    String(r.lost),
    String(r.duplicates),
    String(r.double_advanced),
    String(r.server_errors),
    r.passed ? "PASS" : "FAIL",
    `${r.seconds.toFixed(0)} s`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i === 0 ? `${"-".repeat(w + 1)}-` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(head), rule, ...rows.map(line)].join("\n");
}

/** The records of faults/results.json: the issue's fields first, then the scenario's measurements. */
export function resultsJson(results: ScenarioResult[]) {
  return byId(results).map((r) => ({
    name: r.name,
    tried: r.tried,
    lost: r.lost,
    duplicates: r.duplicates,
    double_advanced: r.double_advanced,
    server_errors: r.server_errors,
    passed: r.passed,
    metrics: r.metrics,
    ...(r.failures.length ? { failures: r.failures } : {}),
  }));
}

const byId = (results: ScenarioResult[]) => [...results].sort((a, b) => a.id - b.id);
