/** Write-time checks over a journey's steps (issue 17 item 5) and the conditional's next step. Pure, table-driven. */
import { describe, expect, it } from "vitest";
import type { FlowData } from "../../src/flow/data.ts";
import { checkFlow, type FlowProblem, type FlowStep, nextIndexAfterConditional } from "../../src/flow/graph.ts";

type Spec = Omit<FlowStep, "index">;
const msg = (text: string, extra: Record<string, unknown> = {}, key?: string): Spec => ({
  stepType: "message",
  key,
  config: { text, ...extra },
});
const ask = (answerKey: string, key?: string, extra: Record<string, unknown> = {}): Spec => ({
  stepType: "question",
  key,
  config: { text: `What is your ${answerKey}?`, answer_key: answerKey, validation: "text", ...extra },
});
const wait = (key?: string): Spec => ({ stepType: "delay", key, config: { min_minutes: 1, max_minutes: 2 } });
const cond = (branches: unknown, elseTarget?: unknown, key?: string): Spec => ({
  stepType: "conditional",
  key,
  config: elseTarget === undefined ? { branches } : { branches, else: elseTarget },
});
const lt = (path: string, n: number) => ({ "<": [{ var: path }, n] });
const steps = (...specs: Spec[]): FlowStep[] => specs.map((s, index) => ({ index, ...s }));
const problem = (index: number, field: string, message: RegExp) => ({
  index,
  field,
  message: expect.stringMatching(message),
});

describe("checkFlow accepts", () => {
  it.each<[string, FlowStep[]]>([
    ["no steps", []],
    ["a linear journey without keys", steps(msg("Hi"), ask("age"), wait(), msg("Bye"))],
    [
      "the qualification journey",
      steps(
        ask("age", "age"),
        cond([{ when: lt("answers.age", 18), goto: "too_young" }]),
        ask("country", "country"),
        ask("deposit_amount", "deposit"),
        cond([{ when: lt("answers.deposit_amount.amount", 100), goto: "too_small" }], "eligible"),
        msg("Deposit at least 100.", {}, "too_small"),
        cond([{ when: true, goto: "end" }]),
        msg(
          "{{ user.first_name }}, you're eligible: deposit {{ answers.deposit_amount.amount }} {{ answers.deposit_amount.currency }} from {{ answers.country | country_name }}",
          { buttons: [{ text: "Open an account", url: "https://example.com/signup?ref=1" }] },
          "eligible",
        ),
        cond([{ when: true, goto: "end" }]),
        msg("Sorry {{ user.first_name | default: 'there' }}, come back at 18.", {}, "too_young"),
      ),
    ],
    [
      "a loop back through a question",
      steps(ask("age", "ask_age"), cond([{ when: lt("answers.age", 0), goto: "ask_age" }])),
    ],
    ["a loop back through a delay", steps(msg("tick", {}, "tick"), wait(), cond([{ when: true, goto: "tick" }]))],
    ["an else of end", steps(cond([{ when: { "==": [{ var: "trigger.param" }, "x"] }, goto: "end" }], "end"))],
    ["a conditional with a null else (the next step)", steps(cond([{ when: true, goto: "end" }], null), msg("Hi"))],
    ["20 branches", steps(cond(Array.from({ length: 20 }, () => ({ when: true, goto: "end" }))))],
    [
      "20 buttons",
      steps(
        msg("Links", { buttons: Array.from({ length: 20 }, (_, i) => ({ text: `L${i}`, url: `https://e.com/${i}` })) }),
      ),
    ],
    [
      "user and trigger variables",
      steps(
        msg(
          "{{ user.first_name }} {{ user.last_name }} {{ user.username }} {{ user.language_code }} {{ trigger.param }}",
        ),
      ),
    ],
    ["a rule reading a whole root", steps(cond([{ when: { "!!": { var: "answers" } }, goto: "end" }]))],
    ["a key of 64 characters", steps(msg("Hi", {}, "k".repeat(64)))],
  ])("%s", (_name, journey) => {
    expect(checkFlow(journey)).toEqual({ errors: [], warnings: [] });
  });
});

describe("checkFlow refuses", () => {
  it.each<[string, FlowStep[], ReturnType<typeof problem>[]]>([
    ["a key with capitals", steps(msg("Hi", {}, "Intro")), [problem(0, "key", /must match/)]],
    ["a key of 65 characters", steps(msg("Hi", {}, "k".repeat(65))), [problem(0, "key", /must match/)]],
    ["an empty key", steps(msg("Hi", {}, "")), [problem(0, "key", /must match/)]],
    ["the key end", steps(msg("Hi", {}, "end")), [problem(0, "key", /reserved/)]],
    [
      "a repeated key, on the second",
      steps(msg("a", {}, "same"), msg("b", {}, "same")),
      [problem(1, "key", /already the key of steps\[0\]/)],
    ],
    [
      "an unknown goto",
      steps(cond([{ when: true, goto: "nowhere" }])),
      [problem(0, "config.branches[0].goto", /no step has the key "nowhere"/)],
    ],
    [
      "an unknown else",
      steps(cond([{ when: true, goto: "end" }], "nowhere")),
      [problem(0, "config.else", /no step has the key "nowhere"/)],
    ],
    [
      "a goto that is not a string",
      steps(cond([{ when: true, goto: 3 }])),
      [problem(0, "config.branches[0].goto", /step key or "end"/)],
    ],
    ["no branches", steps(cond([])), [problem(0, "config.branches", /1 to 20 branches/)]],
    [
      "branches that are not a list",
      steps(cond({ when: true, goto: "end" })),
      [problem(0, "config.branches", /1 to 20/)],
    ],
    [
      "21 branches",
      steps(cond(Array.from({ length: 21 }, () => ({ when: true, goto: "end" })))),
      [problem(0, "config.branches", /1 to 20/)],
    ],
    ["a branch that is not an object", steps(cond(["x"])), [problem(0, "config.branches[0]", /must be an object/)]],
    ["a branch without a rule", steps(cond([{ goto: "end" }])), [problem(0, "config.branches[0].when", /required/)]],
    [
      "a rule with an unknown operator",
      steps(cond([{ when: { "+": [1, 2] }, goto: "end" }])),
      [problem(0, "config.branches[0].when", /unknown operator "\+"/)],
    ],
    [
      "a rule with an unknown root",
      steps(cond([{ when: lt("session.age", 1), goto: "end" }])),
      [problem(0, "config.branches[0].when", /unknown variable "session.age"/)],
    ],
    [
      "a rule reading an answer no question sets",
      steps(ask("age"), cond([{ when: lt("answers.agee", 18), goto: "end" }])),
      [problem(1, "config.branches[0].when", /reads answers.agee, but no question has answer_key "agee"/)],
    ],
    [
      "a text reading an answer no question sets",
      steps(msg("You said {{ answers.age }}")),
      [problem(0, "config.text", /no question has answer_key "age"/)],
    ],
    ["a text with an unknown root", steps(msg("{{ name }}")), [problem(0, "config.text", /unknown variable "name"/)]],
    ["a text that does not parse", steps(msg("Hi {{ user.first_name")), [problem(0, "config.text", /not closed/)]],
    ["an include", steps(msg("{% include 'x' %}")), [problem(0, "config.text", /not allowed/)]],
    [
      "a question text with an unknown filter",
      steps(ask("age", undefined, { text: "{{ 'x' | nope }}" })),
      [problem(0, "config.text", /undefined filter: nope/)],
    ],
    [
      "a bad error_text",
      steps(ask("age", undefined, { error_text: "{{ oops" })),
      [problem(0, "config.error_text", /not closed/)],
    ],
    [
      "a bad expired_text",
      steps(ask("age", undefined, { expired_text: "{{ x }}" })),
      [problem(0, "config.expired_text", /unknown variable "x"/)],
    ],
    [
      "a bad reminder text",
      steps(ask("age", undefined, { reminders: [{ after_minutes: 5, text: "{% layout 'x' %}" }] })),
      [problem(0, "config.reminders[0].text", /not allowed/)],
    ],
    [
      "buttons that are not a list",
      steps(msg("Hi", { buttons: "x" })),
      [problem(0, "config.buttons", /1 to 20 buttons/)],
    ],
    ["no buttons", steps(msg("Hi", { buttons: [] })), [problem(0, "config.buttons", /1 to 20/)]],
    [
      "21 buttons",
      steps(msg("Hi", { buttons: Array.from({ length: 21 }, () => ({ text: "x", url: "https://e.com" })) })),
      [problem(0, "config.buttons", /1 to 20/)],
    ],
    [
      "a button that is not an object",
      steps(msg("Hi", { buttons: ["x"] })),
      [problem(0, "config.buttons[0]", /object/)],
    ],
    [
      "an http button",
      steps(msg("Hi", { buttons: [{ text: "Go", url: "http://e.com" }] })),
      [problem(0, "config.buttons[0].url", /https URL/)],
    ],
    [
      "a javascript: button",
      steps(msg("Hi", { buttons: [{ text: "Go", url: "javascript:alert(1)" }] })),
      [problem(0, "config.buttons[0].url", /https URL/)],
    ],
    [
      "a tg: button",
      steps(msg("Hi", { buttons: [{ text: "Go", url: "tg://resolve?domain=x" }] })),
      [problem(0, "config.buttons[0].url", /https URL/)],
    ],
    [
      "a relative button",
      steps(msg("Hi", { buttons: [{ text: "Go", url: "/signup" }] })),
      [problem(0, "config.buttons[0].url", /https URL/)],
    ],
    [
      "a button without a url",
      steps(msg("Hi", { buttons: [{ text: "Go" }] })),
      [problem(0, "config.buttons[0].url", /https URL/)],
    ],
    [
      "a button url over 2048",
      steps(msg("Hi", { buttons: [{ text: "Go", url: `https://e.com/${"a".repeat(2040)}` }] })),
      [problem(0, "config.buttons[0].url", /at most 2048/)],
    ],
    [
      "a button text over 64",
      steps(msg("Hi", { buttons: [{ text: "x".repeat(65), url: "https://e.com" }] })),
      [problem(0, "config.buttons[0].text", /at most 64/)],
    ],
    [
      "a blank button text",
      steps(msg("Hi", { buttons: [{ text: " ", url: "https://e.com" }] })),
      [problem(0, "config.buttons[0].text", /non-empty/)],
    ],
    [
      "a second button's url",
      steps(
        msg("Hi", {
          buttons: [
            { text: "a", url: "https://e.com" },
            { text: "b", url: "ftp://e.com" },
          ],
        }),
      ),
      [problem(0, "config.buttons[1].url", /https URL/)],
    ],
    [
      "a conditional jumping to itself",
      steps(cond([{ when: true, goto: "self" }], undefined, "self")),
      [problem(0, "config.branches[0].goto", /loop \(steps 0\).*it would spin/)],
    ],
    [
      "a loop of messages",
      steps(msg("a", {}, "top"), msg("b"), cond([{ when: lt("answers.age", 1), goto: "top" }]), ask("age")),
      [problem(2, "config.branches[0].goto", /loop \(steps 0, 1, 2\)/)],
    ],
    [
      "a loop through an else",
      steps(msg("a", {}, "top"), cond([{ when: false, goto: "end" }], "top")),
      [problem(1, "config.else", /it would spin/)],
    ],
    [
      "a loop of two conditionals",
      steps(cond([{ when: true, goto: "b" }], undefined, "a"), cond([{ when: true, goto: "a" }], undefined, "b")),
      [problem(1, "config.branches[0].goto", /loop \(steps 0, 1\)/)],
    ],
    [
      "a loop past a question elsewhere",
      steps(ask("age"), msg("a", {}, "top"), cond([{ when: true, goto: "top" }])),
      [problem(2, "config.branches[0].goto", /loop \(steps 1, 2\)/)],
    ],
    [
      "a step config over 16 KB",
      steps(msg("Hi", { note: "x".repeat(16 * 1024) })),
      [problem(0, "config", /is \d+ bytes as JSON; at most 16384 are allowed per step/)],
    ],
  ])("%s", (_name, journey, errors) => {
    expect(checkFlow(journey).errors).toEqual(errors);
  });

  it("reports every problem, each at its step", () => {
    const { errors } = checkFlow(
      steps(msg("{{ oops", {}, "Bad"), ask("age"), cond([{ when: { log: 1 }, goto: "missing" }], "also_missing")),
    );
    expect(errors.map((e) => `${e.index}:${e.field}`)).toEqual([
      "0:key",
      "0:config.text",
      "2:config.branches[0].when",
      "2:config.branches[0].goto",
      "2:config.else",
    ]);
  });

  it("uses the steps' own index in what it reports", () => {
    const journey = steps(msg("a"), msg("{{ x }}")).map((s) => ({ ...s, index: s.index + 10 }));
    expect(checkFlow(journey).errors).toEqual([problem(11, "config.text", /unknown variable "x"/)]);
  });
});

describe("checkFlow warns when an answer is set on some paths only", () => {
  const warning = (index: number, field: string, key: string) =>
    problem(index, field, new RegExp(`answers\\.${key} is set on some paths to this step only`));

  it.each<[string, FlowStep[], FlowProblem[]]>([
    ["not when every path sets it", steps(ask("age"), msg("You are {{ answers.age }}")), []],
    [
      "when a branch skips the question",
      steps(
        cond([{ when: { "==": [{ var: "trigger.param" }, "vip"] }, goto: "show" }]),
        ask("age"),
        msg("{{ answers.age }}", {}, "show"),
      ),
      [warning(2, "config.text", "age")],
    ],
    [
      "in a rule too",
      steps(
        cond([{ when: true, goto: "check" }]),
        ask("age"),
        cond([{ when: lt("answers.age", 18), goto: "end" }], undefined, "check"),
      ),
      [problem(2, "config.branches[0].when", /answers\.age .*its comparisons are false/)],
    ],
    [
      "when a question reads its own answer (first time round)",
      steps(ask("age", undefined, { text: "Again? {{ answers.age }}" })),
      [warning(0, "config.text", "age")],
    ],
    ["when the answer comes later", steps(msg("{{ answers.age }}"), ask("age")), [warning(0, "config.text", "age")]],
    [
      "not when both branches set it",
      steps(
        cond([{ when: true, goto: "b" }]),
        ask("age"),
        cond([{ when: true, goto: "join" }]),
        ask("age", "b"),
        msg("{{ answers.age }}", {}, "join"),
      ),
      [],
    ],
    [
      "not in a loop whose entry sets it",
      steps(
        ask("age", "again"),
        msg("{{ answers.age }}"),
        wait(),
        cond([{ when: lt("answers.age", 18), goto: "again" }]),
      ),
      [],
    ],
    [
      "when a loop comes back past the setter's skip",
      steps(
        wait("top"),
        cond([{ when: { missing: ["answers.age"] }, goto: "ask" }], "show"),
        ask("age", "ask"),
        msg("{{ answers.age }}", {}, "show"),
        cond([{ when: true, goto: "top" }]),
      ),
      [warning(3, "config.text", "age")],
    ],
    [
      "the error text of a question reading its own key",
      steps(ask("age", undefined, { error_text: "{{ answers.age }} is wrong" })),
      [warning(0, "config.error_text", "age")],
    ],
    [
      "not on unreachable steps",
      steps(cond([{ when: true, goto: "end" }], "end"), msg("{{ answers.age }}"), ask("age")),
      [],
    ],
    [
      "once per key and field",
      steps(msg("{{ answers.d.amount }} {{ answers.d.currency }}"), ask("d")),
      [warning(0, "config.text", "d")],
    ],
  ])("%s", (_name, journey, warnings) => {
    expect(checkFlow(journey)).toEqual({ errors: [], warnings });
  });
});

describe("answer keys with dots", () => {
  it("a template reaches one through the longest defined key", () => {
    expect(checkFlow(steps(ask("a.b"), msg("{{ answers['a.b'] }}")))).toEqual({ errors: [], warnings: [] });
  });
  it("a rule cannot (JSON Logic splits paths on dots)", () => {
    const journey = steps(ask("a.b"), cond([{ when: { "==": [{ var: "answers.a.b" }, "x"] }, goto: "end" }]));
    expect(checkFlow(journey).errors).toEqual([problem(1, "config.branches[0].when", /cannot read answer key "a.b"/)]);
  });
});

describe("nextIndexAfterConditional", () => {
  const journey = steps(
    ask("age", "age"),
    cond([
      { when: lt("answers.age", 18), goto: "too_young" },
      { when: { ">": [{ var: "answers.age" }, 99] }, goto: "end" },
    ]),
    msg("ok"),
    cond([{ when: { "==": [{ var: "trigger.param" }, "vip"] }, goto: "vip" }], "end"),
    msg("vip", {}, "vip"),
    msg("young", {}, "too_young"),
    cond([{ when: true, goto: "gone" }]),
    cond([{ when: false, goto: "end" }]),
  );
  const with_ = (answers: Record<string, unknown>, param?: string): FlowData => ({
    answers,
    user: {},
    trigger: param === undefined ? {} : { param },
  });

  it.each<[string, number, FlowData, ReturnType<typeof nextIndexAfterConditional>]>([
    ["the first branch that holds", 1, with_({ age: 16 }), { target: 5, branch: 0 }],
    ["a later branch", 1, with_({ age: 120 }), { target: "end", branch: 1 }],
    ["no match, no else: the next step", 1, with_({ age: 30 }), { target: 2, branch: "next" }],
    ["an unset answer matches no comparison", 1, with_({}), { target: 2, branch: "next" }],
    ["no match: the else", 3, with_({ age: 30 }), { target: "end", branch: "else" }],
    ["a trigger rule", 3, with_({}, "vip"), { target: 4, branch: 0 }],
    ["a goto naming no step ends the run", 6, with_({}), { target: "end", branch: 0 }],
    ["no match on the last step: the end", 7, with_({}), { target: "end", branch: "next" }],
  ])("%s", (_name, index, data, expected) => {
    expect(nextIndexAfterConditional(journey, index, data)).toEqual(expected);
  });
});
