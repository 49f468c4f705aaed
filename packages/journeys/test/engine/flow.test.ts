/** The flow language inside transition() (issue 17): branches, templates, link buttons, runs that must stop. */
import { describe, expect, it } from "vitest";
import { MAX_STEPS_PER_RUN, transition } from "../../src/engine/transition.ts";
import type { JourneyDef, OutItem, StepDef } from "../../src/engine/types.ts";
import { clockAt, session } from "./journeys.ts";

const said = (items: readonly OutItem[]) => items.map((o) => (o.method === undefined ? o.text : o.method));
let n = 0;
const step = (stepType: StepDef["stepType"], config: Record<string, unknown>, key?: string): StepDef => ({
  id: `s${++n}`,
  stepOrder: n,
  stepType,
  config,
  removed: false,
  key: key ?? null,
});
const def = (steps: StepDef[]): JourneyDef => ({ id: "j1", reEntryPolicy: "block", steps });
const user = { id: 42, chatId: 42, firstName: "Ann" };

function qualification() {
  n = 0;
  return def([
    step("question", { text: "Age?", answer_key: "age", validation: "number" }, "age"),
    step("conditional", { branches: [{ when: { "<": [{ var: "answers.age" }, 18] }, goto: "too_young" }] }),
    step("question", { text: "Deposit?", answer_key: "deposit", validation: "money" }, "deposit"),
    step("conditional", {
      branches: [{ when: { ">=": [{ var: "answers.deposit.amount" }, 250] }, goto: "eligible" }],
      else: "low",
    }),
    step("message", { text: "Below our minimum, sorry." }, "low"),
    step("conditional", { branches: [], else: "end" }),
    step("message", { text: "Sorry, you must be 18." }, "too_young"),
    step("conditional", { branches: [], else: "end" }),
    step(
      "message",
      {
        text: "{{ user.first_name | default: 'there' }}, you're eligible: deposit {{ answers.deposit.amount }} {{ answers.deposit.currency }}",
        buttons: [{ text: "Open account", url: "https://example.com/open" }],
      },
      "eligible",
    ),
  ]);
}

describe("conditional steps", () => {
  it.each([
    ["under 18 ends politely", "16", null, ["Sorry, you must be 18."]],
    ["a low deposit goes to its own message", "30", "100 EUR", ["Below our minimum, sorry."]],
    [
      "an eligible user gets the final message with variables",
      "30",
      "1000 EUR",
      ["Ann, you're eligible: deposit 1000 EUR"],
    ],
  ])("%s", (_name, age, deposit, last) => {
    const j = qualification();
    let r = transition(j, null, { type: "start", param: "p", user }, clockAt());
    let s = r.changes[0]?.session;
    r = transition(j, s ?? null, { type: "text", text: age }, clockAt());
    s = r.changes[0]?.session;
    if (deposit) {
      expect(said(r.changes[0]?.outbox ?? [])).toEqual(["Deposit?"]);
      r = transition(j, s ?? null, { type: "text", text: deposit }, clockAt());
      s = r.changes[0]?.session;
    }
    expect(said(r.changes[0]?.outbox ?? [])).toEqual(last);
    expect(s?.status).toBe("completed");
  });

  it("the final message carries its link button", () => {
    const j = qualification();
    const s = session({ currentStepId: "s3", answers: { age: 30 }, context: { user: { first_name: "Ann" } } });
    const r = transition(j, s, { type: "text", text: "500 USD" }, clockAt());
    expect(r.changes[0]?.outbox.at(-1)).toEqual({
      text: "Ann, you're eligible: deposit 500 USD",
      reply_markup: { inline_keyboard: [[{ text: "Open account", url: "https://example.com/open" }]] },
    });
  });

  it("a rule over an unset answer is false: the next step follows", () => {
    n = 0;
    const j = def([
      step("conditional", { branches: [{ when: { "<": [{ var: "answers.age" }, 18] }, goto: "minor" }] }),
      step("message", { text: "Adult path" }),
      step("message", { text: "Minor path" }, "minor"),
    ]);
    const r = transition(j, null, { type: "start", param: "p", user }, clockAt());
    expect(said(r.changes[0]?.outbox ?? [])).toEqual(["Adult path", "Minor path"]);
  });

  it("a loop with no question or delay stops after MAX_STEPS_PER_RUN steps, where it is, and says why", () => {
    n = 0;
    const j = def([step("conditional", { branches: [{ when: true, goto: "loop" }] }, "loop")]);
    const r = transition(j, null, { type: "start", param: "p", user }, clockAt());
    const c = r.changes[0];
    expect(c?.session).toMatchObject({ status: "active", currentStepId: "s1" });
    expect(c?.session.context.error).toEqual({
      step_id: "s1",
      reason: `more than ${MAX_STEPS_PER_RUN} steps in one run`,
    });
    expect(r.happened.at(-1)).toMatchObject({ kind: "run_stopped", stepId: "s1" });
  });
});

describe("templates", () => {
  it("an unset variable renders empty; a text with no tags is sent as it is", () => {
    n = 0;
    const j = def([step("message", { text: "Hi {{ user.last_name }}!" }), step("message", { text: "Plain {x}" })]);
    const r = transition(j, null, { type: "start", param: "p", user }, clockAt());
    expect(said(r.changes[0]?.outbox ?? [])).toEqual(["Hi !", "Plain {x}"]);
  });

  it("a rendered text over 4096 characters is cut with an ellipsis, and that is logged", () => {
    n = 0;
    const j = def([step("message", { text: "{{ trigger.param }}{{ trigger.param }}" })]);
    const r = transition(j, null, { type: "start", param: "x".repeat(3000), user }, clockAt());
    const text = said(r.changes[0]?.outbox ?? [])[0] ?? "";
    expect(text.length).toBe(4096);
    expect(text.endsWith("…")).toBe(true);
    expect(r.happened.some((h) => h.kind === "text_cut")).toBe(true);
  });

  it("question texts and error texts are templates too", () => {
    n = 0;
    const j = def([
      step("question", {
        text: "{{ user.first_name }}, your age?",
        answer_key: "age",
        validation: "number",
        error_text: "{{ user.first_name }}, digits please",
      }),
    ]);
    const r = transition(j, null, { type: "start", param: "p", user }, clockAt());
    expect(said(r.changes[0]?.outbox ?? [])).toEqual(["Ann, your age?"]);
    const s = r.changes[0]?.session ?? null;
    expect(said(transition(j, s, { type: "text", text: "abc" }, clockAt()).changes[0]?.outbox ?? [])).toEqual([
      "Ann, digits please",
    ]);
  });
});
