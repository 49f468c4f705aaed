import type { Session as SessionRow } from "@journeys/core";
import { Type } from "typebox";
import { iso, JsonObject, Nullable, Timestamp } from "./common.ts";

export const DEFAULT_LIMIT = 50;
export const DebugSessionsQuery = Type.Object(
  { limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: DEFAULT_LIMIT })) },
  { additionalProperties: false },
);

export const DebugSession = Type.Object({
  id: Type.String(),
  tenant_id: Type.String(),
  journey_id: Type.String(),
  journey_name: Type.String(),
  telegram_chat_id: Type.Integer(),
  telegram_user_id: Type.Integer(),
  current_step_id: Nullable(Type.String()),
  current_step_order: Nullable(Type.Integer()),
  current_step_type: Nullable(Type.String()),
  status: Type.String(),
  answers: JsonObject("answers[answer_key] = normalised value"),
  started_at: Nullable(Timestamp),
  completed_at: Nullable(Timestamp),
  last_activity_at: Nullable(Timestamp),
});
export const DebugSessionList = Type.Object({ sessions: Type.Array(DebugSession) });

export function debugSessionOut(row: {
  session: SessionRow;
  journeyName: string;
  stepOrder: number | null;
  stepType: string | null;
}) {
  const s = row.session;
  return {
    id: s.id,
    tenant_id: s.tenantId,
    journey_id: s.journeyId,
    journey_name: row.journeyName,
    telegram_chat_id: s.telegramChatId,
    telegram_user_id: s.telegramUserId,
    current_step_id: s.currentStepId,
    current_step_order: row.stepOrder,
    current_step_type: row.stepType,
    status: s.status,
    answers: s.answers ?? {},
    started_at: iso(s.startedAt),
    completed_at: iso(s.completedAt),
    last_activity_at: iso(s.lastActivityAt),
  };
}
