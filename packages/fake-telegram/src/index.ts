export type { ApiResult, FakeBotInfo } from "./bot-api.ts";
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
} from "./server.ts";
export { startFakeTelegram } from "./server.ts";
export type { BotRef, Update, UpdateBase } from "./updates.ts";
export * as updates from "./updates.ts";
