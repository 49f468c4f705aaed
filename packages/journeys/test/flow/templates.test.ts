/** LiquidJS texts (issue 17): the write-time check, rendering, our filters and the limits. Pure, table-driven. */
import { describe, expect, it } from "vitest";
import type { FlowData } from "../../src/flow/data.ts";
import { checkTemplate, MAX_RENDERED_LENGTH, renderTemplate, templateCacheSize } from "../../src/flow/templates.ts";

const data: FlowData = {
  answers: {
    age: 35,
    country: "DE",
    deposit_amount: { amount: 1000, currency: "EUR" },
    cents: { amount: 1234.5, currency: "USD" },
    yen: { amount: 1500.5, currency: "JPY" },
    no_currency: { amount: 25000, currency: null },
    odd_currency: { amount: 10, currency: "ZZZ" },
    tags: ["a", "b"],
  },
  user: { first_name: "Ann", username: "ann" },
  trigger: { param: "broker_qualify" },
};

function rendered(source: string, d: FlowData = data): string {
  const result = renderTemplate(source, d);
  if (!result.ok) throw new Error(`render failed: ${result.error}`);
  return result.text;
}

describe("checkTemplate accepts", () => {
  it.each<[string, string, string[]]>([
    ["plain text", "How old are you?", []],
    ["a user field with a default", '{{ user.first_name | default: "there" }}', ["user.first_name"]],
    ["a money amount", "{{ answers.deposit_amount.amount }}", ["answers.deposit_amount.amount"]],
    [
      "our filters",
      "{{ answers.country | country_name }} {{ answers.deposit_amount | money }}",
      ["answers.country", "answers.deposit_amount"],
    ],
    ["the trigger", "{{ trigger.param }}", ["trigger.param"]],
    ["if on an answer", "{% if answers.age >= 18 %}adult{% endif %}", ["answers.age"]],
    [
      "a loop over an answer (its variable is local)",
      "{% for t in answers.tags %}{{ t }}{% endfor %}",
      ["answers.tags"],
    ],
    [
      "assign and capture are local",
      "{% assign n = user.first_name %}{% capture c %}x{% endcapture %}{{ n }}{{ c }}",
      ["user.first_name"],
    ],
    [
      "a computed key reads the root and the key's own path",
      "{{ answers[user.username] }}",
      ["answers", "user.username"],
    ],
    ["a quoted key", "{{ answers['a-b'] }}", ["answers.a-b"]],
    ["standard filters", "{{ user.first_name | upcase | append: '!' | truncate: 10 }}", ["user.first_name"]],
  ])("%s", (_name, source, vars) => {
    expect(checkTemplate(source)).toEqual({ ok: true, vars });
  });
});

describe("checkTemplate refuses", () => {
  it.each<[string, string, RegExp]>([
    ["include", "{% include 'secrets' %}", /\{% include %\} is not allowed.*line:1, col:1/],
    ["render", "Hi {% render 'x' %}", /\{% render %\} is not allowed/],
    ["layout", "{% layout 'x' %}", /\{% layout %\} is not allowed/],
    ["include inside {% liquid %}", "{% liquid\n  include 'x' %}", /\{% include %\} is not allowed.*line:2/],
    ["an unknown filter", "{{ user.first_name | shout }}", /undefined filter: shout/],
    ["an unclosed output", "Hi {{ user.first_name", /not closed, line:1, col:4/],
    ["an unclosed tag", "line one\n{% if answers.age %}x", /not closed/],
    ["an unknown variable root", "{{ session.id }}", /unknown variable "session.id"/],
    ["a bare unknown name", "{{ name }}", /unknown variable "name"/],
    ["an unknown user field", "{{ user.firstname }}", /user has first_name/],
    ["an unknown trigger field", "{{ trigger.start_param }}", /trigger has param/],
    ["over 16 KB", `${"x".repeat(16 * 1024)}{{ user.first_name }}`, /bytes; at most 16384/],
  ])("%s", (_name, source, error) => {
    const result = checkTemplate(source);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(error);
  });

  it("refuses a non-string", () => {
    expect(checkTemplate(42 as unknown as string)).toEqual({ ok: false, error: "a template is a string" });
  });
});

describe("renderTemplate", () => {
  it.each<[string, string, string]>([
    ["plain text", "How old are you?", "How old are you?"],
    ["a user field", "Hi {{ user.first_name }}!", "Hi Ann!"],
    ["a default for an unset field", 'Hi {{ user.last_name | default: "there" }}', "Hi there"],
    ["an unset answer renders empty", "[{{ answers.nope }}]", "[]"],
    ["a path through an unset answer renders empty", "[{{ answers.nope.amount }}]", "[]"],
    [
      "a money amount and currency",
      "{{ answers.deposit_amount.amount }} {{ answers.deposit_amount.currency }}",
      "1000 EUR",
    ],
    ["country_name", "{{ answers.country | country_name }}", "Germany"],
    ["country_name lower case", "{{ 'fr' | country_name }}", "France"],
    ["country_name of an unknown code", "{{ 'XX' | country_name }}", "XX"],
    ["money of a whole amount", "{{ answers.deposit_amount | money }}", "1,000 EUR"],
    ["money with cents", "{{ answers.cents | money }}", "1,234.50 USD"],
    ["money in a currency without minor units", "{{ answers.yen | money }}", "1,501 JPY"],
    ["money without a currency", "{{ answers.no_currency | money }}", "25,000"],
    ["money with an unknown currency", "{{ answers.odd_currency | money }}", "10 ZZZ"],
    ["money of a bare number", "{{ answers.age | money }}", "35"],
    ["money of something else", "{{ 'abc' | money }}", "abc"],
    ["if on an answer", "{% if answers.age >= 18 %}adult{% else %}minor{% endif %}", "adult"],
    ["a loop", "{% for t in answers.tags %}{{ t }};{% endfor %}", "a;b;"],
    ["the trigger", "via {{ trigger.param }}", "via broker_qualify"],
    ["dates in UTC", "{{ '2024-01-02T23:30:00Z' | date: '%H:%M' }}", "23:30"],
    ["no HTML escaping by default", "{{ '<b>' }}", "<b>"],
  ])("%s", (_name, source, text) => {
    expect(renderTemplate(source, data)).toEqual({ ok: true, text, cut: false });
  });

  it("reads own properties only", () => {
    expect(rendered("[{{ answers.constructor }}{{ answers.tags.constructor }}{{ user.toString }}]")).toBe("[]");
  });

  it("cuts a text over 4096 characters to 4095 and an ellipsis", () => {
    const result = renderTemplate(`{{ user.first_name }}${"x".repeat(5000)}`, data);
    expect(result).toMatchObject({ ok: true, cut: true });
    if (result.ok) {
      expect(result.text).toHaveLength(MAX_RENDERED_LENGTH);
      expect(result.text.startsWith("Annxxx")).toBe(true);
      expect(result.text.endsWith("x…")).toBe(true);
    }
  });

  it("stops a loop once its output passes 4096 characters, and cuts it", () => {
    const result = renderTemplate(`{% for i in (1..100000) %}${"z".repeat(100)}{% endfor %}`, data);
    expect(result).toMatchObject({ ok: true, cut: true });
    if (result.ok) expect(result.text).toBe(`${"z".repeat(MAX_RENDERED_LENGTH - 1)}…`);
  });

  it("renders a loop of a thousand turns", () => {
    const result = renderTemplate("{% for i in (1..1000) %}{% if i == 1000 %}{{ i }}{% endif %}{% endfor %}", data);
    expect(result).toEqual({ ok: true, text: "1000", cut: false });
  });

  it("keeps a text of exactly 4096 characters whole", () => {
    const source = "y".repeat(MAX_RENDERED_LENGTH);
    expect(renderTemplate(source, data)).toEqual({ ok: true, text: source, cut: false });
  });

  it("never cuts between the halves of a surrogate pair", () => {
    // The emoji takes code units 4095 and 4096; a cut at 4095 would keep its first half.
    const result = renderTemplate(`${"x".repeat(4094)}😀😀`, data);
    expect(result.ok && result.cut).toBe(true);
    if (result.ok) {
      expect(result.text).toBe(`${"x".repeat(4094)}…`);
      expect(result.text.charCodeAt(4093)).toBe("x".charCodeAt(0));
    }
  });

  it.each<[string, string, RegExp]>([
    ["a text that renders empty", "{{ user.last_name }}", /rendered empty/],
    ["a text that renders only spaces", "  {{ answers.nope }}\n", /rendered empty/],
    ["a parse error", "{{ oops", /not closed/],
    ["an include", "{% include 'x' %}", /not allowed/],
    ["a loop past the render limit", "{% for i in (1..100000) %}{% endfor %}", /render limit exceeded \(10000 steps\)/],
    [
      "a loop without output past the render limit",
      "{% for i in (1..100000) %}{% assign x = i | modulo: 2 %}{% endfor %}",
      /render limit exceeded/,
    ],
    [
      "nested loops past the render limit",
      "{% for i in (1..1000) %}{% for j in (1..1000) %}{% endfor %}{% endfor %}",
      /render limit exceeded/,
    ],
    [
      "a capture grown past the render limit",
      "{% for i in (1..100000) %}{% capture c %}{{ c }}x{% endcapture %}{% endfor %}{{ c | size }}",
      /render limit exceeded/,
    ],
    [
      "a string doubled past the memory limit",
      "{% assign s = 'x' %}{% for i in (1..40) %}{% assign s = s | append: s %}{% endfor %}{{ s }}",
      /limit exceeded/,
    ],
    ["over 16 KB", "x".repeat(16 * 1024 + 1), /bytes; at most 16384/],
  ])("fails without throwing on %s", (_name, source, error) => {
    const result = renderTemplate(source, data);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error).toMatch(error);
  });

  it("never throws on odd data", () => {
    const odd = { answers: null, user: undefined, trigger: 5 } as unknown as FlowData;
    expect(renderTemplate("Hi {{ user.first_name | default: 'you' }} {{ answers.age }}", odd)).toEqual({
      ok: true,
      text: "Hi you ",
      cut: false,
    });
  });

  it("parses each source once and keeps at most 1,000 of them", () => {
    for (let i = 0; i < 1100; i++) renderTemplate(`n{{ answers.age }}${i}`, data);
    expect(templateCacheSize()).toBeLessThanOrEqual(1000);
    expect(rendered("n{{ answers.age }}1099")).toBe("n351099");
  });
});
