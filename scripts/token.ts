/**
 * Prints a signed admin-API token for local use:
 *   npm run token -- --tenant <id> --role <admin|member> [--ttl 1h] [--sub <who>]
 * Signs with JWT_SECRET (the dev default with NODE_ENV=development) through @fastify/jwt with the
 * API's own options, so what this prints is exactly what the API verifies.
 */
import { parseArgs } from "node:util";
import fastifyJwt from "@fastify/jwt";
import Fastify from "fastify";
import { jwtOptions, ROLES, type Role } from "../apps/api/src/plugins/jwt.ts";
import { loadConfigOrExit } from "../packages/journeys/src/config.ts";

const USAGE = "usage: npm run token -- --tenant <id> --role <admin|member> [--ttl 1h] [--sub <who>]";
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

function fail(problem: string): never {
  process.stderr.write(`${problem}\n${USAGE}\n`);
  process.exit(2);
}

/** "90s", "30m", "1h", "7d" → seconds; at most a year, so a forgotten token still dies. */
function ttlSeconds(ttl: string): number {
  const m = /^(\d+)([smhd])$/.exec(ttl.trim());
  const seconds = m ? Number(m[1]) * UNIT_SECONDS[m[2]!]! : Number.NaN;
  if (!(seconds > 0 && seconds <= 365 * 86400))
    fail(`--ttl must look like 90s, 30m, 1h or 7d (at most 365d); got "${ttl}"`);
  return seconds;
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        tenant: { type: "string" },
        role: { type: "string" },
        ttl: { type: "string", default: "1h" },
        sub: { type: "string", default: "cli" },
      },
    });
  } catch (err) {
    return fail((err as Error).message);
  }
})();

if (!values.tenant?.trim()) fail("--tenant is required");
if (!(ROLES as readonly string[]).includes(values.role ?? "")) fail(`--role must be one of ${ROLES.join(", ")}`);
if (!values.sub.trim()) fail("--sub must not be empty");

const config = loadConfigOrExit();
const app = Fastify({ logger: false });
await app.register(fastifyJwt, jwtOptions(config.jwtSecret));
await app.ready();
const now = Math.floor(Date.now() / 1000);
const token = app.jwt.sign({
  sub: values.sub.trim(),
  tenant_id: values.tenant.trim(),
  role: values.role as Role,
  iat: now,
  exp: now + ttlSeconds(values.ttl),
});
await app.close();
process.stdout.write(`${token}\n`);
