/**
 * Where a statement's predicates use columns (SqlFacts.predicateColumns). A filter on a column
 * of the outermost query's own rows keeps or drops those rows, one bit per row; a predicate
 * anywhere else computes the statement's output from the value it compares: a subquery's result
 * (`(SELECT count(*) FROM generate_series(1, 255) g WHERE g <= ascii(u.email))` is the code), a
 * join's other side (`JOIN generate_series(1, 255) g ON g = ascii(u.email)` returns it as g), an
 * aggregate's FILTER, a window's order, a FROM function's rows. So each clause is recorded with
 * its place, and masking refuses a masked column outside the outermost row filters
 * (predicate-channels.ts). Clauses the select list computes from (an aggregate's FILTER in the
 * select list) are also in the output's lineage, refused there as a derived flow.
 */
import { type Ctx, type Lin, type RefTracker, type Scope, notePredicate, uniqSources } from './context.js';
import { lineage } from './lineage.js';
import { filteredRow, filtersRows } from './predicate-refs.js';
import type { PredicatePlace } from './types.js';

type Node = Record<string, unknown>;

/** The places a column only filters, orders or groups the outermost query's rows at (anywhere else it computes the output). */
export const ROW_FILTERS: ReadonlySet<PredicatePlace> = new Set(['top-where', 'top-order', 'top-group']);

/** The conjuncts of a condition: the operands of its top-level ANDs. */
function conjuncts(node: unknown): unknown[] {
  const o = node as Node | null;
  if (o && typeof o === 'object' && o.type === 'binary_expr' && String(o.operator).toUpperCase() === 'AND') {
    return [...conjuncts(o.left), ...conjuncts(o.right)];
  }
  return [node];
}

/**
 * One outermost conjunct or item: walked with a tracker (predicate-refs.ts), its direct columns
 * recorded at `place` when it only filters (or orders, groups) rows and at 'join' when not,
 * what subqueries feed into it at 'subquery'.
 */
function outermostItem(node: unknown, scope: Scope, ctx: Ctx, place: PredicatePlace): void {
  const outer = ctx.tracker;
  const tracker: RefTracker = { scope, refs: [], viaSubquery: [] };
  ctx.tracker = tracker;
  let lin: Lin;
  try {
    lin = lineage(node, scope, ctx);
  } finally {
    ctx.tracker = outer;
  }
  const fed = uniqSources(tracker.viaSubquery);
  const fedKeys = new Set(fed.map((s) => `${s.table}\u0000${s.column}`));
  notePredicate(ctx, fed, 'subquery');
  const direct = lin.sources.filter((s) => !fedKeys.has(`${s.table}\u0000${s.column}`));
  if (filtersRows(tracker)) notePredicate(ctx, direct, place, filteredRow(tracker, ctx));
  else notePredicate(ctx, direct, 'join');
}

/** Items of a GROUP BY or DISTINCT ON: its `columns` list (or the node itself), and whatever else it holds. */
function items(node: unknown): unknown[] {
  const o = node as Node | null;
  if (!o || typeof o !== 'object' || Array.isArray(o) || !Array.isArray(o.columns)) return Array.isArray(node) ? node : [node];
  return [...(o.columns as unknown[]), { ...o, columns: null }];
}

/** What each SELECT clause after FROM is at the outermost level (a window's is always 'window'). */
const OUTERMOST: Record<string, { place: PredicatePlace; split: (n: unknown) => unknown[] }> = {
  where: { place: 'top-where', split: conjuncts },
  having: { place: 'top-where', split: conjuncts },
  limit: { place: 'top-where', split: (n) => [n] },
  groupby: { place: 'top-group', split: items },
  orderby: { place: 'top-order', split: (n) => (Array.isArray(n) ? n : [n]) },
  distinct: { place: 'top-order', split: items },
  window: { place: 'window', split: (n) => [n] },
};

/**
 * Walk a query's clause `key` (where, having, limit, groupby, orderby, distinct, window; a
 * write's where): item by item in the outermost query (ctx.nested 0), whole and at 'subquery'
 * in a nested one (a named WINDOW at 'window' in both).
 */
export function walkClause(key: string, node: unknown, scope: Scope, ctx: Ctx): void {
  const how = OUTERMOST[key];
  if (!how) throw new Error(`clause ${key} has no predicate place`);
  if (how.place === 'window' || ctx.nested > 0) {
    notePredicate(ctx, lineage(node, scope, ctx).sources, how.place === 'window' ? 'window' : 'subquery');
    return;
  }
  for (const item of how.split(node)) outermostItem(item, scope, ctx, how.place);
}
