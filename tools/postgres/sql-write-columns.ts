/**
 * The `write_columns:` key of a `sql:` block: columns, [schema.]table.column by SQL identifier
 * rules, judged against SqlFacts.writtenColumns (column '*' when a statement writes the whole row).
 * - allow: every column the statement writes must be listed; a whole-row write (DELETE, INSERT
 *   without a column list, TRUNCATE, DDL) never fits. The listed columns' tables are writable
 *   (and so readable, as `write:` tables are); when `write:` is given too, a written table must be
 *   in it as well: both must hold.
 * - deny: matches when the statement writes a listed column, or writes that column's table whole
 *   (a DELETE of a row writes every column of it): fail closed.
 * Kept apart from sql-condition.ts, which calls these.
 */
import { z } from 'zod';
import { normalizePolicyColumn, policyColumnProblem } from './analysis/names.js';
import type { SourceColumn, SqlFacts } from './analysis/types.js';

/** One entry of `write_columns:`; an ill-formed name fails the load at its line. */
export const columnName = z.string().min(1).superRefine((name, ctx) => {
  const problem = name ? policyColumnProblem(name) : null; // an empty name is reported by min(1)
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

/** Listed columns by table. */
export type ColumnGrant = ReadonlyMap<string, ReadonlySet<string>>;

/** Compile a `write_columns:` list (already validated by the schema). */
export function compileColumns(names: readonly string[] | undefined): ColumnGrant | null {
  if (!names) return null;
  const out = new Map<string, Set<string>>();
  for (const name of names) {
    const { table, column } = normalizePolicyColumn(name);
    let set = out.get(table);
    if (!set) out.set(table, (set = new Set()));
    set.add(column);
  }
  return out;
}

/**
 * The columns the facts say are written; facts built without them (a synthetic probe) count
 * every written table as written whole.
 */
export function writtenColumnsOf(f: Pick<SqlFacts, 'writes'> & { writtenColumns?: readonly SourceColumn[] }): readonly SourceColumn[] {
  return f.writtenColumns ?? f.writes.map((table) => ({ table, column: '*' }));
}

/** Allow: why a written column lies outside the grant, or null when all are listed. */
export function columnsOutsideGrant(grant: ColumnGrant, f: SqlFacts): string | null {
  for (const { table, column } of writtenColumnsOf(f)) {
    if (column === '*') return `every column of ${table} (the whole row) would be written; only some of its columns may be`;
    if (!grant.get(table)?.has(column)) return `column ${table}.${column} may not be written`;
  }
  return null;
}

/** Deny: why the statement writes a denied column, or null. */
export function deniedColumnWrite(denied: ColumnGrant, f: SqlFacts): string | null {
  for (const { table, column } of writtenColumnsOf(f)) {
    const listed = denied.get(table);
    if (!listed) continue;
    if (column === '*') return `writing every column of ${table} (the whole row) writes denied column ${table}.${[...listed][0]}`;
    if (listed.has(column)) return `writing column ${table}.${column} is denied`;
  }
  return null;
}

/** The normalised names, for describe. */
export function describeColumns(names: readonly string[]): string {
  return names.map((n) => {
    const c = normalizePolicyColumn(n);
    return `${c.table}.${c.column}`;
  }).join(', ');
}
