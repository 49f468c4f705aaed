import type { FastifyRequest } from "fastify";
import { HttpError } from "./errors.ts";

/** The integer query parameters of the API: their text must be plain decimal digits. */
const INTEGER_PARAMS = ["limit", "offset"];

/**
 * preValidation hook, run while the query string is still text: the schema's coercion would read
 * "1.5", "true" or "0x2" as numbers; here only digits pass (the schema then checks the range).
 */
export async function strictIntegerQuery(req: FastifyRequest): Promise<void> {
  const query = (req.query ?? {}) as Record<string, unknown>;
  for (const name of INTEGER_PARAMS) {
    const value = query[name];
    if (value !== undefined && (typeof value !== "string" || !/^\d{1,9}$/.test(value))) {
      throw new HttpError(400, `querystring/${name} must be a whole number written in decimal digits`);
    }
  }
}
