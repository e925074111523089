/**
 * Which columns of a writable relation describe_database says may be written, under the
 * `write_columns:` key (sql-write-columns.ts): an allow rule that grants only some columns of a
 * table limits its writes to those; a deny rule refuses writing a listed column, or its table's
 * whole row. Denies are judged as query_database judges them (widened-denies.ts): each column's
 * write widened along inheritance and partitions (a column keeps its name), through updatable
 * views (a plain view column writes its base column; a computed one, its base tables whole) and
 * cascading foreign keys (the referencing table whole), by the same widenRelations. Triggers are
 * not followed (as for table denies; query_database refuses a trigger it cannot trust). Allow
 * rules are not widened, as for tables. Pure: the catalog answers come from ViewCatalog.reach.
 */
import type { SourceColumn } from './analysis/types.js';
import type { ColumnGrant } from './sql-write-columns.js';
import { widenRelations, type CatalogReach } from './widened-relations.js';

/** What may be written of one relation, when not every column may. */
export interface ColumnWrites {
  /** The columns that may be written, in catalog order; null when every column may and whole-row writes are not refused. */
  writable: string[] | null;
  /** The columns a deny rule forbids writing (on this relation or what its write reaches). */
  denied: string[];
  /** For the agent (absent when nothing is limited). */
  note?: string;
}

const WHOLE_ROW = 'whole-row writes (DELETE, INSERT without a column list, TRUNCATE, DDL) of it are refused';

/** The columns a write of `column` ('*' the whole row) of `relation` writes, widened as for deny rules. */
function reached(relation: string, column: string, only: boolean, catalog: CatalogReach | null): readonly SourceColumn[] {
  const named = [{ table: relation, column }];
  if (!catalog) return named;
  return widenRelations({ statements: ['update'], reads: [], writes: [relation], writtenColumns: named, onlyRelations: only ? [relation] : [], functions: [] }, catalog).writtenColumns;
}

/** Whether writing these columns meets a denied one (or writes a table with one whole). */
function meetsDeny(written: readonly SourceColumn[], denied: ColumnGrant): boolean {
  return written.some(({ table, column }) => {
    const listed = denied.get(table);
    return !!listed && (column === '*' || listed.has(column));
  });
}

/**
 * Judge the writes of `relation` (its `columns` in catalog order): `allowed` the columns its
 * grants list (null when some grant lets it be written whole), `denied` the deny rules' columns,
 * `only` whether it is to be written as ONLY (requires_only), `catalog` null when no deny applies.
 */
export function columnWrites(
  relation: string,
  columns: readonly string[],
  allowed: ReadonlySet<string> | null,
  denied: ColumnGrant,
  only: boolean,
  catalog: CatalogReach | null,
): ColumnWrites {
  const deniedHere = denied.size ? columns.filter((c) => meetsDeny(reached(relation, c, only, catalog), denied)) : [];
  const wholeDenied = denied.size > 0 && (deniedHere.length > 0 || meetsDeny(reached(relation, '*', only, catalog), denied));
  if (!allowed && !wholeDenied) return { writable: null, denied: [] };
  const writable = columns.filter((c) => (!allowed || allowed.has(c)) && !deniedHere.includes(c));
  const why: string[] = [];
  if (allowed) why.push('only the columns in write_columns may be written (the grant lists no others)');
  if (deniedHere.length) why.push(`a deny rule forbids writing ${deniedHere.join(', ')}`);
  else if (wholeDenied) why.push('a write of its whole row reaches a column a deny rule forbids writing');
  return { writable, denied: deniedHere, note: `${why.join('; ')}: ${WHOLE_ROW}` };
}
