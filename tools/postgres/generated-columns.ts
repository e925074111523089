/**
 * Masks follow generated columns. A generated column (`low text GENERATED ALWAYS AS
 * (lower(email)) STORED`, or a virtual one) holds a value computed from other columns of its row,
 * under a name of its own, and PostgreSQL's field metadata names the generated column: a mask on
 * `email` alone let `SELECT low FROM users` return the email whole. So a generated column whose
 * expression reads a masked column of its table is masked as well, wherever masks already apply
 * to a masked column (results, on_derived, copies by writes, predicate channels, views over it),
 * since it is one more name in the mask list the statement is judged by.
 * - The columns an expression reads are the catalog's (pg_depend of its pg_attrdef entry), asked
 *   in the family query masking already runs for every relation a statement reaches (view-reader.ts):
 *   no round trip of its own, and none without masks. An expression that reads the whole row, or
 *   calls a function or operator outside pg_catalog (whose body may read any column, or another
 *   row), counts as reading every column of its table (fail closed).
 * - Strategy: the masked source's, when every masked column it reads has the same one and that
 *   hides the value whole (redact, hash, null); `partial` keeps part of the value, and the part it
 *   keeps of a computed value may be another part of the source (`reverse(card)`), so it becomes
 *   redact, as do sources with different strategies, and a column masked by the policy too with
 *   another strategy.
 * - Inheritance: masks already hold by column name across a relation's family (inheritance.ts),
 *   so a generated column of the relation, or of a relation its rows come from (a descendant
 *   named without ONLY, an ancestor), that reads a column of a name masked there masks the
 *   relation's column of the generated column's name: `SELECT x FROM parent` returns a child's
 *   generated `x` over its masked `email`, even where the parent's `x` is a plain column.
 * - Chains: PostgreSQL refuses a generation expression that reads another generated column; a
 *   generated column masked here counts as masked for the others all the same (to a fixed point).
 */
import type { ColumnMask } from '../../src/tool-api.js';
import { maskSources, masksByTable, withMasks, type RelationFamily } from './inheritance.js';

/** One generated column and the columns of its own table its expression reads (`*`: every column). */
export interface GeneratedRead {
  /** Its table (schema.name). */
  relation: string;
  column: string;
  reads: readonly string[];
}

/**
 * A CTE `gen(rel, col, rd)` for RELATIONS_SQL (view-reader.ts), inside its per-relation LATERAL
 * (`c`, `up`, `down`, `kin` in scope): one row per generated column of the relation's family and
 * column its expression reads; `*` for a whole-row reference, or a function or operator outside
 * pg_catalog it depends on (built-in ones are pinned, with no pg_depend row).
 */
export const GENERATED_READS_SQL = `gen(rel, col, rd) AS (SELECT DISTINCT ga.attrelid, ga.attname::text,
        CASE WHEN dp.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND ra.attname IS NOT NULL THEN ra.attname::text ELSE '*' END
      FROM pg_catalog.pg_attribute ga
      JOIN pg_catalog.pg_attrdef d ON d.adrelid = ga.attrelid AND d.adnum = ga.attnum
      JOIN pg_catalog.pg_depend dp ON dp.classid = 'pg_catalog.pg_attrdef'::pg_catalog.regclass AND dp.objid = d.oid
      LEFT JOIN pg_catalog.pg_attribute ra ON dp.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass
        AND ra.attrelid = dp.refobjid AND dp.refobjsubid <> 0 AND ra.attnum = dp.refobjsubid AND NOT ra.attisdropped
      WHERE ga.attgenerated <> '' AND NOT ga.attisdropped
        AND (ga.attrelid = c.oid OR ga.attrelid IN (SELECT oid FROM up) OR ga.attrelid IN (SELECT oid FROM down) OR ga.attrelid IN (SELECT oid FROM kin))
        AND (dp.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND dp.refobjid = ga.attrelid AND dp.refobjsubid <> ga.attnum
          OR dp.refclassid = 'pg_catalog.pg_proc'::pg_catalog.regclass AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_proc p
            WHERE p.oid = dp.refobjid AND p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace)
          OR dp.refclassid = 'pg_catalog.pg_operator'::pg_catalog.regclass AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_operator o
            JOIN pg_catalog.pg_proc p ON p.oid = o.oprcode WHERE o.oid = dp.refobjid AND p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace)))`;

/** The gen rows of a RELATIONS_SQL answer, one entry per generated column (fail closed: the arrays must line up). */
export function generatedReads(row: { name: string; gen_relations: string[]; gen_columns: string[]; gen_reads: string[] }): GeneratedRead[] {
  const n = row.gen_relations.length;
  if (row.gen_columns.length !== n || row.gen_reads.length !== n) throw new Error(`catalog answer for ${row.name}: generated columns do not line up`);
  const byColumn = new Map<string, { relation: string; column: string; reads: string[] }>();
  for (let i = 0; i < n; i++) {
    const relation = row.gen_relations[i]!;
    const column = row.gen_columns[i]!;
    const key = JSON.stringify([relation, column]);
    let g = byColumn.get(key);
    if (!g) byColumn.set(key, (g = { relation, column, reads: [] }));
    g.reads.push(row.gen_reads[i]!);
  }
  return [...byColumn.values()];
}

/** Strategy of a column whose masked values other columns compute (see the module comment). */
const CONFLICT_STRATEGY = 'redact';
const WHOLE_VALUE = new Set(['redact', 'hash', 'null']);

function derivedStrategy(strategies: ReadonlySet<string>): string {
  const [only] = strategies;
  return strategies.size === 1 && only !== undefined && WHOLE_VALUE.has(only) ? only : CONFLICT_STRATEGY;
}

/**
 * The masks a statement is judged by (`masks`, already widened along inheritance), plus, for each
 * relation in `families`, its generated columns that read a masked column (module comment).
 * Returns `masks` itself when none is added.
 */
export function generatedMasks(masks: readonly ColumnMask[], families: ReadonlyMap<string, RelationFamily>, inheriting: (relation: string) => boolean): readonly ColumnMask[] {
  if (!masks.length) return masks;
  const byTable = masksByTable(masks);
  const added = new Map<string, ReadonlySet<string>>();
  for (const [relation, family] of families) {
    if (!family.generated?.length) continue;
    const scope = new Set([relation, ...maskSources(family, inheriting(relation))]);
    // Strategies of each masked column name across the relations whose rows the relation returns.
    const named = new Map<string, Set<string>>();
    for (const table of scope) {
      for (const m of byTable.get(table) ?? []) {
        const column = m.column.slice(m.column.lastIndexOf('.') + 1);
        let s = named.get(column);
        if (!s) named.set(column, (s = new Set()));
        s.add(m.strategy);
      }
    }
    if (!named.size) continue;
    const entries = family.generated.filter((g) => scope.has(g.relation));
    const computed = new Set<string>();
    for (let changed = true; changed; ) {
      changed = false;
      for (const g of entries) {
        const hits = new Set(g.reads.flatMap((r) => (r === '*' ? [...named.values()].flatMap((s) => [...s]) : [...(named.get(r) ?? [])])));
        if (!hits.size) continue;
        const strategy = derivedStrategy(hits);
        let s = named.get(g.column);
        if (!s) named.set(g.column, (s = new Set()));
        if (s.has(strategy)) continue;
        s.add(strategy);
        computed.add(g.column);
        changed = true;
      }
    }
    const own = new Set(family.columns);
    for (const column of computed) if (own.has(column)) added.set(`${relation}.${column}`, named.get(column)!);
  }
  return withMasks(masks, added);
}
