/**
 * Scenario 6's tenants, each with a bot: A takes the hostile input, B is the victim (with a session
 * holding a private answer), C gets journeys with hostile names, D steps and triggers with hostile text.
 */
import { randomBytes } from "node:crypto";
import { updates } from "@journeys/fake-telegram";
import { deliver } from "../../../scripts/lib/harness/webhook.ts";
import { adminOf } from "../../lib/client.ts";
import type { Checks } from "../../lib/report.ts";
import type { Ctx } from "../../lib/scenario.ts";
import type { Env } from "./env.ts";

const steps = [
  { step_type: "question", config: { text: "s6: anything?", answer_key: "free", validation: "text" } },
  { step_type: "question", config: { text: "s6: a number?", answer_key: "n", validation: "number" } },
  { step_type: "message", config: { text: "s6: thanks" } },
];

export async function setUp(ctx: Ctx, checks: Checks): Promise<Env> {
  const { stack } = ctx;
  const tag = randomBytes(3).toString("hex");
  const tenant = async (label: string) => {
    const admin = adminOf(stack, `faults-s6-${label}-${tag}`);
    const bot = await admin.connectBot();
    return { admin, bot };
  };
  const journey = (t: Awaited<ReturnType<typeof tenant>>, startParam: string, name = `faults ${startParam}`) =>
    t.admin.createJourney(t.bot, { startParam, steps, name });
  const a0 = await tenant("a");
  const a = { ...a0, journeyId: await journey(a0, "s6") };
  const b0 = await tenant("b");
  const bName = `B secret journey ${tag}`;
  const bAnswer = `B private answer ${tag}`;
  const b = { ...b0, journeyId: await journey(b0, "s6b", bName), markers: [] as string[], answer: bAnswer };
  const c = await tenant("c");
  const d0 = await tenant("d");
  const d = { admin: d0.admin, journeyId: await journey(d0, "s6d") };
  // B has a session with a private answer: none of it may ever show up in A's responses.
  await deliver(stack.apiUrl, b.bot, updates.startCommand("s6b", { userId: 6_999_001 }));
  await deliver(stack.apiUrl, b.bot, updates.textMessage(bAnswer, { userId: 6_999_001 }));
  b.markers = [b.admin.tenantId, b.bot.botId, b.bot.username, b.journeyId, bName, bAnswer, String(b.bot.telegramBotId)];
  const stats = { requests: 0, serverErrors: 0, noAnswer: 0, leaks: 0, notVerbatim: 0, examples: [] };
  return { ctx, checks, tag, a, b, c, d, stats };
}

/** B's journey, steps, triggers and session answers, to compare before and after the attack. */
export async function victimRows(env: Env): Promise<unknown[]> {
  const { rows } = await env.ctx.stack.db.query(
    `SELECT (SELECT row_to_json(j) FROM journeys j WHERE id = $1) AS journey,
            (SELECT json_agg(s ORDER BY step_order) FROM journey_steps s WHERE journey_id = $1) AS steps,
            (SELECT json_agg(t) FROM journey_triggers t WHERE journey_id = $1) AS triggers,
            (SELECT json_agg(u.answers) FROM journey_user_sessions u WHERE journey_id = $1) AS answers`,
    [env.b.journeyId],
  );
  return rows;
}
