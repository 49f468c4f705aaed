export {
  ALREADY_IN_FLOW,
  CANCEL_REASONS,
  EARLY_TOLERANCE_MS,
  isLive,
  pickDelayMs,
  questionWaitedOn,
  stepsInvalidated,
  textTaker,
  transition,
} from "./transition.ts";
export type * from "./types.ts";
