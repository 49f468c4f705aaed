import type { Happening, TransitionResult } from "./engine/types.ts";
import type { Logger } from "./logger.ts";
import type { Effects } from "./queue/effects.ts";

/**
 * The log lines of an applied transition, one per thing that happened, each bound to the journey
 * and the session (SPEC §9). Written after the write is applied, so a line never tells of a
 * transition that did not take effect.
 */
export function logTransition(
  log: Logger,
  result: TransitionResult,
  applied: { journeyId: string; sessionIds: string[]; effects: Effects },
) {
  const sessionId = applied.sessionIds.at(-1);
  const l = log.child({ journey_id: applied.journeyId, ...(sessionId ? { session_id: sessionId } : {}) });
  let delays = 0;
  for (const h of result.happened) {
    if (h.kind === "delay_scheduled") {
      const row = applied.effects.scheduled[delays++];
      l.info(
        {
          step_id: h.stepId,
          scheduled_message_id: row?.id,
          scheduled_for: h.scheduledFor.toISOString(),
          delay_ms: h.delayMs,
        },
        "delay scheduled",
      );
      continue;
    }
    const [level, fields, message] = line(h);
    l[level](fields, message);
  }
}

type Line = ["debug" | "info" | "warn", Record<string, unknown>, string];

function line(h: Exclude<Happening, { kind: "delay_scheduled" }>): Line {
  switch (h.kind) {
    case "session_started":
      return ["info", { restarted_session_id: h.replacedSessionId }, "journey started"];
    case "reentry_blocked":
      return ["info", { policy: h.policy, session_id: h.sessionId }, "re-entry blocked: user already in this flow"];
    case "reentry_allow_unsupported":
      return ["info", { session_id: h.sessionId }, "re-entry policy allow is not supported yet; behaving as block"];
    case "session_cancelled":
      return ["info", { session_id: h.sessionId, reason: h.reason }, `session cancelled: ${h.reason}`];
    case "message_queued":
      return ["debug", { step_id: h.stepId, step_order: h.stepOrder }, "message step queued"];
    case "question_asked":
      return ["info", { step_id: h.stepId, step_order: h.stepOrder, answer_key: h.answerKey }, "question asked"];
    case "answer_stored":
      return ["info", { step_id: h.stepId, answer_key: h.answerKey }, "answer stored"];
    case "answer_invalid":
      return [
        "info",
        { step_id: h.stepId, answer_key: h.answerKey, validation: h.validation },
        "answer invalid: re-prompted",
      ];
    case "delay_fired":
      return [
        "info",
        { scheduled_message_id: h.scheduledMessageId, late_ms: h.lateMs },
        "delay fired: session resumed",
      ];
    case "delay_not_waited_on":
      return [
        "warn",
        { scheduled_message_id: h.scheduledMessageId, session_status: h.sessionStatus },
        "delay fired for a session no longer waiting on it",
      ];
    case "conditional_skipped":
      return ["info", { step_id: h.stepId, step_order: h.stepOrder }, "conditional step skipped (not supported in v1)"];
    case "reasked":
      return ["info", { step_id: h.stepId, reason: h.reason }, `not an answer (${h.reason}): question asked again`];
    case "branch_taken":
      return ["info", { step_id: h.stepId, branch: h.branch, goto: h.goto }, "conditional: branch taken"];
    case "run_stopped":
      return [
        "warn",
        { step_id: h.stepId, reason: h.reason },
        `run stopped: ${h.reason}; the session stays on this step`,
      ];
    case "render_failed":
      return ["warn", { step_id: h.stepId, error: h.error }, "step text failed to render: nothing sent for it"];
    case "message_empty":
      return ["info", { step_id: h.stepId }, "message step rendered empty (its variables unset): nothing sent"];
    case "text_cut":
      return ["warn", { step_id: h.stepId }, "rendered text over 4096 characters: cut with an ellipsis"];
    case "waiting_acknowledged":
      return ["info", {}, "reply during a delay: waiting text sent (once per delay)"];
    case "button_stale":
      return ["info", { step_id: h.stepId }, "stale button pressed: nothing changed"];
    case "session_completed":
      return ["info", {}, "journey completed"];
  }
}
