/**
 * SELECT analysis: scopes, CTEs, FROM items, set operations and expression lineage.
 * Functions and tables are collected from every corner of the query (select list, FROM,
 * WHERE, GROUP BY, HAVING, ORDER BY, windows, subqueries, LATERAL, JOIN ON, CTE bodies).
 * Anything whose shape is not recognised is refused rather than skipped.
 */
import { parseError } from '../../../src/tool-api.js';
import {
  type Ctx, type Lin, type OutCol, type Rel, type Scope,
  childScope, findCte, identText, laterCte, joinReads, namedColumn, noteRead, splitAlias, tableOf, uniqSources, wholeRow,
} from './context.js';
import { COLUMN_FORM_FUNCTIONS, SYNTAX_PSEUDO_FUNCTIONS, isNeverUnderRead } from './functions.js';
import { functionFactName } from './names.js';
import { storeOutput } from './stored.js';
import { resolveUnqualified } from './unqualified.js';
import type { SourceColumn } from './types.js';

type Node = Record<string, unknown>;

/** Hook for data-modifying statements inside CTEs (set by statement.ts to avoid an import cycle). */
export const hooks: { statement: ((node: Node, scope: Scope, ctx: Ctx) => OutCol[]) | null } = { statement: null };

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

/** Analyse a SELECT (with its CTEs and set-operation branches) and return its output columns. */
export function analyzeSelect(node: Node, parent: Scope | null, ctx: Ctx): OutCol[] {
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
  if (Array.isArray(node.with)) addCtes(node.with as Node[], cteScope, ctx);
  const scope = childScope(cteScope);
  for (const item of (node.from as Node[] | null) ?? []) addFrom(item, scope, ctx);
  const into = node.into as Node | null;
  let intoTable: string | null = null;
  if (into && (into.expr || into.type)) {
    ctx.constructs.add('select_into');
    const target = identText(into.expr);
    if (!target) throw parseError('SELECT INTO target not understood');
    intoTable = tableOf({ table: target }, ctx);
    ctx.writes.add(intoTable);
  }
  for (const key of ['where', 'groupby', 'having', 'orderby', 'limit', 'window', 'distinct']) {
    if (node[key] !== undefined) lineage(node[key], scope, ctx);
  }
  let cols = selectList(node.columns, scope, ctx);
  if (node._next) cols = mergeBranches(cols, analyzeSelect(node._next as Node, cteScope, ctx));
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

/** Counter for the placeholder source of each recursive CTE's self-reference (see resolveSelf). */
let selfRefs = 0;

/**
 * A WITH list. Under RECURSIVE (which the parser marks on the first query only) every query of
 * the list may refer to itself, and PostgreSQL lets one name a query later in the list, which
 * it analyses first: `WITH RECURSIVE a AS (SELECT name FROM users), users AS (SELECT ssn AS
 * name FROM public.users)` reads the second `users`, not the table. Analysed in written order,
 * a later name is refused rather than taken for a table.
 */
function addCtes(ctes: Node[], scope: Scope, ctx: Ctx): void {
  const recursive = ctes.some((c) => c.recursive);
  ctes.forEach((cte, i) => {
    scope.later = recursive ? new Set(ctes.slice(i + 1).map((c) => identText(c.name)).filter((n): n is string => !!n)) : undefined;
    addCte(cte, scope, ctx, recursive);
  });
  scope.later = undefined;
}

function addCte(cte: Node, scope: Scope, ctx: Ctx, recursive: boolean): void {
  const name = identText(cte.name);
  if (!name) throw parseError('CTE name not understood');
  ctx.accounted.add(name);
  const stmt = cte.stmt as Node | undefined;
  if (!stmt) throw parseError('CTE body not understood');
  const body = (stmt.ast as Node | undefined) ?? stmt;
  const renames = Array.isArray(cte.columns) ? (cte.columns as unknown[]).map((c) => identText(c)) : [];
  const self: SourceColumn | null = recursive ? { table: `\u0000self-reference ${++selfRefs}`, column: '*' } : null;
  if (self) scope.ctes.set(name, { alias: name, kind: 'opaque', sources: [self], names: renames.length ? renames.filter((n): n is string => !!n) : firstTermNames(body) });
  if (body.type !== 'select') ctx.constructs.add('data_modifying_cte');
  const cols = analyzeSelect(body, scope, ctx);
  scope.ctes.set(name, renameRel({ alias: name, kind: 'derived', cols: self ? resolveSelf(cols, self) : cols }, renames));
}

/**
 * A recursive CTE's rows re-enter it through its self-reference, and the recursive term may put
 * any column of an earlier row into any column: wherever the placeholder `self` reached, it
 * stands for every source the CTE's columns draw from (one step reaches the fixpoint).
 */
function resolveSelf(cols: OutCol[], self: SourceColumn): OutCol[] {
  const isSelf = (s: SourceColumn): boolean => s.table === self.table;
  const all = uniqSources(cols.flatMap((c) => (c.starRel ? wholeRow(c.starRel) : c.sources)).filter((s) => !isSelf(s)));
  const swap = (list: SourceColumn[]): SourceColumn[] => uniqSources([...list.filter((s) => !isSelf(s)), ...all]);
  return cols.map((c) => {
    if (c.starRel?.kind === 'opaque' && c.starRel.sources.some(isSelf)) {
      const sources = swap(c.starRel.sources);
      return { ...c, sources, starRel: { ...c.starRel, sources } };
    }
    return c.sources.some(isSelf) ? { ...c, sources: swap(c.sources) } : c;
  });
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
      // `users x(a, b)` renames columns by position; without a catalog any name may be any column.
      rel = alias.columns.length > 0
        ? { alias: alias.name ?? name, kind: 'opaque', sources: [{ table, column: '*' }], names: alias.columns, renamedTable: true }
        : { alias: alias.name ?? name, kind: 'table', table };
    }
  } else if (expr && (expr.ast || expr.type === 'select')) {
    const cols = analyzeSelect((expr.ast as Node | undefined) ?? expr, scope, ctx);
    rel = renameRel({ alias: alias.name ?? '', kind: 'derived', cols }, alias.columns);
  } else if (expr) {
    const lin = lineage(expr, scope, ctx);
    rel = { alias: alias.name ?? '', kind: 'opaque', sources: lin.sources, names: functionSourceNames(expr, alias) };
  } else {
    throw parseError('FROM item not understood');
  }
  scope.rels.push(rel);
  if (item.on) lineage(item.on, scope, ctx);
  if (item.tablesample) lineage(item.tablesample, scope, ctx);
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
  if (item.on) lineage(item.on, scope, ctx);
  joinReads(item, scope, ctx);
}

/** Apply positional column aliases; with an unexpanded star, positions are unknown: whole row. */
function renameRel(rel: Rel, names: (string | null | undefined)[]): Rel {
  if (names.length === 0 || rel.kind !== 'derived') return rel;
  if (rel.cols.some((c) => c.starRel)) return { alias: rel.alias, kind: 'opaque', sources: wholeRow(rel), names: names.filter((n): n is string => !!n) };
  return { ...rel, cols: rel.cols.map((c, i) => (names[i] ? { ...c, name: names[i] as string, guessed: false } : c)) };
}

/** Find a relation by alias through the scope chain. */
export function findRel(scope: Scope | null, alias: string): Rel | undefined {
  for (let s = scope; s; s = s.parent) {
    const r = s.rels.find((x) => x.alias === alias);
    if (r) return r;
  }
  return undefined;
}

/** Output columns of a select list (or RETURNING list), stars expanded where known. */
export function selectList(columns: unknown, scope: Scope, ctx: Ctx): OutCol[] {
  if (!Array.isArray(columns)) throw parseError('select list not understood');
  const out: OutCol[] = [];
  for (const col of columns as Node[]) {
    const expr = col.expr as Node | undefined;
    if (!expr) throw parseError('select list item not understood');
    if (expr.type === 'column_ref' && expr.column === '*') {
      const q = identText(expr.table);
      const rels = q ? [findRel(scope, q)] : scope.rels;
      for (const rel of rels) {
        if (!rel) throw parseError(`unknown table or alias "${String(q)}"`);
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

/** Name of a function node as facts spell it, or null for SQL syntax pseudo-calls. */
function functionName(node: Node): string | null {
  if (node.type === 'aggr_func' || node.type === 'window_func') return String(node.name).toLowerCase();
  if (node.type === 'extract') return 'extract';
  const nameNode = node.name as Node | undefined;
  const parts = Array.isArray(nameNode?.name) ? (nameNode?.name as unknown[]).map(identText) : [];
  if (parts.length === 0 || parts.some((p) => !p)) throw parseError('function name not understood');
  const name = parts.join('.');
  if (!nameNode?.schema && SYNTAX_PSEUDO_FUNCTIONS.has(name)) return null;
  return functionFactName(identText(nameNode?.schema), name);
}

const FUNCTION_TYPES = new Set(['function', 'aggr_func', 'window_func', 'extract']);

/** Lineage of any expression; registers functions and analyses nested subqueries on the way. */
export function lineage(node: unknown, scope: Scope, ctx: Ctx): Lin {
  if (node === null || typeof node !== 'object') return { sources: [], derived: false };
  if (Array.isArray(node)) return merge(node.map((n) => lineage(n, scope, ctx)), node.length > 1);
  const o = node as Node;
  if (o.ast || o.type === 'select') {
    const cols = analyzeSelect((o.ast as Node | undefined) ?? o, scope, ctx);
    const sources = uniqSources(cols.flatMap((c) => (c.starRel ? wholeRow(c.starRel) : c.sources)));
    return { sources, derived: cols.length !== 1 || cols[0]?.derived !== false || !!cols[0]?.starRel };
  }
  if (o.type === 'column_ref') {
    const read = columnRef(o, scope, ctx);
    noteRead(ctx, read.sources);
    return read;
  }
  if (typeof o.type === 'string' && FUNCTION_TYPES.has(o.type)) {
    const name = functionName(o);
    if (name) {
      ctx.functions.add(name);
      if (!identText((o.name as Node | undefined)?.schema)) {
        ctx.unqualifiedFunctions.add(name);
        if (name.startsWith('pg_')) ctx.pgFunctions.add(name);
      }
    }
    const parts = Object.entries(o).filter(([k]) => k !== 'name').map(([, v]) => lineage(v, scope, ctx));
    return { ...merge(parts, true), derived: true };
  }
  const parts = Object.values(o).map((v) => lineage(v, scope, ctx));
  const literal = ['single_quote_string', 'number', 'bool', 'null', 'default', 'star', 'var', 'origin'].includes(String(o.type));
  return merge(parts, !literal);
}

function merge(parts: Lin[], derived: boolean): Lin {
  return {
    sources: uniqSources(parts.flatMap((p) => p.sources)),
    derived: derived || parts.some((p) => p.derived),
  };
}

function columnRef(o: Node, scope: Scope, ctx: Ctx): Lin {
  if (o.schema) throw parseError('three-part column references are refused');
  const col = o.column === '*' ? '*' : identText(o.column);
  if (!col) throw parseError('column reference not understood');
  const q = identText(o.table);
  if (q) {
    const rel = findRel(scope, q);
    if (!rel) throw parseError(`unknown table or alias "${q}"`);
    if (col === '*') return { sources: wholeRow(rel), derived: false };
    if (COLUMN_FORM_FUNCTIONS.has(col) || isNeverUnderRead(col)) {
      // PostgreSQL reads `u.f` as `f(u)` when u has no column f: the whole row flows into f.
      ctx.functions.add(col);
      ctx.unqualifiedFunctions.add(col);
      if (col.startsWith('pg_')) ctx.pgFunctions.add(col);
      ctx.constructs.add('column_form_call');
      return { sources: wholeRow(rel), derived: true };
    }
    const found = qualifiedColumn(rel, q, col, ctx);
    if (!found) throw parseError(`column "${q}.${col}" not found`);
    return found;
  }
  const found = resolveUnqualified(scope, col);
  if (found) return found;
  // Unresolved (e.g. an output alias in ORDER BY): assume it may carry anything in scope.
  for (let s: Scope | null = scope; s; s = s.parent) {
    if (s.rels.length > 0) return { sources: uniqSources(s.rels.flatMap(wholeRow)), derived: true };
  }
  return { sources: [], derived: false };
}

/**
 * `q.col`: PostgreSQL reads it as a column of q when q has one, and otherwise as the call
 * `col(q)` (functional notation), which runs any one-argument function on q's row or value:
 * `t.ts_stat` over `lower('SELECT ... FROM secrets') t` runs that text; `u.json_agg` aggregates
 * whole rows past column masking. So a qualified name must be a known column: a derived
 * relation's own output names, a function source's declared columns, or (base tables, whose
 * columns only the catalog knows) a name recorded in ctx.qualified, which the executor checks
 * against the catalog before the statement runs (query-database.ts).
 */
function qualifiedColumn(rel: Rel, q: string, col: string, ctx: Ctx): Lin | null {
  if (rel.kind === 'table') {
    ctx.qualified.set(`${rel.table}\u0000${col}`, { table: rel.table, column: col });
    return { sources: [{ table: rel.table, column: col }], derived: false };
  }
  if (rel.kind === 'opaque') {
    if (!rel.names.includes(col)) {
      throw parseError(`"${q}.${col}" is not a known column of ${q}, and PostgreSQL would read it as the call ${col}(${q}); name the columns with AS ${q}(a, b, ...) and refer to those`);
    }
    return { sources: rel.sources, derived: true };
  }
  const named = namedColumn(rel, col);
  if (named) return named;
  const stars = rel.cols.filter((c) => c.starRel);
  if (stars.length === 0) return null;
  if (stars.length > 1) throw parseError(`"${q}.${col}" comes through more than one *; list the columns in the subquery instead`);
  return qualifiedColumn(stars[0]!.starRel!, q, col, ctx);
}

/** Output columns of set-returning functions that return a fixed row type. */
const SRF_COLUMNS: Record<string, readonly string[]> = {
  json_each: ['key', 'value'],
  jsonb_each: ['key', 'value'],
  json_each_text: ['key', 'value'],
  jsonb_each_text: ['key', 'value'],
};

/**
 * Column names of a function in FROM: the alias's column list when given; else a known row
 * type's columns; else the one column a scalar function yields, named by the alias (or by the
 * function when there is none).
 */
function functionSourceNames(expr: Node, alias: { name: string | null; columns: string[] }): readonly string[] {
  if (alias.columns.length > 0) return alias.columns;
  const fn = functionName(expr);
  const bare = fn ? fn.slice(fn.lastIndexOf('.') + 1) : null;
  const known = bare ? SRF_COLUMNS[bare] : undefined;
  if (known) return known;
  return [alias.name ?? bare ?? ''].filter(Boolean);
}

/** Output names of a recursive CTE's first (non-recursive) term, to resolve `cte.col` in its body. */
function firstTermNames(body: Node): string[] {
  const cols = Array.isArray(body.columns) ? (body.columns as Node[]) : [];
  const names: string[] = [];
  for (const c of cols) {
    const as = identText(c.as);
    const expr = c.expr as Node | undefined;
    const name = as ?? (expr?.type === 'column_ref' ? identText(expr.column) : null);
    if (name && name !== '*') names.push(name);
  }
  return names;
}
