/**
 * docker-compose.yml's services as a container engine would start them: command, environment (with
 * `${VAR:-default}` substituted from a given shell environment), healthcheck command, published
 * ports and start-up dependencies. Reads the file with the small YAML reader beside it.
 */
import { readFileSync } from "node:fs";
import { interpolate, parseYaml, type Yaml } from "./yaml.ts";

export type Condition = "service_started" | "service_healthy" | "service_completed_successfully";

export interface Service {
  name: string;
  /** Built from the Dockerfile (ours) rather than pulled (`image:`, e.g. postgres). */
  built: boolean;
  command: string[];
  environment: Record<string, string>;
  /** The healthcheck's command as argv, or null without one. */
  healthcheck: string[] | null;
  /** Container port → published port. */
  ports: Map<number, number>;
  dependsOn: Map<string, Condition>;
  volumes: string[];
}

export interface Compose {
  services: Map<string, Service>;
  volumes: string[];
}

type Map_ = { [key: string]: Yaml };
const isMap = (v: Yaml | undefined): v is Map_ => typeof v === "object" && v !== null && !Array.isArray(v);
const list = (v: Yaml | undefined): string[] => (Array.isArray(v) ? (v as string[]) : []);

function argv(v: Yaml | undefined, sub: (s: string) => string): string[] {
  if (v === undefined || v === "") return [];
  if (typeof v === "string") return v.split(/\s+/).filter(Boolean).map(sub);
  return list(v).map(sub);
}

export function readCompose(file: string, shellEnv: Record<string, string | undefined>): Compose {
  const doc = parseYaml(readFileSync(file, "utf8"));
  if (!isMap(doc) || !isMap(doc.services)) throw new Error(`${file}: no services`);
  const sub = (s: string) => interpolate(s, shellEnv);
  const services = new Map<string, Service>();
  for (const [name, raw] of Object.entries(doc.services)) {
    if (!isMap(raw)) throw new Error(`${file}: service ${name} is not a map`);
    const environment: Record<string, string> = {};
    if (isMap(raw.environment))
      for (const [k, v] of Object.entries(raw.environment)) environment[k] = sub(typeof v === "string" ? v : "");
    else
      for (const kv of list(raw.environment)) {
        const eq = kv.indexOf("=");
        environment[eq < 0 ? kv : kv.slice(0, eq)] = eq < 0 ? (shellEnv[kv] ?? "") : sub(kv.slice(eq + 1));
      }
    let healthcheck: string[] | null = null;
    if (isMap(raw.healthcheck)) {
      const test = raw.healthcheck.test;
      const words = typeof test === "string" ? ["CMD-SHELL", test] : list(test);
      if (words[0] === "CMD") healthcheck = words.slice(1).map(sub);
      else if (words[0] === "CMD-SHELL") healthcheck = ["/bin/sh", "-c", sub(words.slice(1).join(" "))];
      else throw new Error(`${file}: ${name}'s healthcheck must start with CMD or CMD-SHELL`);
    }
    const ports = new Map<number, number>();
    for (const p of list(raw.ports)) {
      const m = /^(?:[\d.]+:)?(\d+):(\d+)$/.exec(sub(p));
      if (!m) throw new Error(`${file}: ${name}: cannot read port "${p}"`);
      ports.set(Number(m[2]), Number(m[1]));
    }
    const dependsOn = new Map<string, Condition>();
    if (isMap(raw.depends_on))
      for (const [dep, cond] of Object.entries(raw.depends_on))
        dependsOn.set(dep, ((isMap(cond) && cond.condition) || "service_started") as Condition);
    else for (const dep of list(raw.depends_on)) dependsOn.set(dep, "service_started");
    services.set(name, {
      name,
      built: raw.build !== undefined,
      command: argv(raw.command, sub),
      environment,
      healthcheck,
      ports,
      dependsOn,
      volumes: list(raw.volumes).map(sub),
    });
  }
  return { services, volumes: isMap(doc.volumes) ? Object.keys(doc.volumes) : [] };
}

/** Service names in an order that starts each after the services it depends on. */
export function startOrder(services: Map<string, Service>): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (order.includes(name)) return;
    if (visiting.has(name)) throw new Error(`depends_on cycle through ${name}`);
    visiting.add(name);
    const s = services.get(name);
    if (!s) throw new Error(`depends_on names an unknown service ${name}`);
    for (const dep of s.dependsOn.keys()) visit(dep);
    order.push(name);
  };
  for (const name of services.keys()) visit(name);
  return order;
}
