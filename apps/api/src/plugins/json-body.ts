import type { FastifyInstance, FastifyRequest } from "fastify";
import { HttpError } from "./errors.ts";

/**
 * How deep a JSON body may nest. Real bodies stay far below it (a Telegram update is about 6
 * levels, a step config 3); far deeper ones overflowed the stack later, in code that walks JSON
 * recursively (serialising a config for Postgres: a 500), so they are refused before parsing.
 */
export const MAX_JSON_DEPTH = 64;

/** The deepest nesting of `[`/`{` in JSON text, counted outside strings, stopping past `limit`. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c)
        i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * application/json for every route: the body must be valid UTF-8 (not silently patched with U+FFFD)
 * and nest at most MAX_JSON_DEPTH levels; then Fastify's own parser (which refuses __proto__ and
 * constructor.prototype keys) reads it. Each refusal is a 400 that says which rule was broken.
 */
export function registerJsonBody(app: FastifyInstance): void {
  const parse = app.getDefaultJsonParser("error", "error");
  app.removeContentTypeParser("application/json");
  app.addContentTypeParser("application/json", { parseAs: "buffer" }, (req, body, done) => {
    let text: string;
    try {
      text = utf8.decode(body as Buffer);
    } catch {
      return done(new HttpError(400, "body is not valid UTF-8"), undefined);
    }
    if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
      return done(
        new HttpError(400, `body nests deeper than ${MAX_JSON_DEPTH} levels of arrays and objects`),
        undefined,
      );
    }
    parse(req, text, done);
  });
}

/** With the u flag a pair is one code point, so this matches only a surrogate without its partner. */
const LONE_SURROGATE = /[\uD800-\uDFFF]/u;

/** The path of the first string (value or key) holding an unpaired UTF-16 surrogate, if any. */
export function loneSurrogateAt(value: unknown, path: string): string | null {
  if (typeof value === "string") return LONE_SURROGATE.test(value) ? path : null;
  if (typeof value !== "object" || value === null) return null;
  for (const [key, v] of Object.entries(value)) {
    const at = `${path}/${key}`;
    if (LONE_SURROGATE.test(key)) return at;
    const found = loneSurrogateAt(v, at);
    if (found) return found;
  }
  return null;
}

/**
 * preValidation hook: JSON can carry an unpaired surrogate as "\ud800", which no UTF-8 column can
 * hold. Refused everywhere alike, with the field named, rather than replaced in one column and
 * refused by another.
 */
export async function refuseLoneSurrogates(req: FastifyRequest): Promise<void> {
  const at = loneSurrogateAt(req.body, "body");
  if (at) throw new HttpError(400, `${at} contains an unpaired UTF-16 surrogate, which cannot be stored`);
}
