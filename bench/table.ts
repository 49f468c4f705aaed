/**
 * `npm run bench:table`: print the figures of bench/results.json as the markdown table that
 * bench/README.md shows, each beside its goal. `-- --write` puts it into bench/README.md between
 * `<!-- table -->` and `<!-- /table -->`; `-- --check` exits 1 when that block is not what the
 * file holds now. `-- --file <path>` reads another results file (a run kept for comparison).
 *
 * It renders from the JSON, not from a run: bench/lib/report.ts's markdownTable needs a run's
 * in-memory measurements, which the file does not hold whole. The goals are issue 7's, as there.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { type PeersJson, peersMarkdown } from "./peers/report.ts";

/** What the table reads of bench/results.json (see resultsJson in bench/lib/report.ts). Any may be missing. */
interface DelayBlock {
  count?: number | null;
  p50_ms?: number | null;
  p99_ms?: number | null;
  max_ms?: number | null;
  redis_hz?: number | null;
  baseline_poller_p99_ms?: number | null;
}
interface SendBlock {
  messages?: number;
  received?: number;
  perS?: number | null;
  peakPerSPerBot?: number | null;
  responses429?: number | null;
  probeWaitMs?: number | null;
}
export interface Results {
  date?: string;
  /** bench/peers/report.ts's block: grammY conversations and pg-boss beside ours. */
  peers?: Partial<PeersJson> | null;
  cores?: number;
  quick?: boolean;
  webhook?: {
    answers_per_s?: number | null;
    p50_ms?: number | null;
    p99_ms?: number | null;
    max_ms?: number | null;
    errors?: number | null;
    ceiling_bare_rps?: number | null;
    ceiling_tx_rps?: number | null;
  };
  delay?: DelayBlock;
  delay_hz100?: DelayBlock;
  footprint?: {
    pending?: number | null;
    api_rss_mb?: number | null;
    worker_rss_mb?: number | null;
    redis_bytes_per_pending?: number | null;
  };
  details?: {
    cpu?: string;
    webhook_without_worker?: { answers_per_s?: number | null; p50_ms?: number | null; p99_ms?: number | null } | null;
    ceiling_tx_latency_ms?: { p50?: number | null; p99?: number | null } | null;
    cpu_ms_per_request?: {
      api?: number | null;
      worker_meanwhile?: number | null;
      api_without_worker?: number | null;
      ceiling_bare?: number | null;
      ceiling_tx?: number | null;
    } | null;
    machine_busy_during?: {
      ours?: number | null;
      ours_without_worker?: number | null;
      ceiling_bare?: number | null;
      ceiling_tx?: number | null;
    } | null;
    delay_received?: number | null;
    delay_hz100_received?: number | null;
    worker_cpu_ms_per_delay_fired?: number | null;
    delay_light?: DelayBlock | null;
    delay_light_hz100?: DelayBlock | null;
    baseline_poller_p50_ms?: number | null;
    one_bot?: SendBlock | null;
    ten_bots?: SendBlock | null;
    failures?: string[];
  };
}

type Num = number | null | undefined;
const known = (x: Num): x is number => typeof x === "number" && Number.isFinite(x);
const fmt = (x: Num, unit = "", digits = 0) =>
  known(x) ? `${x.toLocaleString("en-US", { maximumFractionDigits: digits })}${unit}` : "n/a";
const pct = (x: Num, digits = 0) => (known(x) ? fmt(x * 100, " %", digits) : "n/a");
const ratio = (a: Num, b: Num) => (known(a) && known(b) && b > 0 ? a / b : null);
/** met / missed for a figure with a goal; "" without a goal or a figure. */
const mark = (x: Num, pass: (v: number) => boolean) => (known(x) ? (pass(x) ? "met" : "**missed**") : "");
const both = (a: string, b: string) => (a === "" || b === "" ? "" : a === "met" && b === "met" ? "met" : "**missed**");
const lateness = (d: DelayBlock | null | undefined) =>
  d ? `${fmt(d.p50_ms, "", 1)} / ${fmt(d.p99_ms, "", 1)} / ${fmt(d.max_ms)} ms` : "not run";
/** A delay figure counts only when every message of the schedule arrived. */
const allArrived = (d: DelayBlock | undefined, received: Num) => known(d?.count) && received === d?.count;

const utc = (iso: string | undefined) => (iso ? `${iso.slice(0, 16).replace("T", " ")} UTC` : "unknown date");

export function renderTable(r: Results): string {
  const w = r.webhook ?? {};
  const d = r.details ?? {};
  const cpu = d.cpu_ms_per_request ?? {};
  const busy = d.machine_busy_during ?? {};
  const nw = d.webhook_without_worker;
  const delay = r.delay;
  const hz100 = r.delay_hz100;
  const one = d.one_bot;
  const ten = d.ten_bots;
  const fp = r.footprint ?? {};
  const shareTx = ratio(w.answers_per_s, w.ceiling_tx_rps);

  const rows: [figure: string, value: string, goal: string, met: string][] = [
    ["webhook answers/s (worker running)", fmt(w.answers_per_s), "≥ 1,000", mark(w.answers_per_s, (v) => v >= 1000)],
    [
      "webhook latency p50 / p99 / max",
      `${fmt(w.p50_ms, "", 1)} / ${fmt(w.p99_ms, "", 1)} / ${fmt(w.max_ms)} ms`,
      "p99 ≤ 50 ms",
      mark(w.p99_ms, (v) => v <= 50),
    ],
    ["webhook errors (non-2xx)", fmt(w.errors), "0", mark(w.errors, (v) => v === 0)],
    [
      "… share of the plain-transaction ceiling",
      `${pct(shareTx)} of ${fmt(w.ceiling_tx_rps)}/s (ceiling p99 ${fmt(d.ceiling_tx_latency_ms?.p99, " ms", 1)})`,
      "≥ 60 %",
      mark(shareTx, (v) => v >= 0.6),
    ],
    [
      "webhook without the worker: answers/s, p50 / p99, share of the tx ceiling",
      nw
        ? `${fmt(nw.answers_per_s)}/s, ${fmt(nw.p50_ms, "", 1)} / ${fmt(nw.p99_ms, "", 1)} ms, ${pct(ratio(nw.answers_per_s, w.ceiling_tx_rps))}`
        : "not run",
      "—",
      "",
    ],
    [
      "… share of the bare Fastify ceiling",
      `${pct(ratio(w.answers_per_s, w.ceiling_bare_rps), 1)} of ${fmt(w.ceiling_bare_rps)}/s`,
      "—",
      "",
    ],
    [
      "CPU per request: API (without the worker) / tx ceiling / bare ceiling",
      `${fmt(cpu.api, "", 2)} (${fmt(cpu.api_without_worker, "", 2)}) / ${fmt(cpu.ceiling_tx, "", 2)} / ${fmt(cpu.ceiling_bare, "", 2)} ms`,
      "—",
      "",
    ],
    ["worker CPU per answer, meanwhile (it sends the next question)", fmt(cpu.worker_meanwhile, " ms", 2), "—", ""],
    [
      "machine busy: ours / without the worker / tx ceiling / bare ceiling",
      `${pct(busy.ours)} / ${pct(busy.ours_without_worker)} / ${pct(busy.ceiling_tx)} / ${pct(busy.ceiling_bare)}`,
      "—",
      "",
    ],
    [
      `delay lateness p50 / p99 / max, hz ${fmt(delay?.redis_hz)}, ${fmt(delay?.count)} due`,
      lateness(delay),
      "p50 ≤ 30, p99 ≤ 150 ms",
      delay && !allArrived(delay, d.delay_received)
        ? "**missed**"
        : both(
            mark(delay?.p50_ms, (v) => v <= 30),
            mark(delay?.p99_ms, (v) => v <= 150),
          ),
    ],
    [
      `delay lateness p50 / p99 / max, hz ${fmt(hz100?.redis_hz)}, ${fmt(hz100?.count)} due`,
      lateness(hz100),
      "p99 ≤ 30 ms",
      hz100 && !allArrived(hz100, d.delay_hz100_received) ? "**missed**" : mark(hz100?.p99_ms, (v) => v <= 30),
    ],
    [
      `light schedule, ${fmt(d.delay_light?.count ?? d.delay_light_hz100?.count)} due: p50 / p99 at hz ${fmt(d.delay_light?.redis_hz)}; at hz ${fmt(d.delay_light_hz100?.redis_hz)}`,
      d.delay_light || d.delay_light_hz100
        ? `${fmt(d.delay_light?.p50_ms, "", 1)} / ${fmt(d.delay_light?.p99_ms, "", 1)} ms; ${fmt(d.delay_light_hz100?.p50_ms, "", 1)} / ${fmt(d.delay_light_hz100?.p99_ms, "", 1)} ms`
        : "not run",
      "—",
      "",
    ],
    [
      "baseline: the seed's 30-s poller, p50 / p99",
      `${fmt(d.baseline_poller_p50_ms)} / ${fmt(delay?.baseline_poller_p99_ms)} ms`,
      "—",
      "",
    ],
    ["worker CPU per fired delay (its send included)", fmt(d.worker_cpu_ms_per_delay_fired, " ms", 1), "—", ""],
    [
      `send rate, 1 bot, ${fmt(one?.messages)} due`,
      `${fmt(one?.perS, "/s", 1)}, peak ${fmt(one?.peakPerSPerBot)} in any 1 s, ${fmt(one?.responses429)} × 429`,
      "≥ 27/s, ≤ 30 in any 1 s",
      both(
        mark(one?.perS, (v) => v >= 27),
        mark(one?.peakPerSPerBot, (v) => v <= 30),
      ),
    ],
    [
      `send rate, 10 bots, ${fmt(ten?.messages)} due in all`,
      `${fmt(ten?.perS, "/s", 1)}, peak ${fmt(ten?.peakPerSPerBot)} per bot in any 1 s, ${fmt(ten?.responses429)} × 429`,
      "≥ 250/s, ≤ 30 per bot in any 1 s",
      both(
        mark(ten?.perS, (v) => v >= 250),
        mark(ten?.peakPerSPerBot, (v) => v <= 30),
      ),
    ],
    ["another bot's one message, queued behind the 1-bot backlog, waited", fmt(one?.probeWaitMs, " ms"), "—", ""],
    [
      "API / worker RSS (peak)",
      `${fmt(fp.api_rss_mb)} / ${fmt(fp.worker_rss_mb)} MB`,
      "< 300 MB each",
      both(
        mark(fp.api_rss_mb, (v) => v < 300),
        mark(fp.worker_rss_mb, (v) => v < 300),
      ),
    ],
    [
      `Redis per pending scheduled message (${fmt(fp.pending)} pending)`,
      fmt(fp.redis_bytes_per_pending, " B"),
      "≤ 1.2 KB",
      mark(fp.redis_bytes_per_pending, (v) => v <= 1200),
    ],
  ];

  const failures = d.failures ?? [];
  return (
    [
      `Run of ${utc(r.date)}${r.quick ? " (`--quick`: counts scaled down)" : ""}: ${fmt(r.cores)} cores, ${d.cpu ?? "unknown CPU"}.`,
      "",
      "| figure | measured | goal | |",
      "| --- | --- | --- | --- |",
      ...rows.map(([figure, value, goal, met]) => `| ${figure} | ${value} | ${goal} | ${met} |`),
      ...(failures.length ? ["", ...failures.map((f) => `- failed: ${f}`)] : []),
    ].join("\n") + peersMarkdown(r.peers)
  );
}

export const BEGIN = "<!-- table -->";
export const END = "<!-- /table -->";

/** `doc` with the text between the markers replaced by `table`; throws when the markers are missing. */
export function withTable(doc: string, table: string): string {
  const start = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (start < 0 || end < start) throw new Error(`no ${BEGIN} … ${END} block`);
  return `${doc.slice(0, start + BEGIN.length)}\n${table}\n${doc.slice(end)}`;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      write: { type: "boolean", default: false },
      check: { type: "boolean", default: false },
      file: { type: "string" },
    },
  });
  const resultsPath = values.file ?? new URL("results.json", import.meta.url);
  const readmePath = new URL("README.md", import.meta.url);
  const table = renderTable(JSON.parse(readFileSync(resultsPath, "utf8")) as Results);
  if (values.write || values.check) {
    const doc = readFileSync(readmePath, "utf8");
    const next = withTable(doc, table);
    if (values.check) {
      if (next !== doc) {
        console.error("bench/README.md's table is not bench/results.json's: run `npm run bench:table -- --write`");
        process.exit(1);
      }
      console.log("bench/README.md's table matches bench/results.json");
    } else {
      writeFileSync(readmePath, next);
      console.log("bench/README.md: table written");
    }
  } else {
    console.log(table);
  }
}
