/**
 * Expression lineage: which base columns each expression draws from and whether it computes a
 * new value, with the functions it calls registered on the way. Column references resolve
 * through the scope chain (a qualified `q.col` must be a known column, see qualifiedColumn).
 * Subqueries go to the SELECT walker through lineageHooks (set by select.ts, which imports this
 * module, so the two do not import each other in a cycle).
 */
import { parseError } from '../../../src/tool-api.js';
import { type Ctx, type Lin, type OutCol, type Rel, type Scope, identText, namedColumn, noteCallArguments, notePredicate, noteRead, uniqSources, wholeRow } from './context.js';
import { COLUMN_FORM_FUNCTIONS, SYNTAX_PSEUDO_FUNCTIONS, isNeverUnderRead, sizingArguments } from './functions.js';
import { functionFactName } from './names.js';
import { trackRef, trackSubquery } from './predicate-refs.js';
import { constantText, isCurrentSetting, noteSettingCall } from './settings.js';
import { resolveUnqualified } from './unqualified.js';

type Node = Record<string, unknown>;

/** The SELECT walker for subqueries inside expressions (select.ts sets it to analyzeSelect when loaded). */
export const lineageHooks: { select: ((node: Node, parent: Scope | null, ctx: Ctx) => OutCol[]) | null } = { select: null };

/** Find a relation by alias through the scope chain. */
export function findRel(scope: Scope | null, alias: string): Rel | undefined {
  for (let s = scope; s; s = s.parent) {
    const r = s.rels.find((x) => x.alias === alias);
    if (r) return r;
  }
  return undefined;
}

/** Name of a function node as facts spell it, or null for SQL syntax pseudo-calls. */
export function functionName(node: Node): string | null {
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
    if (!lineageHooks.select) throw new Error('analysis/select.ts is not loaded');
    const select = lineageHooks.select;
    const cols = nestedQuery(ctx, () => select((o.ast as Node | undefined) ?? o, scope, ctx));
    const sources = uniqSources(cols.flatMap((c) => (c.starRel ? wholeRow(c.starRel) : c.sources)));
    trackSubquery(ctx, sources);
    return { sources, derived: cols.length !== 1 || cols[0]?.derived !== false || !!cols[0]?.starRel };
  }
  if (o.type === 'column_ref') {
    const read = columnRef(o, scope, ctx);
    trackColumnRef(o, scope, ctx, read);
    noteRead(ctx, read.sources);
    return read;
  }
  if (typeof o.type === 'string' && FUNCTION_TYPES.has(o.type)) {
    const name = functionName(o);
    if (name) {
      ctx.functions.add(name);
      if (isCurrentSetting(name)) noteSettingCall(ctx, o);
      if (!identText((o.name as Node | undefined)?.schema)) {
        ctx.unqualifiedFunctions.add(name);
        if (name.startsWith('pg_')) ctx.pgFunctions.add(name);
      }
    }
    const sizing = name ? sizingArguments(name, o.args, (n) => constantText(n, ctx)) : [];
    const parts = Object.entries(o).filter(([k]) => k !== 'name').map(([k, v]) => {
      if (k === 'args' && sizing !== 'all' && sizing.length) return sizedArguments(v, sizing, scope, ctx);
      const lin = lineage(v, scope, ctx);
      // An aggregate's FILTER and a window's PARTITION BY / ORDER BY decide what it computes.
      if (k === 'filter' || k === 'over') notePredicate(ctx, lin.sources, k === 'filter' ? 'filter' : 'window');
      // A set-returning function's arguments decide how many rows it adds, wherever it is called
      // (and pg_sleep's how long the statement takes).
      else if (sizing === 'all') notePredicate(ctx, lin.sources, 'srf');
      // A function outside pg_catalog may be set-returning too: only the catalog knows
      // (set-returning-calls.ts asks it when a masked column is among these).
      else if (name?.includes('.')) noteCallArguments(ctx, name, lin.sources);
      return lin;
    });
    return { ...merge(parts, true), derived: true };
  }
  const parts = Object.values(o).map((v) => lineage(v, scope, ctx));
  const literal = ['single_quote_string', 'number', 'bool', 'null', 'default', 'star', 'var', 'origin'].includes(String(o.type));
  return merge(parts, !literal);
}

/**
 * The arguments of a function one of which sizes its work (functions.ts sizingArguments): what
 * feeds the sizing ones is recorded at 'srf', as a set-returning function's arguments are. Named
 * arguments (`=>`), or a list with anything else in it, count as sizing all (fail closed).
 */
function sizedArguments(args: unknown, sizing: readonly number[], scope: Scope, ctx: Ctx): Lin {
  const o = args as Node | null;
  const plain = o?.type === 'expr_list' && Object.entries(o).every(([k, v]) => k === 'type' || k === 'value' || v === null || v === undefined);
  const list = plain ? o.value : null;
  if (!Array.isArray(list) || list.some((a) => (a as Node | null)?.type === 'func_arg')) {
    const lin = lineage(args, scope, ctx);
    notePredicate(ctx, lin.sources, 'srf');
    return lin;
  }
  const parts = list.map((a, i) => {
    const lin = lineage(a, scope, ctx);
    if (sizing.includes(i)) notePredicate(ctx, lin.sources, 'srf');
    return lin;
  });
  return merge(parts, parts.length > 1);
}

/** Run `walk` one query deeper (ctx.nested): a subquery's clauses are not the outermost query's. */
export function nestedQuery<T>(ctx: Ctx, walk: () => T): T {
  ctx.nested++;
  try {
    return walk();
  } finally {
    ctx.nested--;
  }
}

function merge(parts: Lin[], derived: boolean): Lin {
  return {
    sources: uniqSources(parts.flatMap((p) => p.sources)),
    derived: derived || parts.some((p) => p.derived),
  };
}

/** Tell an outermost conjunct's tracker (predicate-refs.ts) which relation and name a reference reads. */
function trackColumnRef(o: Node, scope: Scope, ctx: Ctx, read: Lin): void {
  if (!ctx.tracker) return;
  const q = identText(o.table);
  const col = o.column === '*' ? '*' : identText(o.column) ?? '';
  trackRef(ctx, scope, q ? findRel(scope, q) ?? null : null, col, read);
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
      if (isCurrentSetting(col)) noteSettingCall(ctx, null); // current_setting(u): no constant name
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
