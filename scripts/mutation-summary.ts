/**
 * test/mutation/summary.json from Stryker's JSON reports (the mutation-testing-report schema), one
 * per target: the score per file and every mutant no test killed, with file:line, mutator and
 * replacement, so the last run is committed and reviewable. Survivors judged equivalent (no test
 * could tell them apart) are listed in test/mutation/equivalent.json with the reason; mutants
 * disabled in the source with `// Stryker disable next-line <mutator>: <reason>` come out as
 * "ignored" with that reason.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";

const EQUIVALENT = "test/mutation/equivalent.json";
const SUMMARY = "test/mutation/summary.json";
const THRESHOLD = 90;
const reportOf = (target: string) => `reports/mutation/${target}.json`;
/** Written by scripts/mutation.ts beside each report: wall time, load average (1 min) before and after. */
export const runInfoOf = (target: string) => `reports/mutation/${target}.run.json`;

/** The part of the mutation-testing-report schema read here. */
interface Report {
  files: Record<string, { source: string; mutants: Mutant[] }>;
  framework?: { version?: string };
}
interface Mutant {
  mutatorName: string;
  replacement?: string;
  status: "Killed" | "Survived" | "NoCoverage" | "Timeout" | "CompileError" | "RuntimeError" | "Ignored" | "Pending";
  statusReason?: string;
  location: { start: { line: number; column: number }; end: { line: number; column: number } };
}
/** Matched by its code, not its line, which moves whenever the file changes. */
interface Equivalent {
  file: string;
  mutator: string;
  original: string;
  replacement: string;
  reason: string;
}
type Status = Mutant["status"];

const oneLine = (s: string) => {
  const flat = s.replace(/\s*\n\s*/g, " ");
  return flat.length > 120 ? `${flat.slice(0, 117)}...` : flat;
};

/** The mutated code, on one line: enough to recognise it next to file:line. */
function originalOf(source: string, { start, end }: Mutant["location"]): string {
  const lines = source.split("\n").slice(start.line - 1, end.line);
  const last = lines.length - 1;
  lines[last] = lines[last]!.slice(0, end.column - 1); // the end first: on one line, start's index still holds
  lines[0] = lines[0]!.slice(start.column - 1);
  return oneLine(lines.join("\n"));
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const percent = (n: number, d: number) => (d === 0 ? 100 : Math.floor((1000 * n) / d) / 10);

/** The part of a previous summary read to carry a target over (other fields are copied as they are). */
type Row = Record<string, unknown>;
type FileRow = Row & {
  file: string;
  target: string;
  mutants: number;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  scoreWithoutEquivalent: number;
};
interface Summary {
  runs: (Row & { target: string })[];
  files: FileRow[];
  survivors: (Row & { at: string; mutator: string; original: string; replacement: string })[];
  ignored: (Row & { at: string })[];
}
const fileOf = (at: string) => at.slice(0, at.indexOf(":"));

/**
 * Writes the summary of every target: from its report, or — reports/ is not committed, so a fresh
 * checkout that runs one target has none for the others — as the committed summary last had it.
 * False when a target is in neither or a file scores under the threshold.
 */
export function writeSummary(targets: string[]): boolean {
  const previous: Summary | null = existsSync(SUMMARY) ? JSON.parse(readFileSync(SUMMARY, "utf8")) : null;
  const carried = targets.filter((t) => !existsSync(reportOf(t)) && previous?.runs.some((r) => r.target === t));
  const missing = targets.filter((t) => !existsSync(reportOf(t)) && !carried.includes(t));
  if (carried.length > 0) console.log(`No report here for ${carried.join(", ")}: kept from the last summary`);
  if (missing.length > 0) {
    console.error(`No report yet for ${missing.join(", ")}: run npm run test:mutation -- ${missing.join(" ")}`);
  }
  const equivalents = JSON.parse(readFileSync(EQUIVALENT, "utf8")) as Equivalent[];
  const used = new Set<Equivalent>();
  const runs: Row[] = [];
  const files: FileRow[] = [];
  const survivors: Row[] = [];
  const ignored: Row[] = [];
  const equivalentOf = (file: string, mutator: string, original: string, replacement: string) =>
    equivalents.find(
      (e) => e.file === file && e.mutator === mutator && e.original === original && e.replacement === replacement,
    );
  /**
   * A target's run, files, survivors and ignored mutants as the previous summary has them, its
   * survivors matched again against equivalent.json (which may have changed since).
   */
  const carry = (target: string, last: Summary) => {
    runs.push(...last.runs.filter((r) => r.target === target));
    for (const f of last.files.filter((x) => x.target === target)) {
      const ofFile = (x: { at: string }) => fileOf(x.at) === f.file;
      ignored.push(...last.ignored.filter(ofFile));
      let equivalent = 0;
      for (const s of last.survivors.filter(ofFile)) {
        const known = equivalentOf(f.file, s.mutator, s.original, s.replacement);
        if (known) {
          used.add(known);
          equivalent++;
        }
        survivors.push({ ...s, equivalent: known?.reason });
      }
      const detected = f.killed + f.timeout;
      const valid = detected + f.survived + f.noCoverage;
      files.push({ ...f, equivalent, scoreWithoutEquivalent: percent(detected, valid - equivalent) });
    }
  };
  for (const target of targets.filter((t) => !missing.includes(t))) {
    if (carried.includes(target)) {
      carry(target, previous!);
      continue;
    }
    const report = JSON.parse(readFileSync(reportOf(target), "utf8")) as Report;
    const info = existsSync(runInfoOf(target))
      ? (JSON.parse(readFileSync(runInfoOf(target), "utf8")) as {
          seconds: number;
          cpuSeconds: number;
          load1: number[];
        })
      : null;
    runs.push({
      target,
      finishedAt: statSync(reportOf(target)).mtime.toISOString(),
      stryker: report.framework?.version ?? null,
      seconds: info?.seconds ?? null,
      cpuSeconds: info?.cpuSeconds ?? null,
      // An object, not a pair: Biome would fold a JSON array of numbers onto one line.
      loadAverage: info ? { before: round1(info.load1[0]!), after: round1(info.load1[1]!) } : null,
    });
    for (const [file, { source, mutants }] of Object.entries(report.files).sort(([a], [b]) => a.localeCompare(b))) {
      const count = (...statuses: Status[]) => mutants.filter((m) => statuses.includes(m.status)).length;
      let equivalent = 0;
      for (const m of mutants) {
        const at = `${file}:${m.location.start.line}:${m.location.start.column}`;
        const original = originalOf(source, m.location);
        const replacement = oneLine(m.replacement ?? "");
        if (m.status === "Ignored") {
          ignored.push({ at, mutator: m.mutatorName, original, replacement, reason: m.statusReason ?? "" });
        }
        if (m.status !== "Survived" && m.status !== "NoCoverage") continue;
        const known = equivalentOf(file, m.mutatorName, original, replacement);
        if (known) {
          used.add(known);
          equivalent++;
        }
        survivors.push({
          at,
          status: m.status,
          mutator: m.mutatorName,
          original,
          replacement,
          equivalent: known?.reason,
        });
      }
      const detected = count("Killed", "Timeout");
      const valid = detected + count("Survived", "NoCoverage");
      files.push({
        file,
        target,
        mutants: mutants.length,
        killed: count("Killed"),
        timeout: count("Timeout"),
        survived: count("Survived"),
        noCoverage: count("NoCoverage"),
        errors: count("CompileError", "RuntimeError"),
        ignored: count("Ignored"),
        equivalent,
        // Stryker's score: detected / (detected + undetected); ignored and erroring mutants do not count.
        score: percent(detected, valid),
        // The same without the listed equivalent survivors: what the threshold applies to.
        scoreWithoutEquivalent: percent(detected, valid - equivalent),
      });
    }
  }
  const stale = equivalents.filter((e) => !used.has(e));
  const summary = {
    about: "The last run of `npm run test:mutation` (Stryker on the pure modules), written by scripts/mutation.ts.",
    threshold: THRESHOLD,
    runs,
    files,
    survivors,
    ignored,
    staleEquivalents: stale,
  };
  writeFileSync(SUMMARY, `${JSON.stringify(summary, null, 2)}\n`);

  console.log("\nscore (without listed equivalents)");
  for (const f of files) console.log(`${f.scoreWithoutEquivalent.toFixed(1).padStart(6)} %  ${f.file}  (${f.mutants})`);
  const open = survivors.filter((s) => s.equivalent === undefined).length;
  console.log(`${open} survivor(s) not listed as equivalent; details in ${SUMMARY}`);
  if (stale.length > 0) console.log(`${stale.length} entry(ies) of ${EQUIVALENT} match no survivor any more`);
  const below = files.filter((f) => f.scoreWithoutEquivalent < THRESHOLD);
  if (below.length > 0) console.error(`Under ${THRESHOLD} %: ${below.map((f) => f.file).join(", ")}`);
  return below.length === 0 && missing.length === 0;
}
