-- Webhook secrets are kept as their SHA-256 (hex) from now on: the plain secret lives only in
-- Telegram's setWebhook registration. Existing rows are hashed in place; the route compares
-- sha256(X-Telegram-Bot-Api-Secret-Token) with this column in constant time.
UPDATE "tenant_bots" SET "webhook_secret" = encode(sha256(convert_to("webhook_secret", 'UTF8')), 'hex');
