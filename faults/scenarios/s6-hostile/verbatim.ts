/** Scenario 6, admin API: names, descriptions, step texts and trigger params stored and read back verbatim. */
import fc from "fast-check";
import type { HttpResult } from "../../../scripts/lib/harness/http.ts";
import { asTenant, below500, type Env, property } from "./env.ts";
import { anyText, metaString, START_PARAM_RE, unstorable, wellFormed } from "./generators.ts";

/** A 400 for an otherwise valid value only when Postgres cannot store it (NUL, a lone surrogate). */
function reject(res: HttpResult, ...values: (string | null)[]): boolean {
  return res.status === 400 && values.some((v) => v !== null && unstorable(v));
}

/**
 * Step texts are LiquidJS templates (issue 17): a text with `{{` or `{%` that does not parse, or that
 * names a variable no question sets, is refused with 400 naming config.text — not stored half-read.
 */
function templateRefused(res: HttpResult, text: string): boolean {
  return res.status === 400 && /config\.text/.test(res.body) && /\{\{|\{%/.test(text);
}

export async function verbatim(env: Env): Promise<void> {
  const { c, d } = env;
  // -- Names, descriptions, step texts with metacharacters: stored and read back verbatim.
  await property(
    env,
    "journey names/descriptions verbatim",
    fc.tuple(fc.oneof(metaString, anyText), fc.option(fc.oneof(metaString, anyText), { nil: null })),
    70,
    async ([name, description]) => {
      const res = await asTenant(env, c.admin, "POST", "/api/journeys", { bot_id: c.bot.botId, name, description });
      if (!below500(res)) return false;
      const validName = name.length >= 1 && name.length <= 200 && (description?.length ?? 0) <= 5000;
      if (res.status !== 201) return !validName || res.status === 429 ? true : reject(res, name, description);
      const created = JSON.parse(res.body) as { id: string };
      const back = await asTenant(env, c.admin, "GET", `/api/journeys/${created.id}`);
      if (back.status === 429) return true;
      const got = JSON.parse(back.body) as { name: string; description: string | null };
      const verbatim = got.name === wellFormed(name) && got.description === (description && wellFormed(description));
      if (!verbatim) env.stats.notVerbatim++;
      return verbatim;
    },
  );
  await property(
    env,
    "step texts and trigger params",
    fc.tuple(fc.oneof(metaString, anyText), anyText),
    60,
    async ([text, param]) => {
      const put = await asTenant(env, d.admin, "PUT", `/api/journeys/${d.journeyId}/steps`, {
        steps: [{ step_type: "message", config: { text } }],
      });
      const trig = await asTenant(env, d.admin, "POST", `/api/journeys/${d.journeyId}/triggers`, {
        trigger_type: "telegram_deeplink",
        trigger_config: { start_param: param },
      });
      if (!below500(put) || !below500(trig)) return false;
      if (put.status === 429 || trig.status === 429) return true;
      const paramOk = START_PARAM_RE.test(param) ? trig.status === 200 : trig.status === 400;
      if (put.status !== 200) {
        return paramOk && (text.trim() === "" || text.length > 4096 || reject(put, text) || templateRefused(put, text));
      }
      const back = await asTenant(env, d.admin, "GET", `/api/journeys/${d.journeyId}/steps`);
      if (back.status === 429) return paramOk;
      const got = JSON.parse(back.body) as { steps: { config: { text?: string } }[] };
      const verbatim = got.steps.length === 1 && got.steps[0]!.config.text === wellFormed(text);
      if (!verbatim) env.stats.notVerbatim++;
      return paramOk && verbatim;
    },
  );
}
