import type { FastifyPluginAsyncTypebox } from "@fastify/type-provider-typebox";
import { sql } from "drizzle-orm";
import { Type } from "typebox";
import type { ApiDeps } from "../deps.ts";

const Check = Type.Object({
  status: Type.Union([Type.Literal("ok"), Type.Literal("down")]),
  error: Type.Optional(Type.String()),
});
const Ready = Type.Object({ status: Type.String(), checks: Type.Object({ postgres: Check, redis: Check }) });

async function check(fn: () => Promise<unknown>, timeoutMs = 2000) {
  try {
    await Promise.race([
      fn(),
      new Promise((_, rej) => setTimeout(() => rej(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs)),
    ]);
    return { status: "ok" as const };
  } catch (err) {
    return { status: "down" as const, error: (err as Error).message };
  }
}

/** Liveness: the process answers. Readiness: Postgres and Redis answer too (else 503). */
export function healthRoutes(deps: ApiDeps): FastifyPluginAsyncTypebox {
  return async (app) => {
    app.get(
      "/health/live",
      { schema: { tags: ["health"], summary: "Liveness", response: { 200: Type.Object({ status: Type.String() }) } } },
      async () => ({ status: "ok" }),
    );
    app.get(
      "/health/ready",
      {
        schema: {
          tags: ["health"],
          summary: "Readiness: Postgres and Redis reachable",
          response: { 200: Ready, 503: Ready },
        },
      },
      async (_req, reply) => {
        const [postgres, redis] = await Promise.all([
          check(() => deps.db.db.execute(sql`SELECT 1`)),
          check(() => deps.redis.ping()),
        ]);
        const ok = postgres.status === "ok" && redis.status === "ok";
        return reply.status(ok ? 200 : 503).send({ status: ok ? "ok" : "unavailable", checks: { postgres, redis } });
      },
    );
  };
}
