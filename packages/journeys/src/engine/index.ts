export { type AnswerOutcome, answerIfUnchanged, answerTaker, handleAnswer } from "./answer.ts";
export { ALREADY_IN_FLOW, type Dispatcher, type Effects, type EngineContext, emptyEffects } from "./context.ts";
export { type ResumeOutcome, resumeAfterDelay } from "./resume.ts";
export { runFrom } from "./run.ts";
export { createOrApplyReentryPolicy, type StartOutcome, startJourneyForUser } from "./start.ts";
