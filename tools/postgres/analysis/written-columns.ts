/**
 * The columns a DML statement writes (SqlFacts.writtenColumns, judged by `write_columns:`), and
 * the SET targets that could not be told apart from another column. Kept apart from
 * statement.ts, which calls these.
 */
import { parseError } from '../../../src/tool-api.js';
import { type Ctx, identText, literalValue } from './context.js';
import type { ValueSize } from './types.js';

type Node = Record<string, unknown>;

/**
 * An UPDATE's SET target `a.b` (or `a.b.c`) is, to PostgreSQL, the field b of column a: a target
 * column is never qualified with its table. The parser reads it as column b of a table a, so
 * `SET meta.status = ...` would be judged (write_columns:, masks) as writing status while
 * PostgreSQL writes meta. Refused; set the whole column (`SET meta = ROW(...)`) instead.
 */
export function qualifiedSetTargets(node: Node): void {
  for (const s of (node.set as Node[] | null) ?? []) {
    if (s.table != null || s.schema != null) {
      throw parseError(`UPDATE: a qualified SET target (${[s.schema, s.table, s].filter((p) => p != null).map((p) => identText(p) ?? '?').join('.')}) is not supported: PostgreSQL reads it as a field of the column it starts with, never as a table-qualified column; write the bare column name`);
    }
  }
}

/**
 * The columns a DML statement writes (SqlFacts.writtenColumns): an UPDATE its SET columns, an
 * INSERT its column list; an INSERT without one, a DELETE, or a SET item not understood, the
 * whole row ('*'). ON CONFLICT ... DO UPDATE adds its SET columns (upsert.ts).
 */
export function writtenColumns(type: string, node: Node): string[] | '*' {
  if (type === 'update') {
    const names = ((node.set as Node[] | null) ?? []).map((s) => identText(s));
    return names.length > 0 && names.every((n): n is string => !!n && n !== '*') ? names : '*';
  }
  if (type === 'insert' && Array.isArray(node.columns) && node.columns.length > 0) {
    const names = (node.columns as unknown[]).map((c) => identText(c));
    return names.every((n): n is string => !!n && n !== '*') ? names : '*';
  }
  return '*';
}

/**
 * A value's size bound (SetSize): a string literal's text as written bounds its size into a
 * column whose type stores at most its text (sized-writes.ts AS_TEXT, which also counts the
 * padding a char(n) target adds; into jsonb or an array it does not: not sized there;
 * `'x'::char(3000)` is computed); a
 * safe integer its digits; `$n` its parameter, sized when it runs; NULL nothing (`none`).
 * Anything else (an expression, a column, DEFAULT) is unbounded.
 */
export function sizeOf(ctx: Ctx, value: unknown): ValueSize {
  const v = (value ?? {}) as Node;
  const text = v.type === 'single_quote_string' || v.type === 'string' ? literalValue(ctx, v.value) : null;
  const bytes = text !== null ? Buffer.byteLength(text, 'utf8')
    : v.type === 'null' ? 0
    : v.type === 'number' && typeof v.value === 'number' && Number.isSafeInteger(v.value) ? String(v.value).length
    : undefined;
  const param = v.type === 'var' && v.prefix === '$' && typeof v.name === 'number' && Number.isInteger(v.name) ? v.name : undefined;
  return { ...(bytes !== undefined ? { bytes } : {}), ...(param !== undefined ? { param } : {}), ...(v.type === 'null' ? { none: true } : {}) };
}

/** A name PostgreSQL reads alike quoted or not (lower case, plain): two such names are one name. */
const PLAIN = /^[a-z_][a-z0-9_]*$/;

/**
 * Whether an UPDATE's SET value is the target column itself (`SET id = id`, `SET id = t.id` with
 * t the target's name or alias): compared only as plain lower-case names, which quoting does not
 * change (`SET "ID" = ID` names two columns; such a pair is not taken as one).
 */
function sameColumn(column: string, value: unknown, names: readonly string[]): boolean {
  const v = (value ?? {}) as Node;
  // Nothing but a (qualified) column: no schema, no COLLATE, no subscript or field.
  if (v.type !== 'column_ref' || Object.entries(v).some(([k, x]) => x != null && !['type', 'table', 'column'].includes(k))) return false;
  if (!PLAIN.test(column) || typeof (v.column as Node | null)?.expr !== 'object' || identText(v.column) !== column) return false;
  if (v.table == null) return true;
  const table = identText(v.table);
  return table !== null && PLAIN.test(table) && names.includes(table);
}

/**
 * Record what a SET item writes (SqlFacts.setSizes), sized by sizeOf. `target`: an UPDATE's
 * target's name and alias, for a value that is the column itself (SetSize.same).
 */
export function noteSetSize(ctx: Ctx, table: string, column: string, value: unknown, target?: readonly string[]): void {
  const same = target !== undefined && sameColumn(column, value, target);
  ctx.setSizes.push({ table, column, ...sizeOf(ctx, value), ...(same ? { same } : {}) });
}
