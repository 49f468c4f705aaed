/** Scenario 6, admin API: malformed JSON, wrong types, unknown fields, oversized bodies. */
import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { adminOf } from "../../lib/client.ts";
import { asTenant, below500, type Env, property } from "./env.ts";
import { anyText, MIB, malformedBody } from "./generators.ts";

export async function adminBodies(env: Env): Promise<void> {
  const { checks, tag } = env;
  const { stack } = env.ctx;
  let fuzzTenant = 0;
  let fuzzToken = adminOf(stack, `faults-s6-fuzz-${tag}-0`);
  let fuzzUses = 0;
  const fuzzAdmin = () => {
    if (++fuzzUses > 100) {
      fuzzUses = 0;
      fuzzToken = adminOf(stack, `faults-s6-fuzz-${tag}-${++fuzzTenant}`);
    }
    return fuzzToken;
  };
  const writeRoutes = [
    ["POST", "/api/bots"],
    ["POST", "/api/journeys"],
    ["PUT", `/api/journeys/${randomUUID()}`],
    ["POST", `/api/journeys/${randomUUID()}/triggers`],
    ["PUT", `/api/journeys/${randomUUID()}/steps`],
  ] as const;
  const adminBody = fc.oneof(
    malformedBody,
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc
      .record(
        {
          bot_id: fc.oneof(fc.string(), fc.integer()),
          name: anyText,
          status: fc.string(),
          re_entry_policy: fc.string(),
          steps: fc.array(fc.record({ step_type: fc.string(), config: fc.jsonValue() }), { maxLength: 3 }),
          trigger_type: fc.string(),
          trigger_config: fc.jsonValue(),
          token: fc.string(),
          extra: fc.jsonValue(),
        },
        { requiredKeys: [] },
      )
      .map((o) => JSON.stringify(o)),
  );
  await property(
    env,
    "admin API bodies",
    fc.tuple(fc.constantFrom(...writeRoutes), adminBody),
    120,
    async ([[method, path], body]) => {
      const res = await asTenant(env, fuzzAdmin(), method, path, body);
      return below500(res) && res.status !== 200 && res.status !== 201;
    },
  );
  const bigAdmin = await asTenant(env, fuzzAdmin(), "POST", "/api/journeys", {
    bot_id: "x",
    name: "x",
    description: "x".repeat(MIB + 10),
  });
  checks.eq(bigAdmin.status, 413, "admin body over 1 MiB");
}
