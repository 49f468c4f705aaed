export type { ApiResult, FakeBotInfo } from "./bot-api.ts";
export { startFakeTelegram } from "./server.ts";
export type {
  Delivery,
  FailureSpec,
  FakeTelegram,
  FakeTelegramStats,
  RecordedCall,
  SentFilter,
  SentMessage,
  StartOptions,
  UserSaysOptions,
} from "./types.ts";
export type { BotRef, Update, UpdateBase } from "./updates.ts";
export * as updates from "./updates.ts";
