/**
 * Shared state of one analysis: what has been seen so far, and the scope model used to resolve
 * column references to base tables (lineage). Kept separate so select and statement walkers
 * can both use it without importing each other in a cycle.
 */
import { parseError } from '../../../src/tool-api.js';
import type { PredicateColumn, PredicatePlace, SetSize, SourceColumn, StoredLineage } from './types.js';
import { qualifyTable } from './names.js';

/** Accumulated facts while walking one statement. */
export interface Ctx {
  kinds: Set<string>;
  reads: Set<string>;
  writes: Set<string>;
  functions: Set<string>;
  constructs: Set<string>;
  /** SqlFacts.validatedConstraints, keyed by table and name. */
  validates: Map<string, { table: string; name: string }>;
  /** Names the lexer may see right before '(' that the AST accounts for (tables, aliases, CTEs). */
  accounted: Set<string>;
  literals: string[];
  /** By the same index as literals, the text PostgreSQL reads for each, or null (lexer.ts literalText). */
  literalTexts: (string | null)[];
  /** Settings read through current_setting(), as SqlFacts.settings spells them (analysis/settings.ts). */
  settings: (string | null)[];
  /** Base-table columns named through a qualifier (`u.x`), keyed table NUL column; see SqlFacts.qualifiedColumns. */
  qualified: Map<string, SourceColumn>;
  /** Base-table columns read anywhere, '*' for a whole row, keyed table NUL column; see SqlFacts.readColumns. */
  read: Map<string, SourceColumn>;
  /** Unqualified `pg_*` relation names reported in pg_catalog; see SqlFacts.unqualifiedPgRelations. */
  pgRelations: Set<string>;
  /** Unqualified `pg_*` function names; see SqlFacts.unqualifiedPgFunctions. */
  pgFunctions: Set<string>;
  /** Every function called without a schema; see SqlFacts.unqualifiedFunctions. */
  unqualifiedFunctions: Set<string>;
  /** Columns fed to functions outside pg_catalog, by function then table NUL column; see SqlFacts.qualifiedFunctionArguments. */
  calls: Map<string, Map<string, SourceColumn>>;
  /** Values written into tables, in the order met; see SqlFacts.stored (analysis/stored.ts). */
  stored: StoredLineage[];
  /** Columns written, '*' for the whole row, keyed table NUL column; see SqlFacts.writtenColumns (noteWrite). */
  written: Map<string, SourceColumn>;
  /** What an UPDATE's (or DO UPDATE's) SET items write, as sized; see SqlFacts.setSizes (written-columns.ts). */
  setSizes: SetSize[];
  /** Columns predicates use, by place, keyed place NUL table NUL column; see SqlFacts.predicateColumns (predicate-refs.ts). */
  predicates: Map<string, PredicateColumn>;
  /** How many queries deep the walk is: 0 in the statement's own query (and its set-operation branches). */
  nested: number;
  /** While one outermost WHERE conjunct (or ORDER BY, GROUP BY item) is walked, the references it makes (predicate-refs.ts). */
  tracker: RefTracker | null;
  /** Ids of the relations outermost row filters name (PredicateColumn.row), in the order met. */
  rowIds: Map<Rel, number>;
  /** How many FROM items read each table, anywhere in the statement; see SqlFacts.selfJoined. */
  fromTables: Map<string, number>;
  /**
   * While the branches of an outermost UNION that each select the same plain columns of one
   * table are walked (predicates.ts sameRowsUnion): the first branch's relation, whose row id
   * the others' share, since together they filter that table's rows as one query with OR would.
   */
  unionRows: { first: Rel | null } | null;
  /**
   * Uses of a WITH RECURSIVE self-reference (SELF_REFERENCE placeholders) as a predicate or a
   * function argument, by placeholder table, replayed by cte.ts with the sources the placeholder
   * stands for once the query's columns are known: the recursive term's `WHERE n < ascii(e)`
   * decides how many times it runs, a count computed from what `e` carries.
   */
  selfUses: Map<string, ((sources: SourceColumn[]) => void)[]>;
}

/** Table of the placeholder source a recursive CTE's self-reference carries (cte.ts). */
export const SELF_REFERENCE = '\u0000self-reference ';

/** Keep a use of a self-reference placeholder for cte.ts to replay (Ctx.selfUses); false for any other source. */
function deferSelfUse(ctx: Ctx, column: SourceColumn, replay: (sources: SourceColumn[]) => void): boolean {
  if (!column.table.startsWith(SELF_REFERENCE)) return false;
  ctx.selfUses.set(column.table, [...(ctx.selfUses.get(column.table) ?? []), replay]);
  return true;
}

/** The column references an outermost conjunct makes to its query's relations, and the values subqueries feed it. */
export interface RefTracker {
  scope: Scope;
  /** Each reference: the relations of `scope` it may name, whether its value is computed, and a key for the name. */
  refs: { rels: Rel[]; derived: boolean; key: string }[];
  /** Sources that reach the conjunct through a subquery's output. */
  viaSubquery: SourceColumn[];
}

/** Create an empty context for one statement. */
export function newCtx(literals: string[], literalTexts: (string | null)[] = []): Ctx {
  return {
    kinds: new Set(), reads: new Set(), writes: new Set(), functions: new Set(),
    constructs: new Set(), validates: new Map(), accounted: new Set(), literals, literalTexts, settings: [], qualified: new Map(), read: new Map(),
    pgRelations: new Set(), pgFunctions: new Set(), unqualifiedFunctions: new Set(), calls: new Map(), stored: [], written: new Map(), setSizes: [],
    predicates: new Map(), nested: 0, tracker: null, rowIds: new Map(), fromTables: new Map(), unionRows: null, selfUses: new Map(),
  };
}

/** One output column while analysing; `starRel` marks an unexpanded `*` over that relation. */
export interface OutCol {
  name: string;
  /** The name is the analyser's guess for an unaliased expression; PostgreSQL's may differ (unqualified.ts). */
  guessed?: boolean;
  sources: SourceColumn[];
  derived: boolean;
  starRel?: Rel;
}

/** A relation visible in a FROM scope. */
export type Rel =
  | { alias: string; kind: 'table'; table: string }
  | { alias: string; kind: 'derived'; cols: OutCol[] }
  | {
      alias: string; kind: 'opaque'; sources: SourceColumn[]; names: readonly string[]; renamedTable?: true;
      /** `names` are all its columns (a built-in function in FROM of a known row shape, select.ts functionColumns): no other name is its. */
      exact?: true;
    };

/** A FROM scope with its CTEs, chained to the enclosing query for correlated references. */
export interface Scope {
  rels: Rel[];
  ctes: Map<string, Rel>;
  parent: Scope | null;
  /** While a WITH RECURSIVE query is analysed, the names of the queries after it in the list. */
  later?: Set<string> | undefined;
}

/** Open a scope nested in `parent`. */
export function childScope(parent: Scope | null): Scope {
  return { rels: [], ctes: new Map(), parent };
}

/** Find a CTE by name through the scope chain. */
export function findCte(scope: Scope | null, name: string): Rel | undefined {
  for (let s = scope; s; s = s.parent) {
    const r = s.ctes.get(name);
    if (r) return r;
  }
  return undefined;
}

/** Whether `name`, not found as a CTE, is a query later in an enclosing WITH RECURSIVE list. */
export function laterCte(scope: Scope | null, name: string): boolean {
  for (let s = scope; s; s = s.parent) if (s.later?.has(name)) return true;
  return false;
}

/** De-duplicate source columns. */
export function uniqSources(list: SourceColumn[]): SourceColumn[] {
  const seen = new Map<string, SourceColumn>();
  for (const s of list) seen.set(`${s.table}\u0000${s.column}`, s);
  return [...seen.values()];
}

/** Note columns as read (SqlFacts.readColumns); placeholders (a recursive CTE's self-reference) are skipped. */
export function noteRead(ctx: Ctx, sources: readonly SourceColumn[]): void {
  for (const s of sources) if (!s.table.startsWith('\u0000')) ctx.read.set(`${s.table}\u0000${s.column}`, s);
}

/**
 * Note a write of `table` (SqlFacts.writes) and of the columns it writes (SqlFacts.writtenColumns):
 * the columns named, or '*' when the statement writes (or may write) the whole row. Every write
 * goes through here; a table in `writes` with no column noted counts as written whole (index.ts).
 */
export function noteWrite(ctx: Ctx, table: string, columns: readonly string[] | '*'): void {
  ctx.writes.add(table);
  for (const column of columns === '*' ? ['*'] : columns) ctx.written.set(`${table}\u0000${column}`, { table, column });
}

/** Every base column that flows out of a relation when its whole row is referenced. */
export function wholeRow(rel: Rel): SourceColumn[] {
  if (rel.kind === 'table') return [{ table: rel.table, column: '*' }];
  if (rel.kind === 'opaque') return rel.sources;
  return uniqSources(rel.cols.flatMap((c) => (c.starRel ? wholeRow(c.starRel) : c.sources)));
}

/** Apply positional column aliases; with an unexpanded star, positions are unknown: whole row. */
export function renameRel(rel: Rel, names: (string | null | undefined)[]): Rel {
  if (names.length === 0 || rel.kind !== 'derived') return rel;
  if (rel.cols.some((c) => c.starRel)) return { alias: rel.alias, kind: 'opaque', sources: wholeRow(rel), names: names.filter((n): n is string => !!n) };
  return { ...rel, cols: rel.cols.map((c, i) => (names[i] ? { ...c, name: names[i] as string, guessed: false } : c)) };
}

/** Lineage of one value: base columns and whether it was computed. */
export interface Lin {
  sources: SourceColumn[];
  derived: boolean;
}

/** Lineage of the output columns a derived relation names `name` itself (not through a `*`), or null. */
export function namedColumn(rel: Extract<Rel, { kind: 'derived' }>, name: string): Lin | null {
  const named = rel.cols.filter((c) => !c.starRel && c.name === name);
  return named.length > 0 ? { sources: uniqSources(named.flatMap((c) => c.sources)), derived: named.some((c) => c.derived) } : null;
}

/** Lineage of column `name` of a relation, or null when the relation cannot have it. */
export function lookupColumn(rel: Rel, name: string): Lin | null {
  if (rel.kind === 'table') return { sources: [{ table: rel.table, column: name }], derived: false };
  if (rel.kind === 'opaque') return { sources: rel.sources, derived: true };
  const named = namedColumn(rel, name);
  if (named) return named;
  if (!rel.cols.some((c) => c.starRel)) return null;
  const viaStar = rel.cols.flatMap((c) => (c.starRel ? [lookupColumn(c.starRel, name)] : []));
  return {
    sources: uniqSources(viaStar.flatMap((l) => l?.sources ?? [])),
    derived: viaStar.some((l) => l?.derived === true),
  };
}

/** Text of an identifier-ish AST value: a string, {value}, or {expr:{value}}. */
export function identText(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    if (typeof o.value === 'string') return o.value;
    if (o.expr) return identText(o.expr);
    if (o.type === 'column_ref' && o.column) return identText(o.column);
  }
  return null;
}

/**
 * Normalised table name of a FROM/target entry {db, schema, table}; three-part names are refused.
 * An unqualified `pg_*` name is reported in pg_catalog and noted in ctx.pgRelations: PostgreSQL
 * falls back to public.pg_* when pg_catalog has no such relation, so the executor checks it.
 */
export function tableOf(entry: Record<string, unknown>, ctx: Ctx): string {
  const table = identText(entry.table);
  if (!table) throw parseError('table reference not understood');
  if (entry.schema) throw parseError('cross-database (three-part) table names are refused');
  const db = identText(entry.db);
  // Facts join schema and table with '.', so a name part holding a '.' ("a.b") could not be told
  // apart from a qualified name (policies and the catalog lookups split on it): refused.
  for (const part of [db, table]) {
    if (part?.includes('.')) throw parseError(`the table or schema name "${part}" contains ".", which cannot be told apart from a qualified name; refused`);
  }
  if (!db && table.startsWith('pg_')) ctx.pgRelations.add(table);
  return qualifyTable(db, table);
}

/** Split an alias like `g(a, b)` into name and column aliases. */
export function splitAlias(as: unknown): { name: string | null; columns: string[] } {
  const text = identText(as);
  if (!text) return { name: null, columns: [] };
  const m = /^([^()]+)\((.*)\)$/.exec(text);
  if (!m) return { name: text, columns: [] };
  const cols = (m[2] as string).split(',').map((c) => c.trim().split(/\s+/)[0] ?? '').filter(Boolean);
  // Unquoted names fold to lower case, as PostgreSQL folds them; quoted ones keep their case.
  return { name: (m[1] as string).trim(), columns: cols.map((c) => (c.startsWith('"') ? c.replace(/^"|"$/g, '') : c.toLowerCase())) };
}

/** Literal text behind a placeholder `wlitN`, when the AST value is one. */
export function literalValue(ctx: Ctx, v: unknown): string | null {
  const t = identText(v);
  const m = t ? /^wlit(\d+)$/.exec(t) : null;
  return m ? ctx.literals[Number(m[1])] ?? null : null;
}

/** Note columns a predicate uses at `where` (SqlFacts.predicateColumns); placeholders are skipped as in noteRead, a self-reference's kept for cte.ts. */
export function notePredicate(ctx: Ctx, sources: readonly SourceColumn[], where: PredicatePlace, row?: string): void {
  for (const column of sources) {
    if (deferSelfUse(ctx, column, (real) => notePredicate(ctx, real, where, row))) continue;
    if (column.table.startsWith('\u0000')) continue;
    ctx.predicates.set(`${where}\u0000${column.table}\u0000${column.column}\u0000${row ?? ''}`, { column, where, ...(row === undefined ? {} : { row }) });
  }
}

/** Note columns fed to a function outside pg_catalog (SqlFacts.qualifiedFunctionArguments); placeholders are skipped as in noteRead, a self-reference's kept for cte.ts. */
export function noteCallArguments(ctx: Ctx, name: string, sources: readonly SourceColumn[]): void {
  for (const column of sources) {
    if (deferSelfUse(ctx, column, (real) => noteCallArguments(ctx, name, real))) continue;
    if (column.table.startsWith('\u0000')) continue;
    const fed = ctx.calls.get(name) ?? new Map<string, SourceColumn>();
    ctx.calls.set(name, fed.set(`${column.table}\u0000${column.column}`, column));
  }
}

/**
 * Columns a join compares without naming a table (SqlFacts.readColumns, and predicateColumns
 * at 'join'): USING (a) reads a of every relation in scope that may have it; NATURAL JOIN, which
 * the parser reads as an alias `natural` before a join without ON, every column of every
 * relation in scope.
 */
export function joinReads(item: Record<string, unknown>, scope: Scope, ctx: Ctx): void {
  for (const u of Array.isArray(item.using) ? (item.using as unknown[]) : []) {
    const name = identText(u);
    if (!name) throw parseError('JOIN ... USING column not understood');
    for (const r of scope.rels) {
      const sources = lookupColumn(r, name)?.sources ?? [];
      noteRead(ctx, sources);
      notePredicate(ctx, sources, 'join');
    }
  }
  if (item.join && scope.rels.some((r) => r.alias.toLowerCase() === 'natural')) {
    for (const r of scope.rels) {
      noteRead(ctx, wholeRow(r));
      notePredicate(ctx, wholeRow(r), 'join');
    }
  }
}
