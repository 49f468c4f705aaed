/**
 * Does what the Dockerfile says without a container engine: each stage is a scratch folder standing
 * for the container's filesystem root (`WORKDIR /app` is `<stage>/app`), COPY takes files from the
 * build context or an earlier stage, RUN runs in the working directory with the stage's ENV and this
 * machine's Node (which must be the base image's major version). The instructions our Dockerfile uses
 * are supported; any other throws naming its line, so the file cannot drift away from this reading.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, statSync } from "node:fs";
import { dirname, posix } from "node:path";

export interface Instruction {
  line: number;
  op: string;
  args: string;
}

export interface Stage {
  name: string;
  from: string;
  steps: Instruction[];
}

/** A built stage: where its files are on this machine, and the settings a container from it starts with. */
export interface BuiltStage {
  name: string;
  root: string;
  workdir: string;
  env: Record<string, string>;
  user: string;
  cmd: string[];
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  const rawLines = text.split("\n");
  for (let i = 0; i < rawLines.length; i++) {
    const start = i;
    let line = rawLines[i]!.trim();
    if (line === "" || line.startsWith("#")) continue;
    while (line.endsWith("\\") && i + 1 < rawLines.length) line = `${line.slice(0, -1)} ${rawLines[++i]!.trim()}`;
    const m = /^(\w+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`Dockerfile line ${start + 1}: cannot read "${line}"`);
    const step = { line: start + 1, op: m[1]!.toUpperCase(), args: m[2]!.trim() };
    if (step.op === "FROM") {
      const from = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(step.args);
      if (!from) throw new Error(`Dockerfile line ${step.line}: cannot read FROM ${step.args}`);
      stages.push({ name: from[2] ?? String(stages.length), from: from[1]!, steps: [] });
    } else if (stages.length === 0) throw new Error(`Dockerfile line ${step.line}: ${step.op} before FROM`);
    else stages.at(-1)!.steps.push(step);
  }
  return stages;
}

/** JSON form (`["a", "b"]`) or space-separated words. */
function words(args: string): string[] {
  if (args.startsWith("[")) return JSON.parse(args) as string[];
  return args.split(/\s+/).filter(Boolean);
}

function parseEnv(args: string, line: number): [string, string][] {
  const unquote = (v: string) => (v.startsWith('"') ? (JSON.parse(v) as string) : v);
  if (!/^[A-Za-z_][A-Za-z0-9_]*=/.test(args)) {
    const [name, ...rest] = args.split(/\s+/);
    return [[name!, rest.join(" ")]];
  }
  const pairs = args.match(/[A-Za-z_][A-Za-z0-9_]*=("(?:[^"\\]|\\.)*"|\S*)/g) ?? [];
  if (pairs.join(" ").length !== args.replace(/\s+/g, " ").length)
    throw new Error(`Dockerfile line ${line}: cannot read ENV ${args}`);
  return pairs.map((p) => {
    const eq = p.indexOf("=");
    return [p.slice(0, eq), unquote(p.slice(eq + 1))];
  });
}

/** The major version a `node:<major>…` base image runs; other base images are not supported. */
export function nodeMajorOf(image: string): number {
  const m = /^node:(\d+)/.exec(image);
  if (!m) throw new Error(`base image ${image}: test-image stands in only for node:<major> images`);
  return Number(m[1]);
}

export interface BuildOptions {
  /** The build context, already filtered by .dockerignore. */
  context: string;
  /** Empty folder that receives one folder per stage. */
  scratch: string;
  /** Added to every RUN's environment (before the stage's ENV), e.g. npm cache settings. */
  runEnv: Record<string, string>;
  log: (line: string) => void;
}

/** Stages that need nothing from each other are built at the same time, as BuildKit does. */
export async function buildStages(stages: Stage[], opts: BuildOptions): Promise<Map<string, BuiltStage>> {
  const built = new Map<string, BuiltStage>();
  const pending = new Map<string, Promise<void>>();
  for (const stage of stages) {
    const needs = [stage.from, ...stage.steps.map((s) => /--from=(\S+)/.exec(s.args)?.[1] ?? "")];
    const after = needs.flatMap((n) => pending.get(n) ?? []);
    pending.set(
      stage.name,
      Promise.all(after).then(async () => {
        const s = await startStage(stage, built.get(stage.from), opts);
        for (const step of stage.steps) await runStep(s, step, built, opts);
        built.set(stage.name, s);
      }),
    );
  }
  const results = await Promise.allSettled(pending.values());
  const failed = results.find((r) => r.status === "rejected");
  if (failed) throw failed.reason;
  return built;
}

async function startStage(stage: Stage, base: BuiltStage | undefined, opts: BuildOptions): Promise<BuiltStage> {
  const root = `${opts.scratch}/${stage.name}`;
  opts.log(`[${stage.name}] FROM ${stage.from}`);
  if (base) {
    cpSync(base.root, root, { recursive: true, verbatimSymlinks: true });
    return { ...base, name: stage.name, root, env: { ...base.env } };
  }
  const major = nodeMajorOf(stage.from);
  const here = Number(process.versions.node.split(".")[0]);
  if (major !== here) throw new Error(`${stage.from} runs Node ${major}; this machine runs Node ${here}`);
  mkdirSync(root, { recursive: true });
  return { name: stage.name, root, workdir: "/", env: {}, user: "root", cmd: [] };
}

async function runStep(s: BuiltStage, step: Instruction, built: Map<string, BuiltStage>, opts: BuildOptions) {
  const where = (p: string) => `${s.root}${posix.resolve(s.workdir, p)}`;
  switch (step.op) {
    case "WORKDIR":
      s.workdir = posix.resolve(s.workdir, step.args);
      mkdirSync(where("."), { recursive: true });
      return;
    case "ENV":
      for (const [k, v] of parseEnv(step.args, step.line)) s.env[k] = v;
      return;
    case "USER":
      s.user = step.args;
      return;
    case "CMD":
      s.cmd = step.args.startsWith("[") ? words(step.args) : ["/bin/sh", "-c", step.args];
      return;
    case "EXPOSE":
      return;
    case "COPY":
      return copy(step, built, opts, where);
    case "RUN": {
      if (step.args.startsWith("--")) throw new Error(`Dockerfile line ${step.line}: RUN flags are not supported`);
      const argv = step.args.startsWith("[") ? words(step.args) : ["/bin/sh", "-c", step.args];
      const started = Date.now();
      await run(argv, where("."), { ...containerEnv(), ...opts.runEnv, ...s.env }, `line ${step.line}: RUN`);
      opts.log(`[${s.name}] RUN ${step.args}  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
      return;
    }
    default:
      throw new Error(`Dockerfile line ${step.line}: ${step.op} is not supported by test-image`);
  }
}

function copy(step: Instruction, built: Map<string, BuiltStage>, opts: BuildOptions, where: (p: string) => string) {
  let args = step.args;
  let from: BuiltStage | undefined;
  for (;;) {
    const flag = /^--(\w+)=(\S+)\s+(.*)$/.exec(args);
    if (!flag) break;
    if (flag[1] === "from") {
      from = built.get(flag[2]!);
      if (!from) throw new Error(`Dockerfile line ${step.line}: no earlier stage ${flag[2]}`);
    } else if (flag[1] !== "chown" && flag[1] !== "chmod")
      throw new Error(`Dockerfile line ${step.line}: COPY --${flag[1]} is not supported`);
    args = flag[3]!;
  }
  const parts = words(args);
  const dest = parts.pop()!;
  if (parts.length === 0) throw new Error(`Dockerfile line ${step.line}: COPY needs a source and a destination`);
  const intoDir = dest.endsWith("/") || parts.length > 1;
  for (const src of parts) {
    if (/[*?[]/.test(src)) throw new Error(`Dockerfile line ${step.line}: wildcards in COPY are not supported`);
    const path = from ? `${from.root}${posix.resolve("/", src)}` : `${opts.context}/${posix.normalize(src)}`;
    if (!existsSync(path)) throw new Error(`Dockerfile line ${step.line}: COPY ${src}: not found`);
    const target = where(dest);
    if (statSync(path).isDirectory()) cpSync(path, target, { recursive: true, verbatimSymlinks: true });
    else {
      const file = intoDir ? `${target}/${posix.basename(src)}` : target;
      mkdirSync(dirname(file), { recursive: true });
      cpSync(path, file);
    }
  }
}

/** What a node image's container has before ENV: its PATH (here: this machine's node first). */
export function containerEnv(): { PATH: string; HOME: string } {
  return {
    PATH: `${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
    // npm keeps its cache under HOME: this machine's, so `npm ci` reuses what it has downloaded before.
    HOME: process.env.HOME ?? "/root",
  };
}

/** RUN steps under way, each its own process group: stopped by stopRunning() when the test is interrupted. */
const running = new Map<number, Promise<void>>();

export async function stopRunning(): Promise<void> {
  for (const pid of running.keys()) {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  await Promise.all(running.values());
}

/** Run to completion; on failure throw with the end of its output. */
export function run(argv: string[], cwd: string, env: Record<string, string>, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const pid = child.pid;
    if (pid) running.set(pid, new Promise((done) => child.once("exit", () => done())));
    child.once("exit", () => pid && running.delete(pid));
    let out = "";
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (out += d));
    child.once("error", reject);
    child.once("exit", (code, signal) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${what} failed (${signal ?? `exit ${code}`}):\n${out.split("\n").slice(-40).join("\n")}`));
    });
  });
}
