/**
 * SQL analysis entry point: text in, frozen SqlFacts out, or a WARDEN_PARSE error.
 * The lexer (PostgreSQL rules) decides statement boundaries and tokens; node-sql-parser only
 * sees the canonical re-rendering of those tokens (see lexer.ts for why).
 */
import { createRequire } from 'node:module';
import { WardenError, parseError, sealFacts } from '../../../src/tool-api.js';
import { type Ctx, type OutCol, type Scope, childScope, newCtx, noteCallArguments, uniqSources, wholeRow } from './context.js';
import { analyzeDdl } from './ddl.js';
import { functionKey } from './names.js';
import { READ_KINDS } from './kinds.js';
import { type Token, canonicalize, lex, splitStatements } from './lexer.js';
import { onlyRelations } from './only.js';
import { statementOperators } from './operators.js';
import { analyzeStatement } from './statement.js';
import { sortSettings } from './settings.js';
import { storeOutput } from './stored.js';
import { checkCastTypes } from './type-names.js';
import { analyzeUtility } from './utility.js';
import type { OutputColumnLineage, PredicateColumn, SourceColumn, SqlFacts } from './types.js';

export type { OutputColumnLineage, SourceColumn, SqlFacts, StoredLineage } from './types.js';
export { analyzeSqlCached, clearSqlCache } from './cache.js';
export { COLUMN_FORM_FUNCTIONS, NEVER_UNDER_READ, QUERY_TEXT_FUNCTIONS, SAFE_READ_FUNCTIONS, isNeverUnderRead, runsQueryText } from './functions.js';
export { functionKey, normalizePolicyTable, qualifyTable } from './names.js';
export { lex, splitStatements } from './lexer.js';

/**
 * node-sql-parser's PostgreSQL-only build, loaded with require: the package's main file bundles
 * every dialect (2.4 MB), and importing it as ESM makes Node lex all of it for its exports, about
 * 0.15 s of every `warden` start; this build is the same PostgreSQL grammar alone (0.3 MB). The
 * SQL tests and the attack corpus run against it. Loaded by the first statement analysed, not at
 * start: compiling it is about 40 ms of a stdio server's start, which every session pays and a
 * server without SQL calls never needs.
 */
let parser: InstanceType<typeof import('node-sql-parser').Parser> | null = null;
function sqlParser(): InstanceType<typeof import('node-sql-parser').Parser> {
  if (parser === null) {
    const { Parser } = createRequire(import.meta.url)('node-sql-parser/build/postgresql') as typeof import('node-sql-parser');
    parser = new Parser();
  }
  return parser;
}
/** node-sql-parser's name for the PostgreSQL grammar (its option is case-sensitive). */
const DIALECT = { database: 'PostgresQL' } as const;

/**
 * Constructs that make an otherwise read-only statement write, lock or escape. Not
 * explain_analyze: it runs its statement, which is read-only exactly when the statement is (its
 * kinds and constructs are the statement's), and on the write pool a function the grant lists
 * wrote and was committed where the read-only transaction of the same SELECT refused it.
 */
const NON_READ_CONSTRUCTS = new Set(['for_update', 'for_share', 'select_into', 'data_modifying_cte', 'lock', 'set', 'transaction', 'notification', 'ddl']);

/**
 * Names the lexer may see right before '(' without it being a function call (keywords, types,
 * syntax). Any other `name(` must be a call the AST reported, or the input is refused.
 */
const PAREN_KEYWORDS = new Set([
  'select', 'from', 'where', 'and', 'or', 'not', 'in', 'exists', 'any', 'all', 'some', 'values', 'as',
  'on', 'using', 'over', 'filter', 'within', 'row', 'array', 'cast', 'join', 'lateral', 'when', 'then',
  'else', 'case', 'by', 'group', 'having', 'limit', 'offset', 'returning', 'set', 'into', 'with', 'union',
  'intersect', 'except', 'distinct', 'is', 'like', 'ilike', 'between', 'interval', 'numeric', 'decimal',
  'varchar', 'char', 'character', 'varying', 'bit', 'timestamp', 'time', 'float', 'table', 'window',
  'partition', 'tablesample', 'recursive', 'materialized', 'default', 'key', 'references', 'unique',
  'check', 'index', 'returns', 'if', 'escape', 'rows', 'range', 'groups', 'to', 'at', 'for', 'only',
  'do', 'conflict', 'zone', 'like', 'similar', 'overlaps', 'primary', 'foreign', 'constraint',
]);

/** Analyse one SQL statement; throws WARDEN_PARSE when it is not fully understood. */
export function analyzeSql(sql: string): SqlFacts {
  if (typeof sql !== 'string') throw parseError('SQL must be a string');
  const tokens = lex(sql);
  const statements = splitStatements(tokens);
  if (statements.length === 0) throw parseError('empty SQL');
  if (statements.length > 1) throw parseError('more than one statement is refused; send one statement per call');
  const body = statements[0] as Token[];
  const ctx = newCtx([]);
  let output: OutCol[] = [];
  let topLevel = '';
  // Returns the statement's output columns ([] for utility statements and DDL).
  const analyzeTokens = (toks: Token[], top: boolean): OutCol[] => {
    if (toks.length === 0) throw parseError('empty statement');
    const before = new Set(ctx.kinds);
    let out: OutCol[] = [];
    const handled = analyzeUtility(toks, ctx, (inner) => void analyzeTokens(inner, false))
      || analyzeDdl(toks, ctx, { query: (inner) => analyzeTokens(inner, false), expression: (expr, into, rowsOf) => analyzeExpression(expr, ctx, into, rowsOf) });
    if (!handled) {
      out = parseAndAnalyze(toks, ctx);
      if (top) output = out;
    }
    if (top) topLevel = firstKind(toks, ctx, before);
    return out;
  };
  analyzeTokens(body, true);
  const kinds = [...ctx.kinds].sort();
  const constructs = [...ctx.constructs].sort();
  const readOnly = kinds.every((k) => READ_KINDS.has(k)) && !constructs.some((c) => NON_READ_CONSTRUCTS.has(c));
  // Lineage of the top-level SELECT, and of RETURNING lists too (they carry row data as well).
  const lineage: OutputColumnLineage[] = output.map((c) => ({
    name: c.name,
    sources: uniqSources(c.starRel ? wholeRow(c.starRel) : c.sources),
    derived: c.derived,
    ...(c.starRel ? { star: c.starRel.kind === 'table' || (c.starRel.kind === 'opaque' && c.starRel.renamedTable) ? 'table' : 'other' } : {}),
  }));
  const text = trimSql(sql, body);
  const facts: SqlFacts = {
    family: 'sql',
    summary: summarize(kinds, ctx),
    statements: kinds,
    topLevel,
    reads: [...ctx.reads].sort(),
    writes: [...ctx.writes].sort(),
    writtenColumns: writtenColumns(ctx),
    onlyRelations: onlyRelations(body),
    functions: [...ctx.functions].sort(),
    settings: sortSettings(ctx.settings),
    constructs,
    output: lineage,
    stored: ctx.stored,
    predicateColumns: predicateColumns(ctx),
    ...selfJoined(ctx),
    ...(ctx.validates.size ? { validatedConstraints: [...ctx.validates.values()] } : {}),
    ...(ctx.setSizes.length ? { setSizes: ctx.setSizes } : {}),
    hasStar: output.some((c) => c.starRel !== undefined),
    sql: text,
    readOnly,
    qualifiedColumns: sortColumns(ctx.qualified.values()),
    readColumns: sortColumns(ctx.read.values()),
    unqualifiedPgRelations: [...ctx.pgRelations].sort(),
    unqualifiedPgFunctions: [...ctx.pgFunctions].sort(),
    unqualifiedFunctions: [...ctx.unqualifiedFunctions].sort(),
    operators: statementOperators(body),
    qualifiedFunctionArguments: functionArguments(ctx),
  };
  return sealFacts(facts);
}

/** SqlFacts.writtenColumns: what noteWrite recorded; a written table with no column noted is written whole (fail closed). */
function writtenColumns(ctx: Ctx): SourceColumn[] {
  const noted = new Set([...ctx.written.values()].map((c) => c.table));
  const whole = [...ctx.writes].filter((t) => !noted.has(t)).map((table) => ({ table, column: '*' }));
  return sortColumns([...ctx.written.values(), ...whole]);
}

/** SqlFacts.selfJoined, present only when a table is read by more than one FROM item. */
function selfJoined(ctx: Ctx): { selfJoined?: string[] } {
  const tables = [...ctx.fromTables].filter(([, n]) => n > 1).map(([t]) => t).sort();
  return tables.length ? { selfJoined: tables } : {};
}

/** SqlFacts.predicateColumns: by table, column, then place. */
function predicateColumns(ctx: Ctx): PredicateColumn[] {
  const key = (p: PredicateColumn): string => `${p.column.table}\u0000${p.column.column}\u0000${p.where}\u0000${p.row ?? ''}`;
  return [...ctx.predicates.values()].sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

/** SqlFacts.qualifiedFunctionArguments: by function, each call's columns by table, then column. */
function functionArguments(ctx: Ctx): SqlFacts['qualifiedFunctionArguments'] {
  return [...ctx.calls].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, fed]) => ({ function: name, sources: sortColumns(fed.values()) }));
}

/** Columns by table, then column. */
function sortColumns(columns: Iterable<SourceColumn>): SourceColumn[] {
  return [...columns].sort((a, b) => (a.table === b.table ? (a.column < b.column ? -1 : 1) : a.table < b.table ? -1 : 1));
}

function firstKind(toks: Token[], ctx: Ctx, before: Set<string>): string {
  const word = toks[0]?.value ?? '';
  if (word === 'with' || word === 'select' || word === '(') return 'select';
  const added = [...ctx.kinds].filter((k) => !before.has(k));
  if (word === 'explain') return 'explain';
  const direct = added.find((k) => k === word);
  return direct ?? added[0] ?? word;
}

function parseAndAnalyze(toks: Token[], ctx: Ctx, scope: Scope = childScope(null)): OutCol[] {
  const canon = canonicalize(toks);
  const base = ctx.literals.length;
  ctx.literals.push(...canon.literals);
  ctx.literalTexts.push(...canon.texts);
  const text = base === 0 ? canon.text : canon.text.replace(/'wlit(\d+)'/g, (_, n: string) => `'wlit${Number(n) + base}'`);
  let ast: unknown;
  try {
    ast = sqlParser().astify(text, DIALECT);
  } catch (e) {
    if (e instanceof WardenError) throw e;
    const msg = e instanceof RangeError ? 'statement nested too deeply' : 'statement not understood by the SQL parser';
    throw parseError(msg, { reason: e instanceof Error ? e.message.slice(0, 200) : undefined });
  }
  const nodes = Array.isArray(ast) ? ast : [ast];
  if (nodes.length !== 1 || !nodes[0] || typeof nodes[0] !== 'object') throw parseError('expected exactly one statement');
  let out: OutCol[];
  try {
    out = analyzeStatement(nodes[0] as Record<string, unknown>, scope, ctx);
  } catch (e) {
    if (e instanceof WardenError) throw e;
    throw parseError(e instanceof RangeError ? 'statement nested too deeply' : 'statement not understood');
  }
  checkCalls(toks, ctx);
  checkCastTypes(toks);
  return out;
}

const synthetic = (kind: Token['kind'], value: string): Token => ({ kind, value, start: -1, end: -1 });

/**
 * One expression of a DDL statement (DEFAULT, CHECK, GENERATED, an index expression or
 * predicate, ALTER ... USING), analysed as `SELECT (expr)`: the same parser, function list and
 * `name(` check as any query, and the parentheses keep it one expression (`1 FROM t` fails).
 * PostgreSQL refuses subqueries in all of these, so one that reads or writes a table is refused.
 * With `into` (a generated column, ALTER ... USING), the expression reads the row of `into.table`:
 * its columns resolve there, and its lineage is stored into `into.column`. With `rowsOf` (an
 * ALTER TABLE's CHECK, an index expression or predicate), it is evaluated over that table's
 * existing rows: its columns resolve there too, and where it uses them (a length it sizes, a
 * duration) is recorded as the same expression in a query over the table would be
 * (SqlFacts.predicateColumns), so masks judge it alike: one failure is one bit about the rows.
 */
function analyzeExpression(toks: Token[], ctx: Ctx, into?: { table: string; column: string }, rowsOf?: string): void {
  if (toks.length === 0) throw parseError('an expression is missing');
  const sub = newCtx(ctx.literals, ctx.literalTexts);
  const scope = childScope(null);
  const rows = into?.table ?? rowsOf;
  if (rows) scope.rels.push({ alias: rows.slice(rows.indexOf('.') + 1), kind: 'table', table: rows });
  const out = parseAndAnalyze([synthetic('ident', 'select'), synthetic('punct', '('), ...toks, synthetic('punct', ')')], sub, scope);
  if (sub.reads.size > 0 || sub.writes.size > 0 || [...sub.kinds].some((k) => k !== 'select')) {
    throw parseError('an expression in a DDL statement may not read or write tables (PostgreSQL refuses subqueries there)');
  }
  for (const f of sub.functions) ctx.functions.add(f);
  for (const f of sub.pgFunctions) ctx.pgFunctions.add(f);
  for (const f of sub.unqualifiedFunctions) ctx.unqualifiedFunctions.add(f);
  for (const [name, fed] of sub.calls) noteCallArguments(ctx, name, [...fed.values()]);
  for (const c of sub.constructs) ctx.constructs.add(c);
  ctx.settings.push(...sub.settings);
  for (const [k, q] of sub.qualified) ctx.qualified.set(k, q);
  for (const [k, q] of sub.read) ctx.read.set(k, q);
  for (const [k, p] of sub.predicates) ctx.predicates.set(k, p);
  if (into) storeOutput(ctx, into.table, out, [into.column]);
}

/** Every `name(` the lexer sees must be a call the AST reported, a keyword, or a known name. */
function checkCalls(toks: Token[], ctx: Ctx): void {
  const known = new Set<string>([...ctx.accounted]);
  for (const f of ctx.functions) {
    const key = f.includes('.') ? f.slice(f.lastIndexOf('.') + 1) : f;
    known.add(key);
    known.add(functionKey(key));
  }
  for (let i = 0; i + 1 < toks.length; i++) {
    const t = toks[i] as Token;
    if ((t.kind === 'ident' || t.kind === 'qident') && toks[i + 1]?.value === '(' && toks[i + 1]?.kind === 'punct') {
      if (t.kind === 'ident' && PAREN_KEYWORDS.has(t.value)) continue;
      if (!known.has(t.value)) throw parseError(`"${t.value}(...)" was not understood as a function call`);
    }
  }
}

function trimSql(sql: string, body: Token[]): string {
  const first = body[0] as Token;
  const last = body[body.length - 1] as Token;
  // Keep comments inside the statement; drop surrounding whitespace/comments and the semicolon.
  return sql.slice(first.start, last.end).trim();
}

function summarize(kinds: string[], ctx: Ctx): string {
  const parts = [kinds.join('+') || 'statement'];
  if (ctx.reads.size) parts.push(`reads ${[...ctx.reads].sort().join(', ')}`);
  if (ctx.writes.size) parts.push(`writes ${[...ctx.writes].sort().join(', ')}`);
  if (ctx.functions.size) parts.push(`calls ${[...ctx.functions].sort().join(', ')}`);
  return parts.join('; ');
}

