/**
 * The compose network on one machine: each service's host name becomes a loopback address —
 * postgres and redis the machine's own servers, our services a free port per published port —
 * in its environment, command and healthcheck; DATABASE_URL names the scratch database.
 */
import { freePort } from "../procs.ts";
import type { Compose, Service } from "./compose.ts";
import type { ContainerOptions } from "./containers.ts";
import { type BuiltStage, containerEnv } from "./dockerfile.ts";

export interface Loopback {
  /** host:port of the local Postgres and Redis. */
  pgAddr: string;
  redisAddr: string;
  /** The scratch database that stands for the postgres service's POSTGRES_DB. */
  dbName: string;
  echo: boolean;
}

/** Container host names → loopback, per service: its env, command and healthcheck as they run here. */
export class Network {
  private readonly published = new Map<string, Map<number, number>>();
  constructor(
    private readonly compose: Compose,
    private readonly lo: Loopback,
  ) {}

  async allocate() {
    for (const s of this.compose.services.values()) {
      const ports = new Map<number, number>();
      for (const target of s.ports.keys()) ports.set(target, await freePort());
      this.published.set(s.name, ports);
    }
  }

  port(service: string, target: number): number {
    const p = this.published.get(service)?.get(target);
    if (!p) throw new Error(`${service} publishes no port ${target}`);
    return p;
  }

  private text(s: Service, value: string): string {
    const own = this.published.get(s.name)!;
    const mapped = value
      .replace(/(?<=[/@])([a-z][a-z0-9_-]*):(\d+)/g, (m, host: string, port: string) => {
        if (host === "localhost") return own.has(Number(port)) ? `127.0.0.1:${own.get(Number(port))}` : m;
        if (host === "postgres") return this.lo.pgAddr;
        if (host === "redis") return this.lo.redisAddr;
        return this.compose.services.get(host)?.built ? `127.0.0.1:${this.port(host, Number(port))}` : m;
      })
      .replace(/(?<=[/@])127\.0\.0\.1:(\d+)/g, (m, port: string) =>
        own.has(Number(port)) ? `127.0.0.1:${own.get(Number(port))}` : m,
      );
    const left = /(?<=[/@])([a-z][a-z0-9_-]*):\d+/.exec(mapped);
    if (left && this.compose.services.has(left[1]!))
      throw new Error(`${s.name}: no loopback stand-in for ${left[0]} in "${value}"`);
    return mapped;
  }

  service(s: Service, image: BuiltStage): { argv: string[]; opts: ContainerOptions; health: string[] | null } {
    const own = this.published.get(s.name)!;
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(s.environment)) env[k] = this.text(s, v);
    if (env.PORT && own.has(Number(env.PORT))) env.PORT = String(own.get(Number(env.PORT)));
    if (env.HOST === "0.0.0.0") env.HOST = "127.0.0.1";
    if (env.DATABASE_URL) {
      const u = new URL(env.DATABASE_URL);
      const pgDb = this.compose.services.get("postgres")?.environment.POSTGRES_DB;
      if (u.pathname !== `/${pgDb}`) throw new Error(`${s.name}: DATABASE_URL names ${u.pathname}, not ${pgDb}`);
      u.pathname = `/${this.lo.dbName}`;
      env.DATABASE_URL = u.toString();
    }
    const argv = (s.command.length ? s.command : image.cmd).map((a) => this.text(s, a));
    argv.forEach((a, i) => {
      if (argv[i - 1] === "--port" && own.has(Number(a))) argv[i] = String(own.get(Number(a)));
      if (argv[i - 1] === "--host" && a === "0.0.0.0") argv[i] = "127.0.0.1";
    });
    const health = s.healthcheck?.map((a) => this.text(s, a)) ?? null;
    const opts = {
      cwd: `${image.root}${image.workdir}`,
      env: { PATH: containerEnv().PATH, ...image.env, ...env },
      user: image.user,
      echo: this.lo.echo,
    };
    return { argv, opts, health };
  }
}
