/**
 * Runs the fake Telegram Bot API until SIGINT/SIGTERM (`npm run fake-telegram -- --port 8081`).
 * Point the product's TELEGRAM_API_ROOT at the printed URL; drive it via /_fake/ (see control.ts).
 */
import { parseArgs } from "node:util";
import { startFakeTelegram } from "./server.ts";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8081" },
    host: { type: "string", default: "127.0.0.1" },
    "rate-limit": { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});

if (values.help) {
  console.log("usage: fake-telegram [--port 8081] [--host 127.0.0.1] [--rate-limit <sends per second per bot>]");
  process.exit(0);
}

const port = Number(values.port);
const rateLimit = values["rate-limit"] === undefined ? null : Number(values["rate-limit"]);
if (!Number.isInteger(port) || port < 0 || (rateLimit !== null && !(rateLimit >= 0))) {
  console.error("fake-telegram: --port and --rate-limit must be non-negative numbers");
  process.exit(2);
}

const fake = await startFakeTelegram({ port, host: values.host, rateLimitPerSecond: rateLimit });
console.log(`fake-telegram listening: TELEGRAM_API_ROOT=${fake.apiRoot}`);
console.log(
  `  control API: ${fake.apiRoot}/_fake/{sent,events,calls,stats,webhooks,reset,rate-limit,block,fail-next,user-says,user-acts,deliver}`,
);
if (rateLimit !== null) console.log(`  rate limit: ${rateLimit} sendMessage/s per bot`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    console.log(`fake-telegram: ${signal}, shutting down`);
    void fake.close().then(() => process.exit(0));
  });
}
