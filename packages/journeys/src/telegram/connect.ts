import type { Database } from "../db/client.ts";
import { DomainError, invalid } from "../errors.ts";
import type { Logger } from "../logger.ts";
import { scrubToken } from "../logger.ts";
import type { BotTextsInput } from "../repo/bots.ts";
import { type BotSummary, TenantRepository } from "../repo/index.ts";
import { isBotId } from "../repo/scope.ts";
import { createApi, GrammyError, webhookPath } from "./api.ts";

export interface ConnectDeps {
  db: Database;
  encryptionKey: Buffer;
  telegramApiRoot: string;
  publicBaseUrl: string;
  log: Logger;
}

const TOKEN_RE = /^\d{1,20}:[A-Za-z0-9_-]{10,100}$/;

/** The updates the webhook asks Telegram for (setWebhook's allowed_updates). */
export const ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"] as const;

type BotApi = ReturnType<typeof createApi>;
const apiFor = (deps: ConnectDeps, token: string): BotApi =>
  createApi(token, deps.telegramApiRoot, { retry: { maxRetryAttempts: 2, maxDelaySeconds: 5 } });

/** setWebhook with the bot's URL, `secret` and ALLOWED_UPDATES; TELEGRAM_REJECTED when refused. */
async function registerWebhook(api: BotApi, webhookUrl: string, secret: string): Promise<void> {
  try {
    await api.setWebhook(webhookUrl, {
      secret_token: secret,
      allowed_updates: [...ALLOWED_UPDATES],
      drop_pending_updates: false,
    });
  } catch (err) {
    throw new DomainError("TELEGRAM_REJECTED", `setWebhook failed: ${telegramReason(err)}`);
  }
}

/** Telegram's answer, without anything that could echo the token back. */
function telegramReason(err: unknown): string {
  if (err instanceof GrammyError) return `Telegram answered ${err.error_code}: ${err.description}`;
  return `Telegram could not be reached: ${scrubToken((err as Error).message)}`;
}

/**
 * Connect a tenant's bot: getMe (the token works), store it encrypted with a fresh webhook secret
 * (its hash only), and setWebhook with that secret. Storing and setWebhook share a transaction, so
 * a bot whose webhook Telegram refused is not left half-connected. Connecting again registers a
 * new secret: the old one was never stored, so it cannot be sent again.
 */
export async function connectBot(
  deps: ConnectDeps,
  tenantId: string,
  input: { token: string; botId?: string; texts?: BotTextsInput },
): Promise<{ bot: BotSummary; webhookUrl: string }> {
  const token = input.token.trim();
  if (!TOKEN_RE.test(token)) throw invalid("token does not look like a Telegram bot token (<digits>:<secret>)");
  if (input.botId !== undefined && !isBotId(input.botId)) throw invalid("bot_id must match [A-Za-z0-9_-]{1,64}");
  const api = apiFor(deps, token);
  let me: Awaited<ReturnType<typeof api.getMe>>;
  try {
    me = await api.getMe();
  } catch (err) {
    throw new DomainError("TELEGRAM_REJECTED", `getMe failed: ${telegramReason(err)}`);
  }
  // The default is the Telegram bot's own numeric id, and an all-digit bot_id is reserved for it:
  // a public username (the old default) could be claimed by another tenant before the owner came.
  if (input.botId !== undefined && /^\d+$/.test(input.botId) && input.botId !== String(me.id)) {
    throw invalid(`a bot_id of digits only is reserved for the bot's own Telegram id (${me.id})`);
  }
  const botId = input.botId ?? String(me.id);
  const webhookUrl = `${deps.publicBaseUrl}${webhookPath(botId)}`;
  const log = deps.log.child({ tenant_id: tenantId, bot_id: botId });
  const repo = new TenantRepository(deps.db, tenantId, deps.encryptionKey);
  const bot = await repo.transaction(async (r) => {
    const saved = await r.bots.save({
      botId,
      telegramBotId: me.id,
      username: me.username,
      firstName: me.first_name,
      token,
      ...(input.texts ? { texts: input.texts } : {}),
    });
    await registerWebhook(api, webhookUrl, saved.webhookSecret);
    const { token: _t, webhookSecret: _s, ...summary } = saved;
    return summary;
  });
  log.info({ username: me.username, webhook_url: webhookUrl }, "bot connected and webhook set");
  return { bot, webhookUrl };
}

/**
 * Rotate a bot's webhook secret: a new one, registered with setWebhook (same URL and updates),
 * and its hash stored, in one transaction holding the bot's row. When Telegram refuses, nothing
 * changes: the old secret stays registered and stored.
 */
export async function rotateWebhookSecret(deps: ConnectDeps, tenantId: string, botId: string): Promise<BotSummary> {
  const repo = new TenantRepository(deps.db, tenantId, deps.encryptionKey);
  const bot = await repo.transaction(async (r) => {
    const { token } = await r.bots.credentials(botId);
    const { bot, webhookSecret } = await r.bots.newWebhookSecret(botId);
    await registerWebhook(apiFor(deps, token), `${deps.publicBaseUrl}${webhookPath(botId)}`, webhookSecret);
    return bot;
  });
  deps.log.child({ tenant_id: tenantId, bot_id: botId }).info("webhook secret rotated");
  return bot;
}

/**
 * Disconnect a tenant's bot: deleteWebhook (Telegram stops delivering) and remove the row, in one
 * transaction, so a bot Telegram still delivers to is not left without its row. A token Telegram no
 * longer accepts (401: revoked) cannot delete the webhook, but Telegram delivers nothing for it
 * either: the bot is removed all the same.
 */
export async function disconnectBot(deps: ConnectDeps, tenantId: string, botId: string): Promise<void> {
  const repo = new TenantRepository(deps.db, tenantId, deps.encryptionKey);
  await repo.transaction(async (r) => {
    const { token } = await r.bots.credentials(botId);
    await r.bots.remove(botId);
    const api = apiFor(deps, token);
    try {
      await api.deleteWebhook({ drop_pending_updates: false });
    } catch (err) {
      if (!(err instanceof GrammyError && err.error_code === 401)) {
        throw new DomainError("TELEGRAM_REJECTED", `deleteWebhook failed: ${telegramReason(err)}`);
      }
    }
  });
  deps.log.child({ tenant_id: tenantId, bot_id: botId }).info("bot disconnected and webhook deleted");
}
