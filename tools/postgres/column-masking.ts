/**
 * Masking by lineage: a result column is masked because of where it comes from, not its name.
 * Sources: PostgreSQL's field metadata (table OID + column number, which it sets for plain
 * references, also through subqueries and CTEs) and the analysed AST lineage (aliases, UNION
 * branches, expressions). A masked column that flows through an expression is denied before
 * the query runs (on_derived: deny, the default) or masked whole (on_derived: mask).
 */
import { ErrorCode, WardenError, type ColumnMask, type MaskingContext } from '../../src/tool-api.js';
import type { OutputColumnLineage, SqlFacts } from './analysis/types.js';

function maskFor(columns: ColumnMask[], source: { table: string; column: string }): ColumnMask[] {
  if (source.column === '*') return columns.filter((c) => c.column.startsWith(source.table + '.'));
  const full = `${source.table}.${source.column}`;
  return columns.filter((c) => c.column === full);
}

/** Masks that an output column's lineage touches. */
export function lineageMasks(columns: ColumnMask[], o: OutputColumnLineage): ColumnMask[] {
  return o.sources.flatMap((s) => maskFor(columns, s));
}

/** A top-level `*` or `t.*` over base tables (the analyser's output entry named "*"). */
function isStarExpansion(o: OutputColumnLineage): boolean {
  return o.name === '*' && !o.derived && o.sources.length > 0 && o.sources.every((s) => s.column === '*');
}

/** Before execution: refuse a masked column flowing through an expression (unless on_derived: mask). */
export function checkDerivedFlows(facts: SqlFacts, m: MaskingContext): void {
  if (!m.columns.length || m.onDerived !== 'deny') return;
  for (const o of facts.output) {
    // `*` and `t.*` expand into separate result columns, each with its own table and column in
    // PostgreSQL's field metadata, which planColumnMasks masks one by one: not a whole row in
    // one value (`SELECT u`, `row_to_json(u)`), which is refused here.
    if (isStarExpansion(o)) continue;
    const hit = lineageMasks(m.columns, o);
    const wholeRow = o.sources.some((s) => s.column === '*') && hit.length > 0;
    if (hit.length && (o.derived || wholeRow)) {
      throw new WardenError(
        ErrorCode.DENIED,
        `masked column ${hit[0]!.column} flows through an expression in output column "${o.name}"; select the column directly to receive its masked value`,
        { ruleIds: ['masking.on_derived'] },
      );
    }
  }
}

/** After execution: the strategy for each result column (null = not masked). */
export function planColumnMasks(
  facts: SqlFacts,
  fieldSources: (string | null)[],
  m: MaskingContext,
): (string | null)[] {
  const aligned = facts.output.length === fieldSources.length;
  return fieldSources.map((src, i) => {
    if (src) {
      const direct = m.columns.find((c) => c.column === src);
      if (direct) return direct.strategy;
    }
    const o = aligned ? facts.output[i] : undefined;
    if (o) {
      const hit = lineageMasks(m.columns, o);
      if (hit.length) return o.derived || hit.length > 1 || o.sources.some((s) => s.column === '*') ? 'redact' : hit[0]!.strategy;
    }
    return null;
  });
}
