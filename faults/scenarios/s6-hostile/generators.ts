/** Scenario 6's generators: hostile text, and webhook bodies that are not updates at all. */
import { updates } from "@journeys/fake-telegram";
import fc from "fast-check";

export const START_PARAM_RE = /^[A-Za-z0-9_-]{1,64}$/;
/** What a UTF-8 encoder makes of a JS string: unpaired surrogates become U+FFFD. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
export const wellFormed = (s: string) => s.replace(LONE_SURROGATE, "\uFFFD");
/** Text Postgres refuses in a column or a jsonb value. */
export const unstorable = (s: string) => s.includes("\u0000") || wellFormed(s) !== s;
export const MIB = 1024 * 1024;

/** SQL, JSON, shell, HTML and Unicode troublemakers, glued together by the generators. */
const META = [
  "'",
  '"',
  "\\",
  "\\\\",
  ";",
  "--",
  "/*",
  "*/",
  "%",
  "_",
  "$1",
  "$$",
  "::jsonb",
  "' OR '1'='1",
  "'; DROP TABLE journeys; --",
  "Robert'); DROP TABLE journey_user_sessions;--",
  '{"$ne": null}',
  '{"__proto__": {"polluted": true}}',
  "__proto__",
  "constructor",
  "[]",
  "{}",
  "null",
  "true",
  "\\u0000",
  "\\ud800",
  "E'\\x00'",
  "%s%n%x",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal placeholder is the point
  "${process.env}",
  "<script>alert(1)</script>",
  "\n",
  "\r\n",
  "\t",
  "\u202e",
  "\u200b",
  "😀",
  "👨‍👩‍👧‍👦",
  "ﷺ",
  "Ω≈ç√∫",
  "ひらがな",
  "עברית",
];
export const metaString = fc
  .array(fc.oneof(fc.constantFrom(...META), fc.string({ maxLength: 6 })), { minLength: 1, maxLength: 8 })
  .map((parts) => parts.join(""));
/** Any UTF-16 code unit, lone surrogates and NUL included: what a JSON body can carry. */
export const utf16 = (maxLength: number) =>
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength });
export const anyText = fc.oneof(
  { weight: 3, arbitrary: metaString },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 300 }) },
  { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 300 }) },
  { weight: 1, arbitrary: utf16(200) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 0, max: 10_000 })
      .chain((n) => fc.string({ unit: "grapheme-ascii", minLength: n, maxLength: n })),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      "",
      " ",
      "\u200b",
      "\u0000",
      "x\u0000y",
      "\ud800",
      "a\udc00b",
      "😀\ud83d",
      "\u2800",
      "a".repeat(4096),
      "a".repeat(4097),
      "😀".repeat(4096),
      "😀".repeat(4097),
      "x".repeat(10_000),
    ),
  },
);

/** What a client may claim a webhook body is. */
export const contentType = fc.constantFrom(
  "application/json",
  "application/json; charset=utf-8",
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/octet-stream",
  "",
);
const weirdUpdateId = fc.oneof(
  fc.double(),
  fc.integer({ min: -1e9, max: -1 }),
  fc.string(),
  fc.constant(null),
  fc.constant("99999999999999999999999"),
  fc.constant(2 ** 53),
  fc.constant(1e300),
  fc.array(fc.integer()),
);
/** Bodies that are no update: random bytes, any JSON, wrong update_ids, truncated, nested past reason. */
export const malformedBody = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  utf16(100),
  fc.json(),
  fc.jsonValue().map((v) => JSON.stringify(v)),
  weirdUpdateId.map((id) => `{"update_id": ${JSON.stringify(id) ?? "null"}, "message": {"text": "/start s6"}}`),
  fc.nat(300).map((n) => JSON.stringify(updates.startCommand("s6", { userId: 7_000_000 })).slice(0, n)),
  fc.constantFrom(
    "",
    "{",
    "null",
    "[]",
    '"update"',
    "1e999",
    '{"update_id": 1, "update_id": "x"}',
    `${"[".repeat(50_000)}${"]".repeat(50_000)}`,
    `{"update_id": 7000001, "message": ${'{"a":'.repeat(20_000)}1${"}".repeat(20_000)}}`,
  ),
);
