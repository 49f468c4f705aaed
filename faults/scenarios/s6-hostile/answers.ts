/** Scenario 6, conversations: any text as an answer, any text as a deep-link param. */
import { updates } from "@journeys/fake-telegram";
import fc from "fast-check";
import { validateText } from "../../../packages/journeys/src/validation/text.ts";
import { below500, type Env, nextUser, property, webhook } from "./env.ts";
import { anyText, START_PARAM_RE } from "./generators.ts";

export async function answers(env: Env): Promise<void> {
  const { a } = env;
  const { stack } = env.ctx;
  // -- Answers: arbitrary text to a waiting question, read back from Postgres verbatim.
  const sessionOf = async (userId: number) =>
    (
      await stack.db.query<{ answers: Record<string, unknown>; step: string | null }>(
        `SELECT s.answers, st.config->>'answer_key' AS step FROM journey_user_sessions s
           LEFT JOIN journey_steps st ON st.id = s.current_step_id
          WHERE s.tenant_id = $1 AND s.telegram_user_id = $2`,
        [a.admin.tenantId, userId],
      )
    ).rows;
  await property(env, "answers of 0–10,000 chars, any Unicode", anyText, 80, async (text) => {
    const user = nextUser();
    const started = await webhook(env, a.bot, JSON.stringify(updates.startCommand("s6", { userId: user })));
    const answered = await webhook(env, a.bot, JSON.stringify(updates.textMessage(text, { userId: user })));
    if (started.status !== 200 || !below500(answered)) return false;
    if (answered.status !== 200) return false;
    if (text.trim().startsWith("/")) return true; // a command, not an answer
    const [s] = await sessionOf(user);
    const expected = validateText(text);
    if (expected.ok) {
      const verbatim = s?.answers?.free === expected.value && s?.step === "n";
      if (!verbatim) env.stats.notVerbatim++;
      return verbatim;
    }
    return s !== undefined && s.answers?.free === undefined && s.step === "free";
  });

  // -- Deep-link params outside the allowed set (and other bots' params): no session, never an error.
  const badParam = fc.oneof(
    anyText.filter((p) => !START_PARAM_RE.test(p.trim()) && p.trim() !== ""),
    fc.constantFrom("s6b", "S6", "s6 ", "s6\u0000", "x".repeat(65), "s6;DROP", "../s6", "s6%00", "s6?x=1"),
  );
  await property(env, "deep-link params outside [A-Za-z0-9_-]{1,64}", badParam, 80, async (param) => {
    const user = nextUser();
    const viaMention = user % 2 === 0;
    // `/start@<bot> <param>` or `/start <param>`
    const update = updates.startCommand(param, {
      userId: user,
      ...(viaMention ? { botUsername: a.bot.username } : {}),
    });
    const res = await webhook(env, a.bot, JSON.stringify(update));
    const sessions = await sessionOf(user);
    // "s6 " and "s6\u0000"-style params trim or differ; only the exact valid param of A's journey may start it.
    const startsA = param.trim() === "s6";
    return res.status === 200 && (startsA || sessions.length === 0);
  });
}
