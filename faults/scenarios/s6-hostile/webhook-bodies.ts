/** Scenario 6, webhook: malformed and oversized bodies, every real update type, plain and mangled. */
import { updates } from "@journeys/fake-telegram";
import fc from "fast-check";
import { below500, type Env, property, webhook } from "./env.ts";
import { anyText, contentType, MIB, malformedBody } from "./generators.ts";

export async function webhookBodies(env: Env): Promise<void> {
  const { a, checks } = env;
  // -- Webhook: malformed bodies, wrong content types.
  await property(env, "malformed webhook bodies", fc.tuple(malformedBody, contentType), 150, async ([body, type]) => {
    const res = await webhook(env, a.bot, body, type ? { "content-type": type } : {});
    return below500(res);
  });
  const huge = await webhook(env, a.bot, JSON.stringify({ update_id: 7_000_002, pad: "x".repeat(MIB + 10) }));
  checks.eq(huge.status, 413, "webhook body over 1 MiB");

  // -- Webhook: every real update type, plain and mangled.
  const id = fc.oneof(fc.integer({ min: 1, max: 2 ** 31 }), fc.constantFrom(0, -1, 2 ** 53 - 1, -(2 ** 53) + 1));
  const realUpdate = fc.tuple(fc.nat(12), anyText, id, id).map(([kind, text, userId, chatId]) => {
    const base = { userId, chatId: kind % 2 ? chatId : userId };
    const botRef = { id: a.bot.telegramBotId, username: a.bot.username, first_name: "A" };
    switch (kind) {
      case 0:
        return updates.textMessage(text, base);
      case 1:
        return updates.startCommand(text.slice(0, 70), { ...base, botUsername: a.bot.username });
      case 2:
        return updates.groupMessage(text, base);
      case 3:
        return updates.editedMessage(text, base);
      case 4:
        return updates.photoMessage({ ...base, caption: text });
      case 5:
        return updates.sticker({ ...base, emoji: text.slice(0, 4) });
      case 6:
        return updates.callbackQuery(text, { ...base, bot: botRef });
      case 7:
        return updates.myChatMember("kicked", { ...base, bot: botRef });
      case 8:
        return updates.myChatMember("member", { ...base, bot: botRef });
      case 9:
        return updates.channelPost(text, base);
      case 10:
        return updates.inlineQuery(text, base);
      case 11:
        return updates.pollAnswer(base);
      default:
        return updates.unknownFutureType(base);
    }
  });
  const paths = [
    "message",
    "message.text",
    "message.from",
    "message.from.id",
    "message.from.is_bot",
    "message.chat",
    "message.chat.id",
    "message.chat.type",
    "message.entities",
    "my_chat_member.from",
    "my_chat_member.new_chat_member",
    "my_chat_member.chat",
    "callback_query.message",
  ];
  const mangle = fc.tuple(realUpdate, fc.constantFrom(...paths), fc.option(fc.jsonValue(), { nil: undefined }));
  await property(
    env,
    "every update type, plain and mangled",
    fc.tuple(realUpdate, mangle),
    100,
    async ([plain, [u, path, value]]) => {
      const r1 = await webhook(env, a.bot, JSON.stringify(plain));
      const target = structuredClone(u) as Record<string, unknown>;
      const keys = path.split(".");
      let node: Record<string, unknown> | undefined = target;
      for (const k of keys.slice(0, -1)) {
        const next: unknown = node?.[k];
        node = typeof next === "object" && next !== null ? (next as Record<string, unknown>) : undefined;
      }
      if (node) {
        if (value === undefined) delete node[keys.at(-1)!];
        else node[keys.at(-1)!] = value;
      }
      const r2 = await webhook(env, a.bot, JSON.stringify(target));
      return r1.status === 200 && below500(r2);
    },
  );
}
