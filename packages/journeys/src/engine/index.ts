export * from "./bot-texts.ts";
export * from "./conversation.ts";
export * from "./transition.ts";
export type * from "./types.ts";
