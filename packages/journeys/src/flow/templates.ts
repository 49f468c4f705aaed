/**
 * Message and question texts are LiquidJS templates (issue 17 item 3): parsed when steps are written,
 * rendered when the outbox row is written, so the row holds what was sent. One Liquid instance for
 * the process, with no file access (no include/render/layout tags, an empty in-memory template map)
 * and limits on parse size, render time, renders and memory: a tenant's template cannot read a file
 * or hold a worker.
 */
import countries from "i18n-iso-countries";
import en from "i18n-iso-countries/langs/en.json" with { type: "json" };
import { Context, type Emitter, Liquid, type Template, toValue, toValueSync } from "liquidjs";
import { checkPathSegments, type FlowData, MAX_STEP_SOURCE_BYTES } from "./data.ts";

countries.registerLocale(en);

/** Telegram's limit for a message text. */
export const MAX_RENDERED_LENGTH = 4096;
/** Parsed templates kept per process; render runs on every message, parse once per source. */
const CACHE_SIZE = 1000;
/**
 * A normal text renders in well under a millisecond; these stop loops, not texts. Rendering stops
 * after TEMPLATE_LIMIT steps (liquidjs 10 declares a `templateLimit` render option but
 * does not enforce it, so renderBudget counts them), when the output passes Telegram's limit
 * (BoundedEmitter), or at MEMORY_LIMIT allocations (ranges, joins, appends). The time limit is
 * wall-clock, so it is only a generous backstop: a loaded machine must not fail a normal text.
 */
const RENDER_LIMIT_MS = 1000;
/** check() runs once per node and once per block (a loop turn): about 5,000 turns of a one-node loop. */
const TEMPLATE_LIMIT = 10_000;
const MEMORY_LIMIT = 1_000_000;
const FILE_TAGS = ["include", "render", "layout"];

type Check = { ok: true; vars: string[] } | { ok: false; error: string };
/** The error of a text that rendered to nothing but whitespace (Telegram refuses empty messages). */
export const RENDERED_EMPTY = "the text rendered empty";
export type RenderResult = { ok: true; text: string; cut: boolean } | { ok: false; error: string };

const liquid = new Liquid({
  strictFilters: true,
  strictVariables: false,
  ownPropertyOnly: true,
  parseLimit: MAX_STEP_SOURCE_BYTES,
  renderLimit: RENDER_LIMIT_MS,
  memoryLimit: MEMORY_LIMIT,
  // Lookups go to this empty map, never to the file system.
  templates: {},
  relativeReference: false,
  // Dates render in UTC whatever the server's zone.
  timezoneOffset: 0,
});
/**
 * Liquid calls the render limiter's check() before every tag and output it renders, loop bodies
 * included: counting those calls bounds a render's work, with the wall-clock deadline kept.
 */
function renderBudget(): Context["renderLimit"] {
  const deadline = performance.now() + RENDER_LIMIT_MS;
  let left = TEMPLATE_LIMIT;
  const check = () => {
    left -= 1;
    if (left < 0) throw new Error(`template render limit exceeded (${TEMPLATE_LIMIT} steps)`);
    if (performance.now() > deadline) throw new Error(`template render time limit exceeded (${RENDER_LIMIT_MS} ms)`);
  };
  return { check } as unknown as Context["renderLimit"];
}

/** As Liquid writes a value (its own stringify: nil is empty, a list is its items joined). */
function stringify(value: unknown): string {
  const v = toValue(value);
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "";
  if (Array.isArray(v)) return v.map(stringify).join("");
  return String(v);
}

/** Stops the render once the output passes Telegram's limit: the rest would be cut anyway. */
class OutputFull extends Error {}
class BoundedEmitter implements Emitter {
  buffer = "";
  full = false;
  write(html: unknown): void {
    if (this.full) throw new OutputFull("output full");
    this.buffer += stringify(html);
    if (this.buffer.length > MAX_RENDERED_LENGTH) {
      this.full = true;
      throw new OutputFull("output full");
    }
  }
}

// Unregistered, the tags fail to parse ("tag "include" not found"), inside {% liquid %} too.
for (const tag of FILE_TAGS) delete liquid.tags[tag];

/** ISO alpha-2 → English name; anything else is shown as given. */
function countryName(code: unknown): unknown {
  if (typeof code !== "string") return code;
  return countries.getName(code.trim().toUpperCase(), "en") ?? code;
}

const CURRENCIES: ReadonlySet<string> = new Set(Intl.supportedValuesOf("currency"));

/** A money answer ({amount, currency}) as "1,000 EUR" / "1,234.50 USD"; a bare number as "1,000". */
function money(value: unknown): unknown {
  const isMoney = typeof value === "object" && value !== null && "amount" in value;
  const amount = isMoney ? (value as { amount: unknown }).amount : value;
  if (typeof amount !== "number" || !Number.isFinite(amount)) return value;
  const currency = isMoney ? (value as { currency?: unknown }).currency : null;
  const code = typeof currency === "string" ? currency : null;
  // Whole amounts without decimals; otherwise the currency's own digits (JPY 0, EUR 2, KWD 3).
  const digits =
    Number.isInteger(amount) || code === null || !CURRENCIES.has(code)
      ? undefined
      : new Intl.NumberFormat("en-US", { style: "currency", currency: code }).resolvedOptions().maximumFractionDigits;
  const number = new Intl.NumberFormat("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits ?? 20 });
  return code === null ? number.format(amount) : `${number.format(amount)} ${code}`;
}

liquid.registerFilter("country_name", countryName);
liquid.registerFilter("money", money);

type Parsed = { ok: true; templates: Template[] } | { ok: false; error: string };
const cache = new Map<string, Parsed>();

function friendly(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const fileTag = /^tag "(include|render|layout)" not found(.*)$/s.exec(message);
  if (fileTag) return `{% ${fileTag[1]} %} is not allowed: a text cannot read other templates or files${fileTag[2]}`;
  return message;
}

/** Parses once per source; the cache is a small LRU (a hit moves to the back, the oldest goes first). */
function parse(source: string): Parsed {
  // Checked before the cache so an oversized source is never kept as a key.
  const bytes = Buffer.byteLength(source, "utf8");
  if (bytes > MAX_STEP_SOURCE_BYTES) {
    return { ok: false, error: `the template is ${bytes} bytes; at most ${MAX_STEP_SOURCE_BYTES} are allowed` };
  }
  const hit = cache.get(source);
  if (hit !== undefined) {
    cache.delete(source);
    cache.set(source, hit);
    return hit;
  }
  let parsed: Parsed;
  try {
    parsed = { ok: true, templates: liquid.parse(source) };
  } catch (err) {
    parsed = { ok: false, error: friendly(err) };
  }
  cache.set(source, parsed);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return parsed;
}

/**
 * Checked at write time: parses, then lists the variables the template reads from outside itself
 * (names it assigns or loops over are its own). Each path runs up to its first computed segment:
 * `answers[user.username]` reads `answers` (and `user.username`).
 */
export function checkTemplate(source: string): Check {
  if (typeof source !== "string") return { ok: false, error: "a template is a string" };
  const parsed = parse(source);
  if (!parsed.ok) return parsed;
  let segments: ReturnType<typeof liquid.globalVariableSegmentsSync>;
  try {
    segments = liquid.globalVariableSegmentsSync(parsed.templates, { partials: false });
  } catch (err) {
    return { ok: false, error: friendly(err) };
  }
  const vars = new Set<string>();
  for (const path of segments) {
    const literal: string[] = [];
    for (const s of path) {
      if (Array.isArray(s)) break;
      literal.push(String(s));
    }
    const problem = checkPathSegments(literal);
    if (problem !== null) return { ok: false, error: problem };
    vars.add(literal.join("."));
  }
  return { ok: true, vars: [...vars] };
}

/** Cut at 4095 characters plus an ellipsis, never between the two halves of a surrogate pair. */
function cut(text: string): string {
  let end = MAX_RENDERED_LENGTH - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end -= 1;
  return `${text.slice(0, end)}…`;
}

/**
 * Renders synchronously (the engine is a pure, synchronous function). Unset variables render
 * empty. Never throws: a parse or render failure (a limit hit) is `{ok: false}`, and so is a text
 * that renders to nothing but whitespace, which Telegram would refuse.
 */
export function renderTemplate(source: string, data: FlowData): RenderResult {
  try {
    const parsed = parse(source);
    if (!parsed.ok) return parsed;
    const scope = { answers: data.answers ?? {}, user: data.user ?? {}, trigger: data.trigger ?? {} };
    const ctx = new Context(scope, liquid.options, { sync: true }, { renderLimit: renderBudget(), liquid });
    const emitter = new BoundedEmitter();
    try {
      toValueSync(liquid.renderer.renderTemplates(parsed.templates, ctx, emitter));
    } catch (err) {
      if (!emitter.full) throw err;
    }
    const text = emitter.buffer;
    if (text.trim() === "") return { ok: false, error: RENDERED_EMPTY };
    return text.length > MAX_RENDERED_LENGTH
      ? { ok: true, text: cut(text), cut: true }
      : { ok: true, text, cut: false };
  } catch (err) {
    return { ok: false, error: friendly(err) };
  }
}

/** For tests: the parse cache's size (it is bounded). */
export function templateCacheSize(): number {
  return cache.size;
}
