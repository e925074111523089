/**
 * A trigger comparing the whole rows OLD and NEW, read as blind to the masked columns
 * (trigger-bodies.ts): in its WHEN clause (`OLD.* IS DISTINCT FROM NEW.*`, trigger-facts.ts) or
 * in its PL/pgSQL body (`IF NEW IS DISTINCT FROM OLD THEN`), judged alike by rowsDistinctWhy.
 * The body's under a DELETE is not judged: NEW is NULL there, the answer alike for every row
 * (trigger-bodies.ts blindTrigger).
 */
import type { Token } from './plpgsql-tokens.js';
import type { TriggerFacts } from './trigger-bodies.js';

/** Tokens before `NEW IS [NOT] DISTINCT FROM OLD` (or OLD ... NEW) that bind more loosely than IS, so it compares the two rows and nothing else. */
const ROWS_BEFORE = new Set(['(', ',', ':=', 'if', 'elsif', 'elseif', 'when', 'and', 'or', 'not', 'then', 'else', 'return']);
/** Tokens after it, likewise. */
const ROWS_AFTER = new Set([')', ',', ';', 'then', 'and', 'or', 'else', 'end', 'when']);

/**
 * The length of a whole-row comparison at token i (`NEW IS DISTINCT FROM OLD`, `OLD IS NOT
 * DISTINCT FROM NEW`, ...), or 0: exactly the two rows, with neighbours binding more loosely than
 * IS (`x = NEW IS DISTINCT FROM OLD` compares x with NEW first; `a BETWEEN b AND NEW ...` takes
 * NEW into BETWEEN, so AND counts only in a body without BETWEEN).
 */
export function rowsCompared(toks: readonly Token[], i: number): number {
  const word = (j: number) => (toks[j]?.k === 'id' ? toks[j]!.v : null);
  const near = (j: number) => (toks[j] && (toks[j]!.k === 'id' || toks[j]!.k === 'p' || toks[j]!.v === ':=') ? toks[j]!.v : null);
  const first = word(i);
  if ((first !== 'new' && first !== 'old') || word(i + 1) !== 'is') return 0;
  const j = word(i + 2) === 'not' ? i + 3 : i + 2;
  if (word(j) !== 'distinct' || word(j + 1) !== 'from' || word(j + 2) !== (first === 'new' ? 'old' : 'new')) return 0;
  const before = i === 0 ? null : near(i - 1);
  const after = near(j + 3);
  const between = toks.some((t) => t.k === 'id' && t.v === 'between');
  if (before === null || !ROWS_BEFORE.has(before) || (before === 'and' && between) || after === null || !ROWS_AFTER.has(after)) return 0;
  return j + 3 - i;
}

/**
 * Why a WHEN clause `OLD.* IS DISTINCT FROM NEW.*` may answer for a masked value, or null: it
 * compares the rows column by column (record_eq, first difference wins), by each type's default
 * equality. A masked column the statement does not write (nor any trigger that fires before:
 * only blind ones run, and they cannot name it) is the same value in OLD and NEW, equal to
 * itself (NULLs equal, NaN equals NaN), so the outcome, and an error for a type with no equality
 * (json: record_eq looks the equality up on reaching the column, whatever its value), depends
 * on the other columns only; provided every column's equality is built in.
 */
export function rowsDistinctWhy(f: TriggerFacts, hidden: ReadonlySet<string>, written: readonly string[] | null, clause = 'its WHEN clause compares the whole rows OLD and NEW'): string | null {
  if (written === null || written.includes('*')) return `${clause}, and what the statement writes is not known column by column`;
  const own = written.find((c) => hidden.has(c.toLowerCase()));
  if (own) return `${clause}, and the statement writes the masked column ${own}`;
  if (f.userTyped.length) return `${clause}, and the table's column ${f.userTyped[0]} is of a type outside pg_catalog, whose equality is user code`;
  if (f.userEquality) return `${clause}, and an operator class outside pg_catalog serves a built-in type, whose equality is then user code`;
  return null;
}
