/**
 * Masking by lineage: a result column is masked because of where it comes from, not its name.
 * Sources: PostgreSQL's field metadata (table OID + column number, which it sets for plain
 * references, also through subqueries and CTEs) and the analysed AST lineage (aliases, UNION
 * branches, expressions). A masked column that flows through an expression is denied before
 * the query runs (on_derived: deny, the default) or masked whole (on_derived: mask).
 */
import { ErrorCode, WardenError, type ColumnMask, type MaskingContext } from '../../src/tool-api.js';
import type { OutputColumnLineage, SourceColumn } from './analysis/types.js';
import type { ColumnLineage } from './view-lineage.js';

function maskFor(columns: ColumnMask[], source: { table: string; column: string }): ColumnMask[] {
  if (source.column === '*') return columns.filter((c) => c.column.startsWith(source.table + '.'));
  const full = `${source.table}.${source.column}`;
  return columns.filter((c) => c.column === full);
}

/** Masks that an output column's (or a view column's) lineage touches. */
export function lineageMasks(columns: ColumnMask[], o: { sources: readonly SourceColumn[] }): ColumnMask[] {
  return o.sources.flatMap((s) => maskFor(columns, s));
}

/**
 * Before execution: refuse a masked column flowing through an expression (unless on_derived:
 * mask). `facts.output` may be the lineage followed through views (view-lineage.ts resolveOutput).
 */
export function checkDerivedFlows(facts: { output: readonly OutputColumnLineage[] }, m: MaskingContext): void {
  if (!m.columns.length || m.onDerived !== 'deny') return;
  for (const o of facts.output) {
    // `*` and `t.*` over a base table expand into separate result columns, each with its own
    // table and column in PostgreSQL's field metadata, which planColumnMasks masks one by one:
    // not a whole row in one value (`SELECT u`, `row_to_json(u)`), which is refused here, nor a
    // star whose fields carry no table (UNION, a function source), which is refused too. A star
    // over a view counts as computed when one of the view's columns computes a masked column.
    if (o.star === 'table' && !o.derived) continue;
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

/**
 * The output entry each result field comes from (`at`), or undefined where `*` entries (any
 * number of fields each) leave the position open; `open` lists the entries such a field may
 * come from. Entries before the first `*` line up from the start, those after the last from the end.
 */
function entriesByField(output: readonly OutputColumnLineage[], fields: number): { at: (OutputColumnLineage | undefined)[]; open: readonly OutputColumnLineage[] } {
  const first = output.findIndex((o) => o.star);
  if (first < 0 && output.length === fields) return { at: [...output], open: [] };
  let head = first < 0 ? 0 : first;
  let tail = first < 0 ? 0 : output.length - 1 - output.findLastIndex((o) => o.star);
  if (head + tail > fields) head = tail = 0;
  const at = Array.from({ length: fields }, (_, i) => (i < head ? output[i] : i >= fields - tail ? output[output.length - (fields - i)] : undefined));
  return { at, open: output.slice(head, output.length - tail) };
}

/** Strategy for a column whose lineage touches `hit`: whole-value redact unless it is one plain column. */
function strategyFor(l: { sources: readonly SourceColumn[]; derived: boolean }, hit: ColumnMask[]): string {
  return l.derived || hit.length > 1 || l.sources.some((s) => s.column === '*') ? 'redact' : hit[0]!.strategy;
}

/**
 * After execution: the strategy for each result column (null = not masked). `fieldSources` is
 * PostgreSQL's field metadata (schema.table.column); `through[i]`, when that relation is a view,
 * is what the view column carries (view-lineage.ts), masked like the lineage of a column.
 */
export function planColumnMasks(
  facts: { output: readonly OutputColumnLineage[] },
  fieldSources: (string | null)[],
  m: MaskingContext,
  through: readonly (ColumnLineage | undefined)[] = [],
): (string | null)[] {
  if (!m.columns.length) return fieldSources.map(() => null);
  const { at, open } = entriesByField(facts.output, fieldSources.length);
  // A field with no table in its metadata at an open position may be any entry there but a base
  // table's `*` (whose fields all name their table): masked whole when one of them is masked.
  const openMasked = open.some((e) => e.star !== 'table' && lineageMasks(m.columns, e).length > 0);
  return fieldSources.map((src, i) => {
    if (src) {
      const direct = m.columns.find((c) => c.column === src);
      if (direct) return direct.strategy;
      const view = through[i];
      const viaView = view ? lineageMasks(m.columns, view) : [];
      if (view && viaView.length) return strategyFor(view, viaView);
    }
    const o = at[i];
    if (!o) return !src && openMasked ? 'redact' : null;
    const hit = lineageMasks(m.columns, o);
    return hit.length ? strategyFor(o, hit) : null;
  });
}
