/**
 * The bots the phases run against, connected through the product's own admin API with the
 * harness's admin client (getMe + setWebhook on the fake), each with its tenant's admin to create
 * journeys on it.
 */
import { AdminClient, type Bot } from "../../scripts/lib/harness/admin-client.ts";
import type { Stack } from "../../scripts/lib/harness/stack.ts";
import { inParallel } from "../../scripts/lib/parallel.ts";

export type BenchBot = Bot & { admin: AdminClient };

/** `count` bots over `tenants` tenants (round-robin), each connected through POST /api/bots. */
export async function connectBots(stack: Stack, count: number, tenants: number): Promise<BenchBot[]> {
  const admins = Array.from(
    { length: tenants },
    (_, t) => new AdminClient(stack, `bench-tenant-${t + 1}`, { sub: "bench" }),
  );
  const bots: BenchBot[] = new Array(count);
  await inParallel([...bots.keys()], 5, async (i) => {
    const admin = admins[i % tenants]!;
    bots[i] = { ...(await admin.connectBot()), admin };
  });
  return bots;
}
