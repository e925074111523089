/**
 * Column definitions and constraints, shared by CREATE TABLE and ALTER TABLE (ddl.ts).
 * Facts they add: each expression (DEFAULT, CHECK, GENERATED) goes through the expression
 * analyser, so its calls are checked like a SELECT's; the table behind REFERENCES is a read
 * (a foreign key lets its creator probe the referenced values: an insert succeeds exactly when
 * the value exists there). Shapes whose effect the statement does not show are refused: LIKE
 * (copies defaults and checks), EXCLUDE, identity sequence options, index parameters.
 */
import type { Ctx, OutCol } from './context.js';
import { tableOf } from './context.js';
import type { Cursor } from './ddl-cursor.js';
import type { Token } from './lexer.js';
import { storeValue } from './stored.js';

/** How ddl.ts analyses the parts it does not read itself. */
export interface DdlHooks {
  /**
   * One value expression (DEFAULT, CHECK, index expression...), analysed like a SELECT's. With
   * `into`, the expression computes a stored column from the row of `into.table` (a generated
   * column, ALTER ... TYPE ... USING): its columns resolve to that table's, and its lineage is
   * recorded as stored into `into.column` (SqlFacts.stored). With `rowsOf`, the expression is
   * evaluated over the existing rows of that table (an ALTER TABLE's CHECK, an index expression
   * or predicate): its columns resolve to that table's, judged as the same expression in a
   * query over it (predicate-channels.ts).
   */
  expression(tokens: Token[], into?: { table: string; column: string }, rowsOf?: string): void;
  /** A whole query (CREATE TABLE AS, CREATE VIEW), analysed as its own statement; its output columns. */
  query(tokens: Token[]): readonly OutCol[];
}

/** Words that begin a column constraint: a DEFAULT expression ends before one of them. */
const COLUMN_CONSTRAINT_WORDS = new Set(['constraint', 'not', 'null', 'check', 'default', 'unique', 'primary', 'references', 'collate', 'generated', 'deferrable', 'initially']);

const startsColumnConstraint = (c: Cursor): boolean => {
  const t = c.peek();
  return t?.kind === 'ident' && COLUMN_CONSTRAINT_WORDS.has(t.value);
};

/** The {db, schema, table} entry tableOf expects, from a dotted name as written. */
export function tableEntry(parts: string[]): Record<string, unknown> {
  const n = parts.length;
  return { table: parts[n - 1], db: n >= 2 ? parts[n - 2] : null, schema: n >= 3 ? parts[n - 3] : null };
}

/** Whether a table element or an ALTER TABLE ... ADD begins a table constraint. */
export function startsTableConstraint(c: Cursor): boolean {
  if (c.is('constraint') || c.is('check') || c.is('unique') || c.is('primary') || c.is('foreign')) return true;
  // EXCLUDE is not reserved: `exclude int` is a column named exclude.
  return c.is('exclude') && (c.isPunct('(', 1) || c.is('using', 1));
}

/**
 * `name type [constraints]` (a column of CREATE TABLE or ALTER TABLE ... ADD COLUMN); `existing`:
 * the table has rows already (ALTER TABLE), over which a CHECK is evaluated.
 */
export function columnDefinition(c: Cursor, ctx: Ctx, hooks: DdlHooks, table: string, existing = false): void {
  const column = c.name();
  c.type();
  for (;;) {
    const named = c.accept('constraint');
    if (named) c.name();
    if (c.accept('not', 'null') || c.accept('null') || c.accept('primary', 'key')) continue;
    if (c.accept('check')) {
      hooks.expression(c.group(), undefined, existing ? table : undefined);
      c.accept('no', 'inherit');
    } else if (c.accept('default')) {
      hooks.expression(c.until(startsColumnConstraint));
    } else if (c.accept('generated')) {
      generated(c, hooks, { table, column });
    } else if (c.accept('unique')) {
      nullsDistinct(c);
    } else if (c.accept('references')) {
      references(c, ctx, table, [column]);
    } else if (c.accept('collate')) {
      c.qname();
    } else if (!constraintAttribute(c)) {
      if (named) c.fail('expected a constraint after CONSTRAINT name');
      return;
    }
  }
}

/** A table constraint: CHECK, UNIQUE, PRIMARY KEY or FOREIGN KEY, with its attributes; `existing` as for columnDefinition. */
export function tableConstraint(c: Cursor, ctx: Ctx, hooks: DdlHooks, table: string, existing = false): void {
  if (c.accept('constraint')) c.name();
  if (c.accept('check')) {
    // NOT VALID skips the existing rows but not the rows written later: judged alike.
    hooks.expression(c.group(), undefined, existing ? table : undefined);
    c.accept('no', 'inherit');
  } else if (c.accept('unique')) {
    nullsDistinct(c);
    c.nameList();
    if (c.accept('include')) c.nameList();
  } else if (c.accept('primary', 'key')) {
    c.nameList();
    if (c.accept('include')) c.nameList();
  } else if (c.accept('foreign', 'key')) {
    const columns = c.nameList();
    c.expect('references');
    references(c, ctx, table, columns);
  } else if (c.is('exclude')) {
    c.fail('EXCLUDE constraints are not supported');
  } else {
    c.fail('expected CHECK, UNIQUE, PRIMARY KEY or FOREIGN KEY');
  }
  while (constraintAttribute(c)) {
    // [NOT] DEFERRABLE, INITIALLY ..., NOT VALID: no facts, only timing
  }
}

/** `[NOT] DROP ... [RESTRICT]`: CASCADE is refused (it drops objects the statement does not name). */
export function dropBehaviour(c: Cursor): void {
  if (c.is('cascade')) c.fail('CASCADE drops dependent objects the statement does not name, possibly in other tables; drop them explicitly');
  c.accept('restrict');
}

function constraintAttribute(c: Cursor): boolean {
  return c.accept('deferrable') || c.accept('not', 'deferrable') || c.accept('initially', 'deferred') || c.accept('initially', 'immediate') || c.accept('not', 'valid');
}

function nullsDistinct(c: Cursor): void {
  if (!c.accept('nulls', 'distinct')) c.accept('nulls', 'not', 'distinct');
}

function generated(c: Cursor, hooks: DdlHooks, into: { table: string; column: string }): void {
  if (c.accept('always', 'as', 'identity') || c.accept('by', 'default', 'as', 'identity')) {
    if (c.isPunct('(')) c.fail('identity sequence options are not supported');
    return;
  }
  c.expect('always', 'as');
  hooks.expression(c.group(), into);
  c.expect('stored');
}

/**
 * `REFERENCES table [(cols)] [MATCH ...] [ON DELETE|UPDATE action]...`: the table is a read, and
 * its columns count as stored into the referencing ones (SqlFacts.stored): `ON UPDATE CASCADE`
 * copies every later change of a referenced value into the referencing column, where it reads
 * back unmasked, so a key to a masked column is refused like any copy of it (masked-copies.ts).
 * Without a column list the key is the table's primary key, which the analysis cannot name: the
 * whole row counts. By position when both lists are known; otherwise each referencing column
 * takes every referenced one.
 */
function references(c: Cursor, ctx: Ctx, table: string, columns: readonly string[]): void {
  const target = tableOf(tableEntry(c.qname()), ctx);
  ctx.reads.add(target);
  const referenced = c.isPunct('(') ? c.nameList() : null;
  columns.forEach((column, i) => {
    const from = referenced === null ? ['*'] : referenced.length === columns.length ? [referenced[i]!] : referenced;
    storeValue(ctx, table, column, { sources: from.map((col) => ({ table: target, column: col })), derived: false });
  });
  for (;;) {
    if (c.accept('match', 'full') || c.accept('match', 'partial') || c.accept('match', 'simple')) continue;
    if (c.accept('on', 'delete') || c.accept('on', 'update')) {
      if (c.accept('set', 'null') || c.accept('set', 'default')) {
        if (c.isPunct('(')) c.nameList();
      } else if (!(c.accept('no', 'action') || c.accept('restrict') || c.accept('cascade'))) {
        c.fail('expected a referential action');
      }
      continue;
    }
    return;
  }
}
