/**
 * Pure fixtures for the engine's tests: journeys and sessions as plain data (no database), and a
 * clock whose time and randomness the test sets.
 */
import type { ReEntryPolicy } from "../../src/db/schema.ts";
import type { Clock, JourneyDef, SessionState, StepDef } from "../../src/engine/types.ts";

export const T0 = new Date("2026-12-04T12:00:00.000Z");

export const clockAt = (now: Date = T0, random = 0.5): Clock => ({ now, random: () => random });

type Spec =
  | { message: string }
  | {
      question: string;
      key: string;
      validation?: string;
      error_text?: string;
      options?: { label: string; value: string }[];
      default_region?: string;
    }
  | { delay: [number, number] }
  | { conditional: true };

/** A journey from short step specs; step ids are s1, s2, … in order. `removed` lists step numbers. */
export function journey(
  specs: Spec[],
  opts: { policy?: ReEntryPolicy; removed?: number[]; id?: string } = {},
): JourneyDef {
  const steps: StepDef[] = specs.map((spec, i) => {
    const base = { id: `s${i + 1}`, stepOrder: i + 1, removed: opts.removed?.includes(i + 1) ?? false };
    if ("message" in spec) return { ...base, stepType: "message", config: { text: spec.message } };
    if ("question" in spec) {
      const config: Record<string, unknown> = {
        text: spec.question,
        answer_key: spec.key,
        validation: spec.validation ?? "text",
      };
      if (spec.error_text) config.error_text = spec.error_text;
      if (spec.options) config.options = spec.options;
      if (spec.default_region) config.default_region = spec.default_region;
      return { ...base, stepType: "question", config };
    }
    if ("delay" in spec) {
      return { ...base, stepType: "delay", config: { min_minutes: spec.delay[0], max_minutes: spec.delay[1] } };
    }
    return { ...base, stepType: "conditional", config: {} };
  });
  return { id: opts.id ?? "j1", reEntryPolicy: opts.policy ?? "block", steps };
}

/** A session of journey j1 for user 42 (chat 42), live on `currentStepId`. */
export function session(fields: Partial<SessionState> = {}): SessionState {
  return {
    id: "sess-1",
    journeyId: "j1",
    telegramUserId: 42,
    telegramChatId: 42,
    status: "active",
    currentStepId: null,
    answers: {},
    startedAt: new Date(T0.getTime() - 3_600_000),
    completedAt: null,
    lastActivityAt: new Date(T0.getTime() - 60_000),
    stepEnteredAt: new Date(T0.getTime() - 60_000),
    context: {},
    ...fields,
  };
}

export const USER = { id: 42, chatId: 42 };
