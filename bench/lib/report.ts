/** results.json (the shape, plus `delay_hz100` and `details`) and the markdown table. */
import type { DelayResult } from "../phases/delay.ts";
import type { SendRateResult } from "../phases/send-rate.ts";
import type { WebhookResult } from "../phases/webhook.ts";
import type { MeasuredLoad } from "./load-run.ts";
import { round } from "./stats.ts";

export interface Measured {
  date: string;
  cores: number;
  cpu: string;
  quick: boolean;
  webhook: WebhookResult | null;
  delay: DelayResult | null;
  delayHz100: DelayResult | null;
  /** 100 due in 10 s (full runs): lateness without a throughput backlog. */
  delayLight: DelayResult | null;
  delayLightHz100: DelayResult | null;
  oneBot: SendRateResult | null;
  tenBots: SendRateResult | null;
  pending: number;
  apiRssMb: number | null;
  workerRssMb: number | null;
  redisBytesPerPending: number | null;
  failures: string[];
}

const ok = (r: MeasuredLoad | null | undefined) => (r ? round(r.per_s, 0) : null);
const delayBlock = (d: DelayResult | null) => ({
  count: d?.count ?? null,
  p50_ms: round(d?.p50),
  p99_ms: round(d?.p99),
  max_ms: round(d?.max),
  redis_hz: d?.redisHz ?? null,
  baseline_poller_p99_ms: round(d?.baselinePoller.p99, 0),
});

export function resultsJson(m: Measured) {
  const w = m.webhook;
  const frac = (ceiling: MeasuredLoad | undefined) =>
    w && ceiling && ceiling.per_s > 0 ? round(w.ours.per_s / ceiling.per_s, 3) : null;
  return {
    date: m.date,
    cores: m.cores,
    ...(m.quick ? { quick: true } : {}),
    webhook: {
      answers_per_s: ok(w?.ours),
      p50_ms: round(w?.ours.p50_ms),
      p99_ms: round(w?.ours.p99_ms),
      max_ms: round(w?.ours.max_ms),
      errors: w?.ours.errors ?? null,
      ceiling_bare_rps: ok(w?.bare),
      ceiling_tx_rps: ok(w?.tx),
    },
    delay: delayBlock(m.delay),
    send_rate: {
      one_bot_per_s: round(m.oneBot?.perS),
      one_bot_peak_per_s: m.oneBot?.peakPerSPerBot ?? null,
      ten_bots_per_s: round(m.tenBots?.perS),
      ten_bots_peak_per_s_per_bot: m.tenBots?.peakPerSPerBot ?? null,
      responses_429: m.oneBot && m.tenBots ? m.oneBot.responses429 + m.tenBots.responses429 : null,
    },
    footprint: {
      pending: m.pending,
      api_rss_mb: round(m.apiRssMb, 0),
      worker_rss_mb: round(m.workerRssMb, 0),
      redis_bytes_per_pending: round(m.redisBytesPerPending, 0),
    },
    delay_hz100: delayBlock(m.delayHz100),
    details: {
      cpu: m.cpu,
      webhook_fraction_of_bare: frac(w?.bare),
      webhook_fraction_of_tx: frac(w?.tx),
      webhook_with_worker_sends_to_fake: w?.sentDuringRun ?? null,
      webhook_answers_stored: w?.answersStored ?? null,
      webhook_without_worker: w?.oursWithoutWorker
        ? {
            answers_per_s: ok(w.oursWithoutWorker),
            p50_ms: round(w.oursWithoutWorker.p50_ms),
            p99_ms: round(w.oursWithoutWorker.p99_ms),
            max_ms: round(w.oursWithoutWorker.max_ms),
            errors: w.oursWithoutWorker.errors,
          }
        : null,
      ceiling_bare_latency_ms: w ? { p50: round(w.bare.p50_ms), p99: round(w.bare.p99_ms) } : null,
      ceiling_tx_latency_ms: w ? { p50: round(w.tx.p50_ms), p99: round(w.tx.p99_ms) } : null,
      cpu_ms_per_request: w
        ? {
            api: round(w.ours.cpuMsPerRequest.api, 2),
            worker_meanwhile: round(w.ours.cpuMsPerRequest.worker, 2),
            api_without_worker: round(w.oursWithoutWorker?.cpuMsPerRequest.api, 2),
            ceiling_bare: round(w.bare.cpuMsPerRequest.server, 2),
            ceiling_tx: round(w.tx.cpuMsPerRequest.server, 2),
          }
        : null,
      machine_busy_during: w
        ? {
            ours: round(w.ours.machineBusy, 2),
            ours_without_worker: round(w.oursWithoutWorker?.machineBusy, 2),
            ceiling_bare: round(w.bare.machineBusy, 2),
            ceiling_tx: round(w.tx.machineBusy, 2),
          }
        : null,
      delay_received: m.delay?.received ?? null,
      worker_cpu_ms_per_delay_fired: round(m.delay?.workerCpuMsPerMessage, 2),
      delay_light: m.delayLight ? delayBlock(m.delayLight) : null,
      delay_light_hz100: m.delayLightHz100 ? delayBlock(m.delayLightHz100) : null,
      delay_hz100_received: m.delayHz100?.received ?? null,
      baseline_poller_p50_ms: round(m.delay?.baselinePoller.p50, 0),
      one_bot: m.oneBot,
      ten_bots: m.tenBots,
      failures: m.failures,
    },
  };
}

type Row = [figure: string, value: string, goal: string, met: boolean | null];
const fmt = (x: number | null | undefined, unit = "", digits = 0) =>
  x === null || x === undefined ? "n/a" : `${x.toLocaleString("en-US", { maximumFractionDigits: digits })}${unit}`;
const check = (x: number | null | undefined, pass: (v: number) => boolean) =>
  x === null || x === undefined ? null : pass(x);

export function markdownTable(m: Measured): string {
  const w = m.webhook;
  const fracTx = w && w.tx.per_s > 0 ? w.ours.per_s / w.tx.per_s : null;
  const fracBare = w && w.bare.per_s > 0 ? w.ours.per_s / w.bare.per_s : null;
  const d = m.delay;
  const h = m.delayHz100;
  const rows: Row[] = [
    ["webhook answers/s (worker running)", fmt(w?.ours.per_s), "≥ 1,000", check(w?.ours.per_s, (v) => v >= 1000)],
    [
      "webhook latency p50 / p99 / max",
      w ? `${fmt(w.ours.p50_ms, "", 1)} / ${fmt(w.ours.p99_ms, "", 1)} / ${fmt(w.ours.max_ms)} ms` : "n/a",
      "p99 ≤ 50 ms",
      check(w?.ours.p99_ms, (v) => v <= 50),
    ],
    ["webhook errors (non-2xx)", fmt(w?.ours.errors), "0", check(w?.ours.errors, (v) => v === 0)],
    [
      "CPU per request: API / tx ceiling / bare ceiling",
      w
        ? `${fmt(w.ours.cpuMsPerRequest.api, "", 2)} / ${fmt(w.tx.cpuMsPerRequest.server, "", 2)} / ${fmt(w.bare.cpuMsPerRequest.server, "", 2)} ms`
        : "n/a",
      "—",
      null,
    ],
    [
      "… of the plain-transaction ceiling",
      w ? `${fmt(fracTx && fracTx * 100, " %")} of ${fmt(w.tx.per_s)}/s (p99 ${fmt(w.tx.p99_ms, " ms", 1)})` : "n/a",
      "≥ 60 %",
      check(fracTx, (v) => v >= 0.6),
    ],
    [
      "… of the bare Fastify ceiling",
      w ? `${fmt(fracBare && fracBare * 100, " %", 1)} of ${fmt(w.bare.per_s)}/s` : "n/a",
      "—",
      null,
    ],
    [
      "webhook without the worker: answers/s, p99, share of tx ceiling",
      w?.oursWithoutWorker
        ? `${fmt(w.oursWithoutWorker.per_s)}/s, p99 ${fmt(w.oursWithoutWorker.p99_ms, " ms", 1)}, ${fmt(
            w.tx.per_s > 0 ? (w.oursWithoutWorker.per_s / w.tx.per_s) * 100 : null,
            " %",
          )}`
        : "not run",
      "—",
      null,
    ],
    [
      `delay lateness p50 / p99 / max, hz ${d?.redisHz ?? "?"} (${d?.count ?? 0} due in one window)`,
      d ? `${fmt(d.p50, "", 1)} / ${fmt(d.p99, "", 1)} / ${fmt(d.max)} ms` : "n/a",
      "p50 ≤ 30, p99 ≤ 150 ms",
      d && d.received === d.count ? check(d.p50, (v) => v <= 30) && check(d.p99, (v) => v <= 150) : d ? false : null,
    ],
    [
      `delay lateness p50 / p99 / max, hz ${h?.redisHz ?? "?"}`,
      h ? `${fmt(h.p50, "", 1)} / ${fmt(h.p99, "", 1)} / ${fmt(h.max)} ms` : "n/a",
      "p99 ≤ 30 ms",
      h && h.received === h.count ? check(h.p99, (v) => v <= 30) : h ? false : null,
    ],
    [
      "baseline: seed's 30-s poller, p50 / p99",
      d ? `${fmt(d.baselinePoller.p50)} / ${fmt(d.baselinePoller.p99)} ms` : "n/a",
      "—",
      null,
    ],
    [
      `light schedule, ${m.delayLight?.count ?? 100} due in 10 s: p50 / p99 at hz ${m.delayLight?.redisHz ?? "?"}; at hz ${m.delayLightHz100?.redisHz ?? "?"}`,
      m.delayLight || m.delayLightHz100
        ? `${fmt(m.delayLight?.p50, "", 1)} / ${fmt(m.delayLight?.p99, "", 1)} ms; ${fmt(m.delayLightHz100?.p50, "", 1)} / ${fmt(m.delayLightHz100?.p99, "", 1)} ms`
        : "not run",
      "—",
      null,
    ],
    [
      `send rate, 1 bot (${m.oneBot?.messages ?? 0} due)`,
      `${fmt(m.oneBot?.perS, "/s", 1)}, peak ${fmt(m.oneBot?.peakPerSPerBot)} in 1 s, ${fmt(m.oneBot?.responses429)} × 429`,
      "≥ 27/s, ≤ 30 in any 1 s",
      m.oneBot ? check(m.oneBot.perS, (v) => v >= 27) && (m.oneBot.peakPerSPerBot ?? 99) <= 30 : null,
    ],
    [
      `send rate, 10 bots (${m.tenBots?.messages ?? 0} due)`,
      `${fmt(m.tenBots?.perS, "/s", 1)}, peak ${fmt(m.tenBots?.peakPerSPerBot)}/bot in 1 s, ${fmt(m.tenBots?.responses429)} × 429`,
      "≥ 250/s, ≤ 30 per bot in any 1 s",
      m.tenBots ? check(m.tenBots.perS, (v) => v >= 250) && (m.tenBots.peakPerSPerBot ?? 99) <= 30 : null,
    ],
    ["another bot's one message, queued behind that backlog, waited", fmt(m.oneBot?.probeWaitMs, " ms"), "—", null],
    ["API RSS (peak)", fmt(m.apiRssMb, " MB"), "< 300 MB", check(m.apiRssMb, (v) => v < 300)],
    ["worker RSS (peak)", fmt(m.workerRssMb, " MB"), "< 300 MB", check(m.workerRssMb, (v) => v < 300)],
    [
      `Redis per pending scheduled message (${m.pending.toLocaleString("en-US")} pending)`,
      fmt(m.redisBytesPerPending, " B"),
      "≤ 1.2 KB",
      check(m.redisBytesPerPending, (v) => v <= 1200),
    ],
  ];
  const mark = (met: boolean | null) => (met === null ? "" : met ? "met" : "**missed**");
  const lines = [
    `Bench ${m.quick ? "(--quick, counts scaled down) " : ""}${m.date} — ${m.cores} cores (${m.cpu})` +
      (w?.ours.machineBusy != null
        ? `; machine ${Math.round(w.ours.machineBusy * 100)} % busy during the webhook run`
        : ""),
    "",
    "| figure | measured | goal | |",
    "| --- | --- | --- | --- |",
    ...rows.map(([f, v, g, met]) => `| ${f} | ${v} | ${g} | ${mark(met)} |`),
  ];
  if (m.failures.length) lines.push("", ...m.failures.map((f) => `- failed: ${f}`));
  return lines.join("\n");
}
