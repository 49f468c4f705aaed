/** Scenario 6, tenancy: another tenant's ids on every route, its bot, and each webhook's own secret. */
import { randomBytes, randomUUID } from "node:crypto";
import { updates } from "@journeys/fake-telegram";
import fc from "fast-check";
import { adminOf } from "../../lib/client.ts";
import { asTenant, type Env, hit, leaks, nextUser, property } from "./env.ts";

export async function tenancy(env: Env): Promise<void> {
  const { a, b, checks, tag } = env;
  const { stack } = env.ctx;
  // -- Another tenant's ids on every route: exactly like unknown ids, and never B's data.
  const unknown = { journeyId: randomUUID(), botId: `nobot_${tag}` };
  const crossRoutes: ((j: string, bot: string) => [string, string, unknown?])[] = [
    (j) => ["GET", `/api/journeys/${j}`],
    (j) => ["PUT", `/api/journeys/${j}`, { name: "taken over" }],
    (j) => ["POST", `/api/journeys/${j}/triggers`, { trigger_type: "manual", trigger_config: {} }],
    (j) => ["GET", `/api/journeys/${j}/steps`],
    (j) => ["PUT", `/api/journeys/${j}/steps`, { steps: [{ step_type: "message", config: { text: "x" } }] }],
    (_j, bot) => ["POST", "/api/journeys", { bot_id: bot, name: "on another tenant's bot" }],
    (_j, bot) => ["PUT", `/api/journeys/${a.journeyId}`, { bot_id: bot }],
  ];
  await property(
    env,
    "another tenant's ids on every route",
    fc.tuple(fc.nat(crossRoutes.length - 1), fc.constantFrom("admin", "member")),
    40,
    async ([i, role]) => {
      const who = adminOf(stack, a.admin.tenantId, role as "admin" | "member");
      const [m1, p1, body1] = crossRoutes[i]!(b.journeyId, b.bot.botId);
      const [m2, p2, body2] = crossRoutes[i]!(unknown.journeyId, unknown.botId);
      const theirs = await asTenant(env, who, m1, p1, body1);
      const nobodys = await asTenant(env, who, m2, p2, body2);
      const sameAsUnknown = theirs.status === nobodys.status && theirs.status >= 400 && theirs.status < 500;
      return sameAsUnknown && !leaks(env, theirs, `${p1} ${JSON.stringify(body1)}`) && !leaks(env, nobodys);
    },
  );
  for (const path of ["/api/bots", "/api/journeys", "/api/journeys/debug/sessions?limit=500"]) {
    const res = await asTenant(env, a.admin, "GET", path);
    checks.ok(res.status === 200 && !leaks(env, res), `GET ${path} as tenant A: 200 without tenant B's data`);
  }
  const stolen = await asTenant(env, a.admin, "POST", "/api/bots", {
    token: `${b.bot.telegramBotId}:${"x".repeat(30)}`,
  });
  // Telegram itself tells whoever holds the token the bot's id and username: those are no leak.
  const ownIdentity = `${b.bot.telegramBotId} ${b.bot.botId} ${b.bot.username}`;
  checks.ok(
    stolen.status === 409 && !leaks(env, stolen, ownIdentity),
    "connecting tenant B's Telegram bot as tenant A is refused",
  );

  // -- Webhook routing: a bot's route accepts only its own secret.
  const secretCases = fc.tuple(
    fc.constantFrom("a", "b", "unknown"),
    fc.constantFrom("a", "b", "random", "missing", "empty"),
  );
  await property(env, "webhook bot/secret pairs", secretCases, 30, async ([botWho, secretWho]) => {
    const bot =
      botWho === "a" ? a.bot : botWho === "b" ? b.bot : { ...a.bot, path: `/telegram/webhook/${unknown.botId}` };
    const secret =
      secretWho === "a"
        ? a.bot.secret
        : secretWho === "b"
          ? b.bot.secret
          : secretWho === "random"
            ? randomBytes(16).toString("hex")
            : "";
    const headers: Record<string, string> = { "x-telegram-bot-api-secret-token": secret };
    const res = await hit(env, "webhook routing", `${stack.apiUrl}${bot.path}`, {
      method: "POST",
      headers:
        secretWho === "missing"
          ? { "content-type": "application/json" }
          : { "content-type": "application/json", ...headers },
      body: JSON.stringify(updates.textMessage("hello", { userId: nextUser() })),
    });
    const expected = botWho === "unknown" ? 404 : botWho === secretWho ? 200 : 401;
    return res.status === expected && !leaks(env, res);
  });
}
