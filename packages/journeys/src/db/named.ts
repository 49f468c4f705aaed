import type { Executor } from "./client.ts";
import { type Prepared, prepared, runPrepared } from "./prepared.ts";

/**
 * A prepared statement written with named parameters (`:session_id`), so a statement with a dozen
 * of them reads as what it binds, not as `$8/$9/$10` arithmetic. Each name becomes one `$n` (a name
 * used twice binds once); `::` casts are left alone.
 */
export interface Named<P extends string> extends Prepared {
  readonly params: readonly P[];
}

export function named<P extends string>(name: string, text: string): Named<P> {
  const params: P[] = [];
  const compiled = text.replace(/(?<!:):([a-z][a-z0-9_]*)/g, (_, param: P) => {
    let i = params.indexOf(param);
    if (i < 0) i = params.push(param) - 1;
    return `$${i + 1}`;
  });
  return { ...prepared(name, compiled), params };
}

/** Run a named statement with its parameters by name (every one must be given; null is a value). */
export function runNamed<R, P extends string = string>(db: Executor, statement: Named<P>, values: Record<P, unknown>) {
  return runPrepared<R>(
    db,
    statement,
    statement.params.map((p) => {
      if (!(p in values)) throw new Error(`${statement.name}: no value for :${p}`);
      return values[p];
    }),
  );
}
