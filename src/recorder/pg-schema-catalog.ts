/**
 * The shape of the PostgreSQL store's verified tables as the catalog says it is, one line per
 * column and per constraint, so that verify can compare it with what the store creates
 * (pg-schema-expected.ts) and tests can compare that with a freshly migrated database. Why
 * lines: a difference is reported as the line that differs, readable by the reviewer.
 *
 * A column line is `column NAME TYPE[ NOT NULL][ DEFAULT expr][ GENERATED g][ IDENTITY i][ COLLATE c]`
 * (types by format_type, defaults by pg_get_expr, a collation only when not the type's own: a
 * nondeterministic one would make `id = $1` match other ids); a constraint line is
 * `constraint NAME DEF` (pg_get_constraintdef: NOT VALID and DEFERRABLE show there). NOT NULL
 * constraints (PostgreSQL 18 lists them in pg_constraint) are read from the column instead. An
 * index line is `index NAME DEF[ INVALID][ NOT READY]` (pg_get_indexdef, the table's schema
 * dropped from it): a unique index made plain, partial or other columns, or one PostgreSQL no
 * longer uses (INVALID) or maintains (NOT READY, so it no longer keeps sequence numbers unique).
 */
import type pg from 'pg';

type Q = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** Table name -> its column, constraint and index lines, sorted. */
export type TableShapes = Map<string, string[]>;

const COLUMNS = `
  SELECT c.relname AS rel, a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
    pg_get_expr(d.adbin, d.adrelid) AS def, a.attgenerated AS gen, a.attidentity AS ident,
    CASE WHEN a.attcollation <> t.typcollation THEN co.collname END AS coll
  FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_type t ON t.oid = a.atttypid
  LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
  LEFT JOIN pg_collation co ON co.oid = a.attcollation
  WHERE a.attrelid = ANY($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped`;

const CONSTRAINTS = `
  SELECT c.relname AS rel, k.conname AS name, pg_get_constraintdef(k.oid) AS def
  FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
  WHERE k.conrelid = ANY($1::oid[]) AND k.contype <> 'n'`;

const INDEXES = `
  SELECT c.relname AS rel, i.relname AS name, pg_get_indexdef(x.indexrelid) AS def, quote_ident(n.nspname) AS nsp,
    x.indisvalid AS valid, x.indisready AS ready
  FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE x.indrelid = ANY($1::oid[])`;

interface IndexRow { rel: string; name: string; def: string; nsp: string; valid: boolean; ready: boolean }

// pg_get_indexdef names the table with its schema (`ON public.calls`): the store's schema is whichever its search_path finds.
const indexLine = (r: IndexRow) => `index ${r.name} ${r.def.replace(` ON ${r.nsp}.`, ' ON ')}${r.valid ? '' : ' INVALID'}${r.ready ? '' : ' NOT READY'}`;

interface ColumnRow { rel: string; name: string; type: string; notnull: boolean; def: string | null; gen: string; ident: string; coll: string | null }

function columnLine(r: ColumnRow): string {
  return [
    `column ${r.name} ${r.type}`,
    r.notnull ? ' NOT NULL' : '',
    r.def !== null ? ` DEFAULT ${r.def}` : '',
    r.gen ? ` GENERATED ${r.gen}` : '',
    r.ident ? ` IDENTITY ${r.ident}` : '',
    r.coll !== null ? ` COLLATE ${r.coll}` : '',
  ].join('');
}

/** The column, constraint and index lines of the tables `oids`; why: verify and the tests read them alike. */
export async function readTableShapes(q: Q, oids: number[]): Promise<TableShapes> {
  const shapes: TableShapes = new Map();
  const add = (rel: string, line: string) => {
    const list = shapes.get(rel);
    if (list) list.push(line);
    else shapes.set(rel, [line]);
  };
  for (const r of (await q(COLUMNS, [oids])).rows as ColumnRow[]) add(r.rel, columnLine(r));
  for (const r of (await q(CONSTRAINTS, [oids])).rows as Array<{ rel: string; name: string; def: string }>) add(r.rel, `constraint ${r.name} ${r.def}`);
  for (const r of (await q(INDEXES, [oids])).rows as IndexRow[]) add(r.rel, indexLine(r));
  for (const list of shapes.values()) list.sort();
  return shapes;
}

/** The first line where `actual` and `expected` differ for one table, said as a reason, or null. */
export function shapeDifference(table: string, actual: readonly string[], expected: readonly string[]): string | null {
  const want = new Set(expected);
  const have = new Set(actual);
  // A changed line shows as one missing and one extra: name both when they share the name.
  const named = (line: string) => line.split(' ').slice(0, 2).join(' ');
  for (const line of expected) {
    if (have.has(line)) continue;
    const instead = actual.find((a) => !want.has(a) && named(a) === named(line));
    return instead ? `${table} ${named(line)} is \`${instead}\`, the store creates \`${line}\`` : `${table} ${named(line)} is missing (the store creates \`${line}\`)`;
  }
  const extra = actual.find((a) => !want.has(a));
  return extra ? `${table} has \`${extra}\`, which the store does not create` : null;
}
