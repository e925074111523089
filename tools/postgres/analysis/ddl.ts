/**
 * The common DDL, read by a grammar of our own (see ddl-cursor.ts for why): CREATE TABLE
 * (columns and constraints, or AS query), CREATE [UNIQUE] INDEX, CREATE VIEW, CREATE SCHEMA,
 * ALTER TABLE (ddl-alter.ts), DROP INDEX, COMMENT ON. Facts: the kind (create, alter, drop, comment), `writes`
 * the relation created or altered (for an index, the table it indexes; for DROP INDEX and
 * COMMENT ON INDEX, the index itself, whose table analysis cannot know), `reads` the tables a
 * query or REFERENCES reads, and the calls of every expression. Other DDL keeps its old path
 * (node-sql-parser, statement.ts); a shape this grammar does not know is refused.
 */
import { WardenError, parseError } from '../../../src/tool-api.js';
import { type Ctx, noteWrite, tableOf } from './context.js';
import { Cursor } from './ddl-cursor.js';
import { alterTable } from './ddl-alter.js';
import { type DdlHooks, columnDefinition, dropBehaviour, startsTableConstraint, tableConstraint, tableEntry } from './ddl-table.js';
import type { Token } from './lexer.js';
import { storeOutput, storeValue } from './stored.js';

export type { DdlHooks } from './ddl-table.js';

/** Words between CREATE [OR REPLACE] and the object kind. */
const CREATE_MODIFIERS = new Set(['temp', 'temporary', 'unlogged', 'global', 'local', 'unique', 'recursive', 'materialized']);
/** Object kinds whose CREATE this module reads. */
const CREATE_KINDS = new Set(['table', 'view', 'index', 'schema']);
/** Index access methods PostgreSQL ships. */
const INDEX_METHODS = new Set(['btree', 'hash', 'gist', 'spgist', 'gin', 'brin']);

const CONCURRENTLY = 'CONCURRENTLY cannot run inside a transaction block, and Warden runs every write in one (BEGIN ... COMMIT); leave CONCURRENTLY out';

/**
 * Analyse a DDL statement this module reads; false when it is not one (the caller parses it
 * otherwise). Throws WARDEN_PARSE on anything it recognises but cannot fully read.
 */
export function analyzeDdl(tokens: Token[], ctx: Ctx, hooks: DdlHooks): boolean {
  const c = new Cursor(tokens, statementName(tokens));
  if (c.is('create')) return create(c, ctx, hooks);
  if (c.is('alter') && c.is('table', 1)) alterTable(c, ctx, hooks);
  else if (c.is('drop') && c.is('index', 1)) dropIndex(c, ctx);
  else if (c.is('comment') && c.is('on', 1)) comment(c, ctx);
  else {
    if (c.is('drop') || c.is('truncate')) checkDropOrTruncate(c, tokens);
    return false;
  }
  return true;
}

/** What DROP may name on the general path: relations, whose names the facts can carry. */
const DROPPABLE = new Set(['table', 'view', 'sequence', 'materialized']);

/**
 * DROP and TRUNCATE go through the general parser, which cannot be trusted with what they touch
 * beyond the names they list: CASCADE drops or empties every dependent object (views, foreign
 * keys, referencing tables) that the statement does not name, so it is refused, as for DROP
 * INDEX and ALTER TABLE; DROP of a non-relation (TYPE, FUNCTION, SCHEMA, ...) has no table name
 * for a `write:` list to match (the parser reported DROP TYPE public.x as a write of
 * public.public), so it is refused too.
 */
function checkDropOrTruncate(c: Cursor, tokens: Token[]): void {
  if (tokens.some((t) => t.kind === 'ident' && t.value === 'cascade')) {
    c.fail('CASCADE drops or empties dependent objects the statement does not name, possibly other tables; name them explicitly');
  }
  if (c.is('drop') && !DROPPABLE.has(c.peek(1)?.kind === 'ident' ? c.peek(1)!.value : '')) {
    c.fail('DROP of this kind of object is not supported (DROP TABLE, VIEW, MATERIALIZED VIEW, SEQUENCE and INDEX are)');
  }
}

/**
 * The refusal for an unqualified created name. Warden pins search_path to pg_catalog, public,
 * pg_temp, so PostgreSQL would create the object in pg_catalog and answer "permission denied";
 * facts would have named public. The agent is told the spelling that works.
 */
export function unqualifiedCreate(kind: string, name: string): WardenError {
  const shown = /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name}"`;
  return parseError(
    `CREATE ${kind} ${shown}: write the schema (public.${shown}); an unqualified name would be created in pg_catalog, the first schema of the search_path Warden pins, where PostgreSQL refuses it`,
    { reason: 'unqualified created name' },
  );
}

function statementName(tokens: Token[]): string {
  const words: string[] = [];
  for (const t of tokens.slice(0, 4)) {
    if (t.kind !== 'ident' || (words.length > 0 && !['or', 'replace', 'table', 'view', 'index', 'schema', 'on', ...CREATE_MODIFIERS].includes(t.value))) break;
    words.push(t.value.toUpperCase());
  }
  return words.join(' ');
}

/** The relation a CREATE makes: qualified, or a temporary one (always in pg_temp). */
function createdName(kind: string, parts: string[], temp: boolean, ctx: Ctx): string {
  if (parts.length > 1) return tableOf(tableEntry(parts), ctx);
  const qualified = tableOf({ db: temp ? 'pg_temp' : 'public', table: parts[0] }, ctx); // refuses a name holding '.' first
  if (!temp) throw unqualifiedCreate(kind, parts[0] as string);
  return qualified;
}

function create(c: Cursor, ctx: Ctx, hooks: DdlHooks): boolean {
  let k = 1;
  const replace = c.is('or', k) && c.is('replace', k + 1);
  if (replace) k += 2;
  const mods: string[] = [];
  for (let t = c.peek(k); t?.kind === 'ident' && CREATE_MODIFIERS.has(t.value); t = c.peek(++k)) mods.push(t.value);
  const kindToken = c.peek(k);
  const kind = kindToken?.kind === 'ident' && CREATE_KINDS.has(kindToken.value) ? kindToken.value : null;
  if (!kind) return false;
  c.i = k + 1;
  const temp = mods.some((m) => m === 'temp' || m === 'temporary');
  const allowed: Record<string, string[]> = { table: ['temp', 'temporary', 'unlogged'], view: ['temp', 'temporary'], index: ['unique'], schema: [] };
  const odd = mods.find((m) => !allowed[kind]?.includes(m));
  if (odd === 'recursive') c.fail('not supported; write CREATE VIEW ... AS WITH RECURSIVE ... instead');
  if (odd || mods.length > 1 || (replace && kind !== 'view')) c.fail('this form is not supported');
  ctx.kinds.add('create');
  ctx.constructs.add('ddl');
  ctx.constructs.add(`create_${kind}`);
  if (kind === 'table') createTable(c, temp, ctx, hooks);
  else if (kind === 'view') createView(c, temp, ctx, hooks);
  else if (kind === 'index') createIndex(c, ctx, hooks);
  else createSchema(c);
  return true;
}

function createTable(c: Cursor, temp: boolean, ctx: Ctx, hooks: DdlHooks): void {
  c.accept('if', 'not', 'exists');
  const table = createdName('TABLE', c.qname(), temp, ctx);
  noteWrite(ctx, table, '*');
  let names: string[] | null = null;
  if (c.isPunct('(')) {
    const elements = new Cursor(c.group(), c.what);
    if (c.is('as')) {
      // CREATE TABLE t (a, b) AS query: the list only names the query's columns.
      names = elements.names();
    } else {
      if (elements.done) c.fail('a table needs at least one column');
      do {
        if (elements.is('like')) elements.fail('LIKE is not supported (it copies defaults and constraints the statement does not show)');
        if (startsTableConstraint(elements)) tableConstraint(elements, ctx, hooks, table);
        else columnDefinition(elements, ctx, hooks, table);
      } while (elements.acceptPunct(','));
      elements.end('unexpected text in the column list');
      c.end('options after the column list (WITH, INHERITS, PARTITION BY, TABLESPACE, ON COMMIT...) are not supported');
      return;
    }
  }
  c.expect('as');
  // The query's rows are stored in the new table (WITH NO DATA stores none, but the statement is
  // judged as written: one word away from WITH DATA).
  const cols = hooks.query(query(c, [['with', 'data'], ['with', 'no', 'data']]));
  // Columns the list does not name keep the query's names.
  storeOutput(ctx, table, cols, names ? cols.map((col, i) => names![i] ?? col.name) : 'output');
}

function createView(c: Cursor, temp: boolean, ctx: Ctx, hooks: DdlHooks): void {
  noteWrite(ctx, createdName('VIEW', c.qname(), temp, ctx), '*');
  if (c.isPunct('(')) c.nameList();
  if (c.is('with')) c.fail('view options (WITH (...)) are not supported');
  c.expect('as');
  hooks.query(query(c, [['with', 'check', 'option'], ['with', 'cascaded', 'check', 'option'], ['with', 'local', 'check', 'option']]));
}

/** The query of CREATE TABLE AS / CREATE VIEW, without one of the allowed trailing clauses. */
function query(c: Cursor, tails: string[][]): Token[] {
  let toks = c.rest();
  for (const tail of tails) {
    const at = toks.length - tail.length;
    if (at > 0 && tail.every((w, k) => toks[at + k]?.kind === 'ident' && toks[at + k]?.value === w)) {
      toks = toks.slice(0, at);
      break;
    }
  }
  const first = toks[0];
  if (!first || !((first.kind === 'ident' && (first.value === 'select' || first.value === 'with')) || (first.kind === 'punct' && first.value === '('))) {
    c.fail('expected a query (SELECT or WITH) after AS');
  }
  return toks;
}

function createIndex(c: Cursor, ctx: Ctx, hooks: DdlHooks): void {
  if (c.is('concurrently')) c.fail(CONCURRENTLY);
  c.accept('if', 'not', 'exists');
  if (!c.is('on')) {
    if (c.qname().length > 1) c.fail("an index name cannot be schema-qualified (the index is created in its table's schema)");
  }
  c.expect('on');
  c.accept('only');
  const table = tableOf(tableEntry(c.qname()), ctx);
  noteWrite(ctx, table, '*');
  if (c.accept('using')) {
    if (!INDEX_METHODS.has(c.name())) c.fail(`the index method must be one of ${[...INDEX_METHODS].join(', ')}`);
  }
  const elements = new Cursor(c.group(), c.what);
  do indexElement(elements, hooks, table);
  while (elements.acceptPunct(','));
  elements.end('unexpected text in the index columns');
  if (c.accept('include')) c.nameList();
  if (!c.accept('nulls', 'distinct')) c.accept('nulls', 'not', 'distinct');
  if (c.is('with') || c.is('tablespace')) c.fail('index storage parameters and tablespaces are not supported');
  // The expressions and the predicate are evaluated over every existing row of the table.
  if (c.accept('where')) hooks.expression(c.rest(), undefined, table);
  c.end();
}

/** `column | (expression) | call(...)`, then [COLLATE c] [opclass] [ASC|DESC] [NULLS FIRST|LAST]. */
function indexElement(c: Cursor, hooks: DdlHooks, table: string): void {
  const start = c.i;
  if (c.isPunct('(')) {
    hooks.expression(c.group(), undefined, table);
  } else {
    c.qname();
    if (c.isPunct('(')) {
      c.group();
      hooks.expression(c.toks.slice(start, c.i), undefined, table);
    }
  }
  if (c.accept('collate')) c.qname();
  if (!c.done && !c.isPunct(',') && !c.is('asc') && !c.is('desc') && !c.is('nulls')) {
    c.qname(); // operator class
    if (c.isPunct('(')) c.fail('operator class parameters are not supported');
  }
  if (!c.accept('asc')) c.accept('desc');
  if (c.accept('nulls') && !c.accept('first')) c.expect('last');
}

function createSchema(c: Cursor): void {
  c.accept('if', 'not', 'exists');
  if (c.accept('authorization')) {
    c.name();
  } else {
    c.name();
    if (c.accept('authorization')) c.name();
  }
  c.end('schema elements are not supported (send each CREATE on its own)');
}

function dropIndex(c: Cursor, ctx: Ctx): void {
  c.expect('drop', 'index');
  if (c.is('concurrently')) c.fail(CONCURRENTLY);
  c.accept('if', 'exists');
  do noteWrite(ctx, tableOf(tableEntry(c.qname()), ctx), '*');
  while (c.acceptPunct(','));
  dropBehaviour(c);
  c.end();
  ctx.kinds.add('drop');
  ctx.constructs.add('ddl');
}

/** Relation kinds COMMENT ON may name; the comment is a write of that relation. */
const COMMENT_RELATIONS: string[][] = [['table'], ['view'], ['materialized', 'view'], ['index'], ['sequence'], ['foreign', 'table']];

function comment(c: Cursor, ctx: Ctx): void {
  c.expect('comment', 'on');
  let target: string;
  if (c.accept('column')) {
    const parts = c.qname();
    if (parts.length < 2) c.fail('expected table.column');
    target = tableOf(tableEntry(parts.slice(0, -1)), ctx);
  } else if (c.accept('constraint')) {
    c.name();
    c.expect('on');
    if (c.is('domain')) c.fail('COMMENT ON CONSTRAINT ... ON DOMAIN is not supported');
    target = tableOf(tableEntry(c.qname()), ctx);
  } else if (COMMENT_RELATIONS.some((words) => c.accept(...words))) {
    target = tableOf(tableEntry(c.qname()), ctx);
  } else {
    const what = c.peek()?.value.toUpperCase() ?? '';
    throw parseError(`COMMENT ON ${what} is not supported; tables, views, indexes, sequences, columns and table constraints are`);
  }
  c.expect('is');
  if (c.peek()?.kind === 'string') c.i++;
  else c.expect('null');
  c.end();
  ctx.kinds.add('comment');
  ctx.constructs.add('ddl');
  noteWrite(ctx, target, '*');
}
