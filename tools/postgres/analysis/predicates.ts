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
import { type Ctx, type Lin, type Rel, type RefTracker, type Scope, identText, notePredicate, splitAlias, uniqSources, wholeRow } from './context.js';
import { lineage } from './lineage.js';
import { type SetBranch, outputItems, setOutputItems } from './output-items.js';
import { filteredRow, filtersRows } from './predicate-refs.js';
import type { PredicatePlace, SourceColumn } from './types.js';

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
  if (!filtersRows(tracker)) return notePredicate(ctx, direct, 'join');
  const row = filteredRow(tracker, ctx);
  notePredicate(ctx, direct, place, row);
  const named = sameRowColumns(tracker);
  if (named.length > 1) noteAlongside(ctx, direct, named, place, row);
}

/**
 * The columns a row-filter item names of its one base relation (predicate-refs.ts filtersRows),
 * correlated references from its subqueries included (`WHERE ascii(email) = (SELECT v.total)`
 * compares with v's total as `= v.total` does); none when it names one column.
 */
function sameRowColumns(tracker: RefTracker): SourceColumn[] {
  const rel = tracker.refs[0]?.rels[0];
  if (rel?.kind !== 'table') return [];
  return uniqSources(tracker.refs.map((r) => ({ table: rel.table, column: r.key.slice(r.key.indexOf('\u0000') + 1) })));
}

/**
 * Record on each column of a row-filter item the other columns of its row it names
 * (PredicateColumn.alongside), merged with what earlier items recorded for the same column, place and row.
 */
function noteAlongside(ctx: Ctx, direct: readonly SourceColumn[], named: readonly SourceColumn[], place: PredicatePlace, row: string): void {
  for (const column of direct) {
    const entry = ctx.predicates.get(`${place}\u0000${column.table}\u0000${column.column}\u0000${row}`);
    if (!entry) continue;
    const others = named.filter((o) => o.table !== column.table || o.column !== column.column);
    if (others.length) entry.alongside = uniqSources([...(entry.alongside ?? []), ...others]);
  }
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
export function walkClause(key: string, node: unknown, scope: Scope, ctx: Ctx, columns?: unknown): void {
  const how = OUTERMOST[key];
  if (!how) throw new Error(`clause ${key} has no predicate place`);
  // ORDER BY, GROUP BY and DISTINCT ON may name a select-list item (outputItems): it is walked
  // as one more item of the clause, where it orders or groups.
  const named = SELECT_LIST_KEYS.has(key) ? how.split(node).flatMap((item) => outputItems(item, columns)) : [];
  if (how.place === 'window' || ctx.nested > 0) {
    for (const n of [node, ...named]) notePredicate(ctx, lineage(n, scope, ctx).sources, how.place === 'window' ? 'window' : 'subquery');
    return;
  }
  for (const item of [...how.split(node), ...named]) outermostItem(item, scope, ctx, how.place);
}

/** The clauses whose items may name a select-list item by its output name or position. */
const SELECT_LIST_KEYS = new Set(['orderby', 'groupby', 'distinct']);

/**
 * A set operation's ORDER BY (on its last branch, `node`), besides its walk as that branch's
 * clause: each item as the expressions it names in every branch (output-items.ts
 * setOutputItems), walked in their own branch's scope where they order the result.
 */
export function walkSetOrder(node: unknown, branches: readonly SetBranch[], ctx: Ctx): void {
  for (const item of Array.isArray(node) ? node : [node]) {
    for (const { expr, scope } of setOutputItems(item, branches)) {
      if (ctx.nested > 0) notePredicate(ctx, lineage(expr, scope, ctx).sources, 'subquery');
      else outermostItem(expr, scope, ctx, 'top-order');
    }
  }
}

/** Set-operation chains already looked at (their first branch), and the branches of those that compare rows. */
const chainsSeen = new WeakSet<object>();
const comparedBranches = new WeakSet<object>();

/**
 * Whether a SELECT's own rows are deduplicated, which compares their values: DISTINCT (not ON,
 * whose items are walked as its clause), or a branch of a set operation chain with a UNION,
 * INTERSECT or EXCEPT without ALL anywhere in it (fail closed on how the chain groups: `a UNION
 * ALL b UNION c` deduplicates a too). `SELECT DISTINCT least(ascii(email), g) FROM users,
 * generate_series(1, 255) g` has as many rows as the first character's code.
 */
export function deduplicates(node: Node): boolean {
  if (node._next && !chainsSeen.has(node)) {
    const chain: Node[] = [];
    for (let b: Node | undefined = node; b; b = b._next as Node | undefined) chain.push(b);
    for (const b of chain) chainsSeen.add(b);
    if (chain.some((b) => b._next && String(b.set_op).toLowerCase() !== 'union all')) for (const b of chain) comparedBranches.add(b);
  }
  const distinct = node.distinct as Node | null | undefined;
  return (!!distinct?.type && !Array.isArray(distinct.columns)) || comparedBranches.has(node);
}

/**
 * The select list of a query whose rows are deduplicated (deduplicates): each item is compared
 * like a GROUP BY item, at 'top-group' in the outermost query (at 'join' when it also names
 * another relation's column), at 'subquery' in a nested one. A `*` item stands for the whole
 * row of each relation it covers.
 */
export function walkDeduplicated(columns: unknown, scope: Scope, ctx: Ctx): void {
  const walk = (item: unknown): void => {
    if (ctx.nested > 0) notePredicate(ctx, lineage(item, scope, ctx).sources, 'subquery');
    else outermostItem(item, scope, ctx, 'top-group');
  };
  for (const c of Array.isArray(columns) ? (columns as Node[]) : []) {
    const e = c?.expr as Node | undefined;
    if (e?.type !== 'column_ref' || e.column !== '*' || e.table) {
      walk(e);
      continue;
    }
    // An unaliased relation (a subquery without a name) cannot be named: its row compared as a join's.
    for (const r of scope.rels) {
      if (r.alias) walk({ type: 'column_ref', table: r.alias, column: '*' });
      else notePredicate(ctx, wholeRow(r), ctx.nested > 0 ? 'subquery' : 'join');
    }
  }
}

/** Set operators whose result is a set: UNION without ALL. */
const SET_UNIONS = new Set(['union', 'union distinct']);

function empty(v: unknown): boolean {
  return v === null || v === undefined || v === false || (Array.isArray(v) && v.length === 0);
}

/**
 * The output columns of one branch of an outermost UNION, as names ('*' for all), when the
 * branch reads one table (no join, no other FROM item, no alias column list) and selects only
 * plain columns of it, with no clause that makes its rows other than the rows its WHERE keeps
 * (GROUP BY, HAVING, DISTINCT, a window, WITH, INTO; ORDER BY and LIMIT only on the last branch,
 * where the parser puts the whole UNION's own); else null.
 */
function plainBranch(b: Node, last: boolean): string[] | null {
  if (b.type !== 'select' || !empty(b.with) || !empty(b.options) || !empty(b.groupby) || !empty(b.having) || !empty(b.window)) return null;
  if ((b.distinct as Node | null)?.type) return null;
  const into = b.into as Node | null;
  if (into && (into.expr || into.type)) return null;
  if (!last && (!empty(b.orderby) || !empty((b.limit as Node | null)?.value))) return null;
  const from = b.from as Node[] | null;
  if (!Array.isArray(from) || from.length !== 1) return null;
  const item = from[0]!;
  const table = identText(item.table);
  if (!table || item.expr || !empty(item.join) || !empty(item.on) || !empty(item.using) || !empty(item.tablesample) || !empty(item.prefix)) return null;
  const alias = splitAlias(item.as);
  if (alias.columns.length > 0) return null;
  const names: string[] = [];
  for (const col of (b.columns as Node[] | null) ?? []) {
    const e = col?.expr as Node | undefined;
    if (!e || e.type !== 'column_ref' || !empty(e.collate)) return null;
    if (Object.keys(e).some((k) => !['type', 'table', 'column', 'collate', 'loc'].includes(k))) return null;
    const q = identText(e.table);
    if (q !== null && q !== (alias.name ?? table)) return null;
    const name = identText(e.column);
    if (!name) return null;
    names.push(name);
  }
  return names.length > 0 ? names : null;
}

/**
 * Whether an outermost set operation is a UNION (without ALL) whose branches each select the
 * same plain columns (same names, same positions) of one table, filtering its rows in their own
 * WHERE. Its result is then `SELECT DISTINCT <columns> FROM <table> WHERE <w1> OR <w2> OR ...`:
 * each output row is a row of the table, present when one branch's condition holds, one bit per
 * row whatever the number of branches, so the branches filter one relation (ctx.unionRows).
 * Anything that tells the branches apart in the output is a bit per row per branch (seven
 * branches, each filtering one bit of a character's code, return the character) and stays
 * refused: UNION ALL (a row's count is how many conditions hold), INTERSECT and EXCEPT (not an
 * OR), a constant or another column per branch, a computed select list (nextval differs per
 * branch), GROUP BY or a join in a branch, another table.
 */
export function sameRowsUnion(node: Node): boolean {
  const shapes: string[][] = [];
  for (let b: Node | undefined = node; b; b = b._next as Node | undefined) {
    if (b._next && !SET_UNIONS.has(String(b.set_op).toLowerCase())) return false;
    const shape = plainBranch(b, !b._next);
    if (!shape) return false;
    shapes.push(shape);
  }
  const first = shapes[0]!;
  return shapes.length > 1 && shapes.every((s) => s.length === first.length && s.every((c, i) => c === first[i]));
}

/**
 * In a UNION sameRowsUnion accepted, give a branch's table the row id of the first branch's
 * (PredicateColumn.row): a branch over another table keeps its own.
 */
export function shareUnionRow(ctx: Ctx, rels: readonly Rel[]): void {
  const union = ctx.unionRows;
  const rel = rels.length === 1 ? rels[0]! : null;
  if (!union || ctx.nested > 0 || rel?.kind !== 'table') return;
  if (!union.first) {
    union.first = rel;
    return;
  }
  if (union.first.kind !== 'table' || union.first.table !== rel.table) return;
  if (!ctx.rowIds.has(union.first)) ctx.rowIds.set(union.first, ctx.rowIds.size + 1);
  ctx.rowIds.set(rel, ctx.rowIds.get(union.first)!);
}
