/**
 * ALTER TABLE, read by ddl.ts's grammar (ddl-cursor.ts): ADD (column or constraint), DROP,
 * ALTER COLUMN (TYPE ... USING, SET/DROP DEFAULT, SET/DROP NOT NULL), VALIDATE CONSTRAINT,
 * OWNER TO (reported as a privilege statement too) and RENAME (reported as the values stored
 * under the new name, so masking refuses it like a copy). Why apart from ddl.ts: the actions
 * are a grammar of their own, and together they kept ddl.ts over the project's module size.
 */
import { type Ctx, notePredicate, noteWrite, tableOf } from './context.js';
import type { Cursor } from './ddl-cursor.js';
import { type DdlHooks, columnDefinition, dropBehaviour, startsTableConstraint, tableConstraint, tableEntry } from './ddl-table.js';
import { CHECKS_KEYS } from './kinds.js';
import { storeValue } from './stored.js';
import { isBuiltinTypeAt } from './type-names.js';

/** ALTER TABLE [IF EXISTS] [ONLY] name [*] action [, ...] | RENAME ...: a write of the table. */
export function alterTable(c: Cursor, ctx: Ctx, hooks: DdlHooks): void {
  c.expect('alter', 'table');
  if (c.is('all')) c.fail('ALTER TABLE ALL IN TABLESPACE is not supported');
  c.accept('if', 'exists');
  c.accept('only');
  const table = tableOf(tableEntry(c.qname()), ctx);
  if (c.peek()?.kind === 'op' && c.peek()?.value === '*') c.i++;
  ctx.kinds.add('alter');
  ctx.constructs.add('ddl');
  noteWrite(ctx, table, '*');
  if (c.accept('rename')) {
    // A rename moves the values under a new name that no mask names (masks name schema.table.
    // column): reported as the values stored there, so masking refuses it like a copy.
    if (c.accept('to')) {
      // The table keeps its schema.
      const renamed = tableOf({ db: table.slice(0, table.indexOf('.')), table: c.name() }, ctx);
      noteWrite(ctx, renamed, '*');
      storeValue(ctx, renamed, '*', { sources: [{ table, column: '*' }], derived: false });
    } else {
      const constraint = c.accept('constraint');
      if (!constraint) c.accept('column');
      const from = c.name();
      c.expect('to');
      const to = c.name();
      if (!constraint) storeValue(ctx, table, to, { sources: [{ table, column: from }], derived: false });
    }
    c.end();
    return;
  }
  do alterAction(c, table, ctx, hooks);
  while (c.acceptPunct(','));
  c.end();
}

function alterAction(c: Cursor, table: string, ctx: Ctx, hooks: DdlHooks): void {
  if (c.accept('add')) {
    if (!c.accept('column') && startsTableConstraint(c)) return tableConstraint(c, ctx, hooks, table, true);
    c.accept('if', 'not', 'exists');
    return columnDefinition(c, ctx, hooks, table, true);
  }
  if (c.accept('drop')) {
    if (!c.accept('constraint')) c.accept('column');
    c.accept('if', 'exists');
    c.name();
    return dropBehaviour(c);
  }
  if (c.accept('alter')) {
    c.accept('column');
    const column = c.name();
    if (c.accept('set', 'data', 'type') || c.accept('type')) {
      // A key column's keys are checked again over the rewritten rows, on both sides (CHECKS_KEYS).
      ctx.constructs.add(CHECKS_KEYS);
      // A type outside the built-in names may be a domain whose CHECK, or have a cast whose
      // function, runs on every value of the column: a definition only the catalog holds.
      if (!isBuiltinTypeAt(c.toks, c.i)) notePredicate(ctx, [{ table, column }], 'catalog');
      c.type();
      if (c.accept('collate')) c.qname();
      // USING computes the column's new value from the row: stored into the column.
      if (c.accept('using')) hooks.expression(c.until(() => false), { table, column });
    } else if (c.accept('set', 'default')) {
      hooks.expression(c.until(() => false));
    } else if (!(c.accept('drop', 'default') || c.accept('set', 'not', 'null') || c.accept('drop', 'not', 'null'))) {
      c.fail('this ALTER COLUMN form is not supported (TYPE, SET/DROP DEFAULT, SET/DROP NOT NULL are)');
    }
    return;
  }
  if (c.accept('validate', 'constraint')) {
    // Which constraint it is only the catalog knows: a foreign key checks every row against its
    // referenced table, a CHECK evaluates over every row (CHECKS_KEYS: every key of the table
    // counts), and what either reads of the row only the catalog holds: under masks the named
    // constraint is looked up before it runs (validatedConstraints, constraint-oracles.ts).
    ctx.constructs.add(CHECKS_KEYS);
    const name = c.name();
    ctx.validates.set(`${table}\u0000${name}`, { table, name });
    return;
  }
  if (c.accept('owner', 'to')) {
    // A change of owner hands the table's privileges to another role: a privilege statement
    // as much as GRANT is, so it is reported as one too (an allow of alter alone does not
    // cover it; a deny of grant matches it).
    c.name();
    ctx.kinds.add('grant');
    return;
  }
  c.fail('this ALTER TABLE action is not supported (ADD, DROP, ALTER COLUMN, VALIDATE CONSTRAINT, OWNER TO and RENAME are)');
}
