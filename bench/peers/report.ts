/**
 * The peers' block of bench/results.json (`peers.grammy_conversations`, `peers.pg_boss`, each with
 * our figures from the same run beside the peer's and the ratio) and its table, printed by the run
 * and by `npm run bench:table` from the JSON alone.
 */
import { round } from "../lib/stats.ts";
import type { KillResult, PeerRun, PeersResult } from "./phase.ts";

const ratio = (a: number | null | undefined, b: number | null | undefined) =>
  a == null || b == null || !Number.isFinite(a) || !Number.isFinite(b) || b <= 0 ? null : round(a / b, 2);

const side = (r: PeerRun) => ({
  answers_per_s: round(r.load.per_s, 0),
  p50_ms: round(r.load.p50_ms),
  p99_ms: round(r.load.p99_ms),
  errors: r.load.errors,
  answers_stored: r.stored,
  answered_2xx: r.load.total_requests - r.load.errors,
  cpu_ms_per_answer: {
    server: round(r.cpu.server, 2),
    worker: round(r.cpu.worker, 2),
    postgres: round(r.cpu.postgres, 2),
  },
  machine_busy: round(r.load.machineBusy, 2),
});

/** Our API and worker together; the peer's one process. */
const appCpu = (r: PeerRun) => (r.cpu.server == null ? null : r.cpu.server + (r.cpu.worker ?? 0));
const allCpu = (r: PeerRun) => {
  const app = appCpu(r);
  return app == null || r.cpu.postgres == null ? null : app + r.cpu.postgres;
};

const kill = (k: KillResult) => ({
  users: k.users,
  kills: k.kills,
  answered_2xx: k.answered,
  redeliveries: k.redeliveries,
  undelivered: k.undelivered,
  users_applied_twice: k.usersDoubled,
  users_question_skipped: k.usersSkipped,
  users_lost: k.usersLost,
  messages_resent: k.messagesResent,
});

export function peersJson(p: PeersResult) {
  const rounds = p.rounds.map((r) => ({
    depth: [r.depthFrom, r.depthTo],
    first: r.first,
    ours: side(r.ours),
    peer: side(r.peer),
    ratio_answers_per_s: ratio(r.ours.load.per_s, r.peer.load.per_s),
    /** Peer's CPU per answer over ours (> 1: we use less): app processes, then with Postgres. */
    ratio_cpu_per_answer: ratio(appCpu(r.peer), appCpu(r.ours)),
    ratio_cpu_per_answer_with_postgres: ratio(allCpu(r.peer), allCpu(r.ours)),
  }));
  // The goal's figure: the round that holds answer 20, else the deepest.
  const at20 = rounds.find((r) => r.depth[0]! <= 20 && 20 <= r.depth[1]!) ?? rounds.at(-1) ?? null;
  const d = p.delay;
  return {
    grammy_conversations: {
      users: p.users,
      connections: p.concurrency,
      questions: p.questions,
      rounds,
      at_depth_20: at20
        ? {
            depth: at20.depth,
            ours_answers_per_s: at20.ours.answers_per_s,
            peer_answers_per_s: at20.peer.answers_per_s,
            ratio: at20.ratio_answers_per_s,
            ratio_cpu_per_answer: at20.ratio_cpu_per_answer,
          }
        : null,
      kill: p.kill ? { ours: kill(p.kill.ours), peer: kill(p.kill.peer) } : null,
    },
    pg_boss: d
      ? {
          count: d.count,
          window_ms: d.windowMs,
          setting: { pollingIntervalSeconds: 0.5, batchSize: d.batchSize },
          ours: delay(d.ours),
          peer: delay(d.pgBoss),
          /** Peer's p50 over ours (the goal: ≥ 20). */
          ratio_p50: ratio(d.pgBoss.p50, d.ours.p50),
          ratio_p99: ratio(d.pgBoss.p99, d.ours.p99),
        }
      : null,
  };
}

const delay = (x: NonNullable<PeersResult["delay"]>["ours"]) => ({
  p50_ms: round(x.p50),
  p99_ms: round(x.p99),
  max_ms: round(x.max),
  received: x.received,
  cpu_ms_per_fire: round(x.cpuMsPerFire, 2),
});

export type PeersJson = ReturnType<typeof peersJson>;

type Num = number | null | undefined;
const fmt = (x: Num, unit = "", digits = 0) =>
  typeof x === "number" && Number.isFinite(x)
    ? `${x.toLocaleString("en-US", { maximumFractionDigits: digits })}${unit}`
    : "n/a";
const mark = (x: Num, pass: (v: number) => boolean) =>
  typeof x === "number" && Number.isFinite(x) ? (pass(x) ? "met" : "**missed**") : "";

/** Markdown rows (figure | measured | goal | met) for the peers' block of results.json. */
export function peersRows(p: Partial<PeersJson> | undefined): [string, string, string, string][] {
  const rows: [string, string, string, string][] = [];
  const g = p?.grammy_conversations;
  if (g) {
    for (const r of g.rounds) {
      const o = r.ours;
      const z = r.peer;
      const goal = r === g.rounds.find((x) => x.depth[0]! <= 20 && 20 <= x.depth[1]!);
      rows.push([
        `vs grammY conversations, answers ${r.depth[0]}–${r.depth[1]} deep: answers/s ours / peer (p99)`,
        `${fmt(o.answers_per_s)} (${fmt(o.p99_ms, " ms", 1)}) / ${fmt(z.answers_per_s)} (${fmt(z.p99_ms, " ms", 1)}): **${fmt(r.ratio_answers_per_s, "×", 2)}**`,
        goal ? "≥ 1.5×" : "—",
        goal ? mark(r.ratio_answers_per_s, (v) => v >= 1.5) : "",
      ]);
      rows.push([
        `… CPU per answer, ours API + worker + Postgres / peer + Postgres`,
        `${fmt(o.cpu_ms_per_answer.server, "", 2)} + ${fmt(o.cpu_ms_per_answer.worker, "", 2)} + ${fmt(o.cpu_ms_per_answer.postgres, "", 2)} / ${fmt(z.cpu_ms_per_answer.server, "", 2)} + ${fmt(z.cpu_ms_per_answer.postgres, "", 2)} ms: peer ${fmt(r.ratio_cpu_per_answer_with_postgres, "×", 2)} ours`,
        "—",
        "",
      ]);
    }
    const k = g.kill;
    if (k) {
      const bad = (x: ReturnType<typeof kill>) => x.users_applied_twice + x.users_lost;
      rows.push([
        `kill phase, ${k.ours.kills} × SIGKILL under load, redelivered until 2xx, ${fmt(k.ours.users)} users: users with an update applied twice (a question skipped) / lost, messages re-sent — ours; peer`,
        `${k.ours.users_applied_twice} (${k.ours.users_question_skipped}) / ${k.ours.users_lost}, ${k.ours.messages_resent}; ${k.peer.users_applied_twice} (${k.peer.users_question_skipped}) / ${k.peer.users_lost}, ${k.peer.messages_resent}`,
        "0 (ours)",
        mark(bad(k.ours) + k.ours.undelivered, (v) => v === 0),
      ]);
    }
  }
  const b = p?.pg_boss;
  if (b) {
    rows.push([
      `delay lateness vs pg-boss 10 (poll 0.5 s, batch ${b.setting.batchSize}), ${fmt(b.count)} due in ${fmt(b.window_ms / 1000)} s: p50 / p99 / max, ours; pg-boss`,
      `${fmt(b.ours.p50_ms, "", 1)} / ${fmt(b.ours.p99_ms, "", 1)} / ${fmt(b.ours.max_ms)} ms; ${fmt(b.peer.p50_ms, "", 1)} / ${fmt(b.peer.p99_ms, "", 1)} / ${fmt(b.peer.max_ms)} ms: p50 **${fmt(b.ratio_p50, "×", 0)}** lower`,
      "p50 ≥ 20× lower",
      b.ours.received === b.count && b.peer.received === b.count ? mark(b.ratio_p50, (v) => v >= 20) : "**missed**",
    ]);
  }
  return rows;
}

/** The peers' table under the run's (empty without peers' figures). */
export function peersMarkdown(p: Partial<PeersJson> | null | undefined): string {
  const rows = peersRows(p ?? undefined);
  if (rows.length === 0) return "";
  return [
    "",
    "",
    "Peers, measured in the same run, alternating with ours (bench/peers/; see “Peers” above for what is unfair):",
    "",
    "| figure | measured | goal | |",
    "| --- | --- | --- | --- |",
    ...rows.map(([f, v, g, met]) => `| ${f} | ${v} | ${g} | ${met} |`),
  ].join("\n");
}
