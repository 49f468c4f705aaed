export type { ApiResult, FakeBotInfo } from "./bot-api.ts";
export { startFakeTelegram } from "./server.ts";
export type * from "./types.ts";
export type { BotRef, Update, UpdateBase } from "./updates.ts";
export * as updates from "./updates.ts";
