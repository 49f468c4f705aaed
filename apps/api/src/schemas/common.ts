import { type TSchema, Type } from "typebox";
import { BEARER } from "../plugins/swagger.ts";

/** Every 4xx/5xx body: a short machine-readable name and a sentence saying what is wrong. */
export const ErrorBody = Type.Object(
  { error: Type.String(), message: Type.String() },
  { description: "What went wrong (5xx bodies say nothing internal)" },
);

/** The error responses a route can give, by status: `...errors(400, 404)`. 401, 429 and 500 always apply. */
export function errors(...statuses: number[]): Record<number, typeof ErrorBody> {
  return Object.fromEntries([...new Set([...statuses, 401, 429, 500])].map((s) => [s, ErrorBody]));
}

/** A closed vocabulary; `type: "string"` too, so OpenAPI readers see what kind of value it is. */
export const StringEnum = <const T extends readonly string[]>(values: T, description?: string) =>
  Type.Enum([...values] as T[number][], { type: "string", ...(description ? { description } : {}) });

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** ISO 8601 timestamp; handlers turn Dates into strings with `iso()`. */
export const Timestamp = Type.String({ format: "date-time" });
export const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/**
 * Ids come from URLs. Not format-checked here: a malformed id answers 404 like an unknown one
 * (the repository treats it so), never 400, so ids cannot be probed by shape.
 */
export const IdParams = Type.Object({ id: Type.String({ description: "journey id (uuid)" }) });

/** A free-form JSON object (step and trigger configs: the domain validates their contents). */
export const JsonObject = (description?: string) =>
  Type.Object({}, { additionalProperties: true, ...(description ? { description } : {}) });

/** Bot ids appear in webhook URLs: the same rule as tenant_bots.bot_id. */
export const BotId = (description: string) => Type.String({ pattern: "^[A-Za-z0-9_-]{1,64}$", description });

/** `schema.security` for the Bearer-protected routes. */
export const bearer = [{ [BEARER]: [] }];
