/**
 * SELECT analysis: scopes, FROM items, select lists and set operations. CTEs are in cte.ts and
 * expression lineage in lineage.ts. Functions and tables are collected from every corner of the
 * query (select list, FROM, WHERE, GROUP BY, HAVING, ORDER BY, windows, subqueries, LATERAL,
 * JOIN ON, CTE bodies). Anything whose shape is not recognised is refused rather than skipped.
 */
import { parseError } from '../../../src/tool-api.js';
import {
  type Ctx, type OutCol, type Rel, type Scope,
  childScope, findCte, identText, laterCte, joinReads, notePredicate, noteRead, noteWrite, renameRel, splitAlias, tableOf, uniqSources, wholeRow,
} from './context.js';
import { addCtes } from './cte.js';
import { functionColumns } from './from-functions.js';
import { findRel, lineage, lineageHooks, nestedQuery } from './lineage.js';
import type { SetBranch } from './output-items.js';
import { deduplicates, sameRowsUnion, shareUnionRow, walkClause, walkDeduplicated, walkSetOrder } from './predicates.js';
import { storeOutput } from './stored.js';

type Node = Record<string, unknown>;

/** Hook for data-modifying statements inside CTEs (set by statement.ts to avoid an import cycle). */
export const hooks: { statement: ((node: Node, scope: Scope, ctx: Ctx) => OutCol[]) | null } = { statement: null };

// Subqueries inside expressions (lineage.ts) come back here.
lineageHooks.select = analyzeSelect;

const SELECT_KEYS = new Set([
  'with', 'type', 'options', 'distinct', 'columns', 'into', 'from', 'where', 'groupby', 'having',
  'orderby', 'limit', 'window', '_next', 'set_op', 'parentheses', 'collate', 'loc', '_parentheses',
]);
const FROM_KEYS = new Set(['db', 'schema', 'table', 'as', 'join', 'on', 'using', 'prefix', 'expr', 'type', 'tablesample', 'parentheses', 'loc']);

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  return false;
}

/**
 * Analyse a SELECT (with its CTEs and set-operation branches) and return its output columns.
 * `branches`: the set operation's earlier branches, when `node` is a later one (selectBody).
 */
export function analyzeSelect(node: Node, parent: Scope | null, ctx: Ctx, branches?: SetBranch[]): OutCol[] {
  if (node.type !== 'select') {
    if (!hooks.statement) throw parseError(`statement ${String(node.type)} not supported here`);
    return hooks.statement(node, parent ?? childScope(null), ctx);
  }
  ctx.kinds.add('select');
  for (const [k, v] of Object.entries(node)) {
    if (!SELECT_KEYS.has(k) && !isEmpty(v)) throw parseError(`SELECT clause "${k}" is not supported`);
  }
  if (!isEmpty(node.options)) throw parseError('SELECT options are not supported');
  const cteScope = childScope(parent);
  // A WITH query's result feeds this one: its clauses are a subquery's (predicates.ts).
  if (Array.isArray(node.with)) nestedQuery(ctx, () => addCtes(node.with as Node[], cteScope, ctx, analyzeSelect));
  // An outermost UNION of branches filtering one table's rows alike filters one relation (predicates.ts).
  const unionHead = ctx.nested === 0 && !ctx.unionRows && !!node._next && sameRowsUnion(node);
  if (unionHead) ctx.unionRows = { first: null };
  try {
    return selectBody(node, cteScope, ctx, branches);
  } finally {
    if (unionHead) ctx.unionRows = null;
  }
}

/** analyzeSelect past its WITH: FROM, the clauses, the select list and the next set-operation branch. */
function selectBody(node: Node, cteScope: Scope, ctx: Ctx, branches?: SetBranch[]): OutCol[] {
  const scope = childScope(cteScope);
  const chain = branches ?? (node._next ? [] : undefined);
  chain?.push({ scope, columns: node.columns });
  for (const item of (node.from as Node[] | null) ?? []) addFrom(item, scope, ctx);
  shareUnionRow(ctx, scope.rels);
  const into = node.into as Node | null;
  let intoTable: string | null = null;
  if (into && (into.expr || into.type)) {
    ctx.constructs.add('select_into');
    const target = identText(into.expr);
    if (!target) throw parseError('SELECT INTO target not understood');
    intoTable = tableOf({ table: target }, ctx);
    noteWrite(ctx, intoTable, '*');
  }
  // Each clause with the place its columns are used at (SqlFacts.predicateColumns).
  for (const key of ['where', 'groupby', 'having', 'orderby', 'limit', 'window', 'distinct']) {
    if (node[key] !== undefined && node[key] !== null) walkClause(key, node[key], scope, ctx, node.columns);
  }
  // The last branch's ORDER BY orders the whole set operation's output (output-items.ts).
  if (chain && chain.length > 1 && !node._next && node.orderby) walkSetOrder(node.orderby, chain, ctx);
  // DISTINCT, UNION, INTERSECT and EXCEPT compare the select list's values (predicates.ts).
  if (deduplicates(node)) walkDeduplicated(node.columns, scope, ctx);
  let cols = selectList(node.columns, scope, ctx);
  if (node._next) cols = mergeBranches(cols, analyzeSelect(node._next as Node, cteScope, ctx, chain));
  // SELECT INTO stores the whole result in a new table, named like the output columns.
  if (intoTable) storeOutput(ctx, intoTable, cols, 'output');
  return cols;
}

/**
 * Output of a set operation: position by position up to the first `*` in either branch. A `*`
 * is any number of columns, so from there on positions are unknown and the rest of both
 * branches is one `*` entry that carries all of it (its fields have no table in PostgreSQL's
 * metadata, so only this lineage masks them).
 */
function mergeBranches(left: OutCol[], right: OutCol[]): OutCol[] {
  const firstStar = (cols: OutCol[]): number => {
    const i = cols.findIndex((c) => c.starRel);
    return i < 0 ? cols.length : i;
  };
  const k = Math.min(firstStar(left), firstStar(right));
  const out: OutCol[] = left.slice(0, k).map((l, i) => ({ name: l.name, sources: uniqSources([...l.sources, ...right[i]!.sources]), derived: l.derived || right[i]!.derived, ...(l.guessed ? { guessed: true } : {}) }));
  const rest = [...left.slice(k), ...right.slice(k)];
  if (rest.length === 0) return out;
  const sources = uniqSources(rest.flatMap((c) => (c.starRel ? wholeRow(c.starRel) : c.sources)));
  out.push({ name: left[k]?.name ?? '*', sources, derived: rest.some((c) => c.derived), starRel: { alias: '', kind: 'opaque', sources, names: [] } });
  return out;
}

/** Add one FROM item to a scope; tables are recorded as reads. */
export function addFrom(item: Node, scope: Scope, ctx: Ctx): void {
  for (const [k, v] of Object.entries(item)) {
    if (!FROM_KEYS.has(k) && !isEmpty(v)) throw parseError(`FROM clause "${k}" is not supported`);
  }
  if (item.prefix && item.prefix !== 'lateral') throw parseError(`FROM prefix ${String(item.prefix)} is not supported`);
  if (isJoinGroup(item.expr)) return addJoinGroup(item, scope, ctx);
  const alias = splitAlias(item.as);
  if (alias.name) ctx.accounted.add(alias.name);
  const expr = item.expr as Node | undefined;
  let rel: Rel;
  if (item.table !== undefined && item.table !== null && !expr) {
    const name = identText(item.table);
    if (!name) throw parseError('table reference not understood');
    ctx.accounted.add(name);
    const cte = item.db ? undefined : findCte(scope, name);
    if (!cte && !item.db && laterCte(scope, name)) throw parseError(`"${name}" names a query later in its WITH RECURSIVE list; PostgreSQL reads that query, not the table: put it first, or write the table's schema`);
    if (cte) {
      rel = renameRel({ ...cte, alias: alias.name ?? name }, alias.columns);
    } else {
      const table = tableOf(item, ctx);
      ctx.reads.add(table);
      ctx.fromTables.set(table, (ctx.fromTables.get(table) ?? 0) + 1);
      // `users x(a, b)` renames columns by position; without a catalog any name may be any column.
      rel = alias.columns.length > 0
        ? { alias: alias.name ?? name, kind: 'opaque', sources: [{ table, column: '*' }], names: alias.columns, renamedTable: true }
        : { alias: alias.name ?? name, kind: 'table', table };
    }
  } else if (expr && (expr.ast || expr.type === 'select')) {
    const cols = nestedQuery(ctx, () => analyzeSelect((expr.ast as Node | undefined) ?? expr, scope, ctx));
    rel = renameRel({ alias: alias.name ?? '', kind: 'derived', cols }, alias.columns);
  } else if (expr) {
    const lin = lineage(expr, scope, ctx);
    // A function's rows are computed from its arguments (generate_series(1, length(email))).
    notePredicate(ctx, lin.sources, 'srf');
    const { names, exact } = functionColumns(expr, alias);
    rel = { alias: alias.name ?? '', kind: 'opaque', sources: lin.sources, names, ...(exact ? { exact } : {}) };
  } else {
    throw parseError('FROM item not understood');
  }
  scope.rels.push(rel);
  if (item.on) notePredicate(ctx, lineage(item.on, scope, ctx).sources, 'join');
  if (item.tablesample) notePredicate(ctx, lineage(item.tablesample, scope, ctx).sources, 'srf');
  joinReads(item, scope, ctx);
}

function isJoinGroup(expr: unknown): expr is Node & { expr: Node[] } {
  return !!expr && typeof expr === 'object' && (expr as Node).type === 'tables' && Array.isArray((expr as Node).expr);
}

/**
 * A parenthesised join, `(a JOIN b ON ...)` (PostgreSQL prints every join in a view definition
 * this way): its tables are in scope by their own names, as if written without the parentheses.
 * With an alias, `(a JOIN b) AS j` hides them behind j's merged columns, which is refused.
 */
function addJoinGroup(item: Node, scope: Scope, ctx: Ctx): void {
  if (!isEmpty(item.as) || !isEmpty(item.prefix) || !isEmpty(item.tablesample)) throw parseError('an aliased or prefixed parenthesised join is not supported; name the tables of the join instead');
  const group = item.expr as Node & { expr: Node[] };
  for (const [k, v] of Object.entries(group)) {
    if (!['type', 'expr', 'parentheses', 'loc'].includes(k) && !isEmpty(v)) throw parseError(`parenthesised join clause "${k}" is not supported`);
  }
  if (group.expr.length === 0) throw parseError('empty parenthesised join');
  for (const inner of group.expr) addFrom(inner, scope, ctx);
  if (item.on) notePredicate(ctx, lineage(item.on, scope, ctx).sources, 'join');
  joinReads(item, scope, ctx);
}

/**
 * PostgreSQL's limit on a target list (MaxTupleAttributeNumber). Why here: a `*` over a CTE or
 * subquery copies its columns, so `SELECT * FROM c x, c y` chains double them per level; beyond
 * what PostgreSQL would run, that is only analysis cost (2^16 columns from 500 characters). A
 * table's `*` counts as one entry, so the count never exceeds PostgreSQL's own.
 */
export const MAX_TARGET_LIST = 1664;

function tooWide(): never {
  throw parseError(`a select list of more than ${MAX_TARGET_LIST} columns is refused (PostgreSQL's target list limit)`);
}

/** Output columns of a select list (or RETURNING list), stars expanded where known. */
export function selectList(columns: unknown, scope: Scope, ctx: Ctx): OutCol[] {
  if (!Array.isArray(columns)) throw parseError('select list not understood');
  if (columns.length > MAX_TARGET_LIST) tooWide();
  const out: OutCol[] = [];
  for (const col of columns as Node[]) {
    if (out.length >= MAX_TARGET_LIST) tooWide();
    const expr = col.expr as Node | undefined;
    if (!expr) throw parseError('select list item not understood');
    if (expr.type === 'column_ref' && expr.column === '*') {
      const q = identText(expr.table);
      const rels = q ? [findRel(scope, q)] : scope.rels;
      for (const rel of rels) {
        if (!rel) throw parseError(`unknown table or alias "${String(q)}"`);
        if (out.length + (rel.kind === 'derived' ? rel.cols.length : 1) > MAX_TARGET_LIST) tooWide();
        noteRead(ctx, wholeRow(rel));
        if (rel.kind === 'derived') out.push(...rel.cols);
        else out.push({ name: '*', sources: wholeRow(rel), derived: false, starRel: rel });
      }
      continue;
    }
    const lin = lineage(expr, scope, ctx);
    const alias = identText(col.as);
    // Without an alias, only a column reference's name is sure to be PostgreSQL's (unqualified.ts).
    const guessed = !alias && expr.type !== 'column_ref';
    out.push({ name: alias ?? defaultName(expr), sources: lin.sources, derived: lin.derived, ...(guessed ? { guessed } : {}) });
  }
  return out;
}

function defaultName(expr: Node): string {
  switch (expr.type) {
    case 'column_ref': return identText(expr.column) ?? '?column?';
    case 'function': {
      const parts = (expr.name as Node | undefined)?.name;
      const last = Array.isArray(parts) ? identText(parts[parts.length - 1]) : null;
      return last ?? '?column?';
    }
    case 'aggr_func':
    case 'window_func': return String(expr.name).toLowerCase();
    case 'cast': return expr.expr ? defaultName(expr.expr as Node) : '?column?';
    default: return '?column?';
  }
}
