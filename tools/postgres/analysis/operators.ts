/**
 * The operator names a statement may invoke (SqlFacts.operators). An operator is a function
 * call PostgreSQL picks by the argument types among the operators of that name on the search
 * path, so `status = 1` runs a function in public when public has `=(text, integer)`; analysis
 * has no types, so the executor asks the catalog about every name listed here
 * (user-operators.ts). The names are every operator token of the statement, and those its
 * syntax implies without writing them (IN is `=`, NOT IN `<>`, LIKE `~~`, BETWEEN `>=` and `<=`,
 * ...): over-inclusive on purpose (the `=` of `SET a = 1` is listed too), fail closed.
 * ORDER BY, GROUP BY, DISTINCT and set operations use a type's default operator class, which
 * only a superuser can create, so they imply nothing.
 */
import type { Token } from './lexer.js';

const IMPLIED: ReadonlyMap<string, readonly string[]> = new Map(Object.entries({
  in: ['=', '<>'],
  any: ['=', '<>'],
  some: ['=', '<>'],
  all: ['=', '<>'],
  case: ['='],
  nullif: ['='],
  distinct: ['='], // IS [NOT] DISTINCT FROM
  using: ['='], // JOIN ... USING
  natural: ['='],
  like: ['~~', '!~~'],
  ilike: ['~~*', '!~~*'],
  similar: ['~', '!~'],
  between: ['>=', '<=', '>', '<'],
}));

/** The operator names `tokens` use or imply, sorted. */
export function statementOperators(tokens: readonly Token[]): string[] {
  const out = new Set<string>();
  for (const t of tokens) {
    if (t.kind === 'op' && t.value !== ':=') out.add(t.value);
    else if (t.kind === 'ident') for (const op of IMPLIED.get(t.value) ?? []) out.add(op);
  }
  return [...out].sort();
}
