/**
 * The columns a DML statement writes (SqlFacts.writtenColumns, judged by `write_columns:`), and
 * the SET targets that could not be told apart from another column. Kept apart from
 * statement.ts, which calls these.
 */
import { parseError } from '../../../src/tool-api.js';
import { identText } from './context.js';

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
