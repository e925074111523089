/**
 * Statements other than SELECT, as node-sql-parser represents them: DML (with its targets as
 * writes), DDL, privileges, session and transaction control. Unknown statement types and
 * unknown clauses are refused; a grant cannot be judged on a statement we only half read.
 */
import { parseError } from '../../../src/tool-api.js';
import { type Ctx, type Lin, type OutCol, type Scope, childScope, identText, noteRead, noteWrite, tableOf, uniqSources, wholeRow } from './context.js';
import { unqualifiedCreate } from './ddl.js';
import { lineage } from './lineage.js';
import { walkClause } from './predicates.js';
import { addFrom, analyzeSelect, hooks, selectList } from './select.js';
import { isBuiltInSetting } from './settings.js';
import { storeOutput, storeValue } from './stored.js';
import { analyzeConflict } from './upsert.js';
import type { ValueSize } from './types.js';
import { noteSetSize, qualifiedSetTargets, sizeOf, writtenColumns } from './written-columns.js';

type Node = Record<string, unknown>;

const DML_KEYS: Record<string, Set<string>> = {
  insert: new Set(['type', 'table', 'columns', 'values', 'returning', 'prefix', 'loc', 'partition', 'with', 'conflict']),
  update: new Set(['type', 'table', 'set', 'from', 'where', 'returning', 'with', 'loc']),
  delete: new Set(['type', 'table', 'from', 'where', 'returning', 'with', 'loc']),
};
const DDL_TYPES = new Set(['create', 'drop', 'alter', 'truncate', 'grant', 'revoke', 'rename', 'comment']);

function isEmpty(v: unknown): boolean {
  return v === null || v === undefined || v === false || (Array.isArray(v) && v.length === 0);
}

/** Analyse any statement node; returns output columns (SELECT or RETURNING), else []. */
export function analyzeStatement(node: Node, scope: Scope, ctx: Ctx): OutCol[] {
  const type = String(node.type);
  if (type === 'select') return analyzeSelect(node, scope, ctx);
  if (type in DML_KEYS) return dml(type, node, scope, ctx);
  if (DDL_TYPES.has(type)) return ddl(type, node, scope, ctx);
  switch (type) {
    case 'set':
      ctx.kinds.add('set');
      ctx.constructs.add('set');
      return [];
    case 'show': {
      ctx.kinds.add('show');
      // SHOW reads pg_settings.setting. A custom setting (its name has a dot: `app.api_key`, given
      // to a role or database) or SHOW ALL may hold a secret: recorded as that column's read, which
      // catalog-columns.ts refuses under masks and deny rules. Built-in settings read as before
      // (the rule current_setting() follows too: analysis/settings.ts).
      const v = node.var as Node | undefined;
      const builtIn = node.keyword === 'var' && typeof v?.name === 'string' && isBuiltInSetting(v.name) && isEmpty(v.members);
      if (!builtIn) noteRead(ctx, [{ table: 'pg_catalog.pg_settings', column: 'setting' }]);
      return [];
    }
    case 'lock':
      ctx.kinds.add('lock');
      ctx.constructs.add('lock');
      lockTables(node, ctx);
      return [];
    case 'transaction': {
      const action = identText((node.expr as Node | undefined)?.action)?.toLowerCase() ?? '';
      ctx.kinds.add(transactionKind(action));
      ctx.constructs.add('transaction');
      return [];
    }
    case 'execute':
      ctx.kinds.add('execute');
      ctx.constructs.add('execute');
      return [];
    case 'call':
      ctx.kinds.add('call');
      lineage(node.expr, scope, ctx);
      return [];
    default:
      throw parseError(`statement type "${type}" is not supported`);
  }
}

hooks.statement = analyzeStatement;

/**
 * LOCK's tables. Only ACCESS SHARE (what a SELECT takes) is a read; every stronger mode, the
 * default ACCESS EXCLUSIVE included, blocks the table's writers (or readers too) until the call's
 * transaction ends, which PostgreSQL grants only with INSERT, UPDATE, DELETE or TRUNCATE: it
 * writes the table whole, as for the grant. PostgreSQL's LOCK takes no alias: the parser reads a
 * bare `NOWAIT` after a table as one (the default mode then), anything else is refused.
 */
function lockTables(node: Node, ctx: Ctx): void {
  const mode = String((node.lock_mode as Node | null)?.mode ?? 'in access exclusive mode').toLowerCase().replace(/\s+/g, ' ');
  for (const t of (node.tables as Node[] | null) ?? []) {
    const ref = (t.table as Node | undefined) ?? t;
    if (ref.as != null && String(ref.as).toLowerCase() !== 'nowait') throw parseError('LOCK: this table reference is not understood');
    const table = tableOf(ref, ctx);
    if (mode === 'in access share mode') ctx.reads.add(table);
    else noteWrite(ctx, table, '*');
  }
}

/** Canonical kind for transaction control words. */
export function transactionKind(action: string): string {
  const word = action.split(/\s+/)[0] ?? '';
  if (word === 'start' || word === 'begin') return 'begin';
  if (word === 'end' || word === 'commit') return 'commit';
  if (word === 'abort' || word === 'rollback') return 'rollback';
  if (word === 'savepoint' || word === 'release') return word;
  throw parseError(`transaction statement "${action}" is not supported`);
}

function dml(type: string, node: Node, parent: Scope, ctx: Ctx): OutCol[] {
  for (const [k, v] of Object.entries(node)) {
    if (!DML_KEYS[type]?.has(k) && !isEmpty(v)) throw parseError(`${type.toUpperCase()} clause "${k}" is not supported`);
  }
  if (!isEmpty(node.with)) throw parseError(`WITH on ${type.toUpperCase()} is not supported`);
  ctx.kinds.add(type);
  const scope = childScope(parent);
  const targets = (node.table as Node[] | null) ?? [];
  if (targets.length === 0) throw parseError(`${type.toUpperCase()} target not understood`);
  const targetNames = new Set<string>();
  const selfNames: string[] = [];
  let written = '';
  for (const t of targets) {
    const table = tableOf(t, ctx);
    written = table;
    noteWrite(ctx, table, writtenColumns(type, node));
    const name = identText(t.table) ?? '';
    targetNames.add(name);
    ctx.accounted.add(name);
    const alias = identText(t.as) ?? name;
    ctx.accounted.add(alias);
    // Once aliased, the table's own name no longer names it (PostgreSQL: invalid reference).
    selfNames.push(alias);
    scope.rels.push({ alias, kind: 'table', table });
  }
  // An INSERT's query and VALUES do not see the table it fills (only RETURNING does).
  if (type === 'insert') {
    const sizes = new Map<string, ValueSize[]>();
    const proposed = insertValues(node, written, childScope(parent), ctx, sizes);
    if (!isEmpty(node.conflict)) {
      if (targets.length !== 1) throw parseError('INSERT ... ON CONFLICT target not understood');
      const name = [...targetNames][0] ?? '';
      if (!isEmpty(targets[0]?.as)) throw parseError('INSERT INTO ... AS alias ... ON CONFLICT is not supported');
      analyzeConflict(node.conflict, { table: written, name, proposed, sizes }, scope, ctx);
    }
  }
  if (type === 'update') {
    qualifiedSetTargets(node);
    for (const item of (node.from as Node[] | null) ?? []) addFrom(item, scope, ctx);
    for (const s of (node.set as Node[] | null) ?? []) {
      if (targets.length !== 1) throw parseError('UPDATE of more than one table is not supported');
      storeValue(ctx, written, identText(s) ?? '*', lineage(s.value, scope, ctx));
      noteSetSize(ctx, written, identText(s) ?? '*', s.value, selfNames);
    }
  }
  if (type === 'delete') {
    for (const item of (node.from as Node[] | null) ?? []) {
      const name = identText(item.table);
      if (name && targetNames.has(name) && !item.expr) continue;
      addFrom(item, scope, ctx);
    }
  }
  // A write's WHERE filters its target's rows like an outermost query's (predicates.ts).
  if (node.where) walkClause('where', node.where, scope, ctx);
  if (node.returning) {
    const ret = node.returning as Node;
    const cols = Array.isArray(ret) ? ret : (ret.columns as unknown);
    return selectList(cols, scope, ctx);
  }
  return [];
}

/**
 * What an INSERT stores: its query's output columns or each VALUES row's expressions, by
 * position into the listed columns (any column when there is no list or the position is open).
 * Returns what goes into each listed column (ON CONFLICT's EXCLUDED row, upsert.ts); a column
 * whose position analysis cannot tell gets everything the statement stores. `sizes` gets, for
 * VALUES rows each as long as the column list, each row's value of each column, sized (sizeOf).
 */
function insertValues(node: Node, table: string, scope: Scope, ctx: Ctx, sizes: Map<string, ValueSize[]>): Map<string, Lin> {
  const values = node.values as Node | null;
  const listed = Array.isArray(node.columns) ? (node.columns as unknown[]).map((c) => identText(c) ?? '*') : null;
  const proposed = new Map<string, Lin>();
  const into = (i: number | null, lin: Lin): void => {
    for (const [j, name] of (listed ?? []).entries()) {
      if (i !== null && i !== j) continue;
      const had = proposed.get(name) ?? { sources: [], derived: false };
      proposed.set(name, { sources: uniqSources([...had.sources, ...lin.sources]), derived: had.derived || lin.derived });
    }
  };
  for (const name of listed ?? []) proposed.set(name, { sources: [], derived: false });
  if (!values) return proposed;
  if (values.ast || values.type === 'select') {
    const out = analyzeSelect((values.ast as Node | undefined) ?? values, scope, ctx);
    storeOutput(ctx, table, out, listed);
    const open = out.some((c) => c.starRel);
    out.forEach((c, i) => into(open ? null : i, { sources: c.starRel ? wholeRow(c.starRel) : c.sources, derived: c.derived }));
    return proposed;
  }
  const rows = values.type === 'values' && Array.isArray(values.values) ? (values.values as Node[]) : null;
  if (!rows || rows.some((r) => r.type !== 'expr_list' || !Array.isArray(r.value))) {
    // A shape not read row by row: everything in it may go into any column.
    const lin = lineage(values, scope, ctx);
    storeValue(ctx, table, '*', lin);
    into(null, lin);
    return proposed;
  }
  const sized = listed !== null && !listed.includes('*') && rows.every((r) => (r.value as unknown[]).length === listed.length);
  for (const row of rows) {
    (row.value as unknown[]).forEach((v, i) => {
      if (sized) sizes.set(listed[i]!, [...(sizes.get(listed[i]!) ?? []), sizeOf(ctx, v)]);
      const lin = lineage(v, scope, ctx);
      storeValue(ctx, table, listed?.[i] ?? '*', lin);
      into(listed && i < listed.length ? i : null, lin);
    });
  }
  return proposed;
}

function ddl(type: string, node: Node, scope: Scope, ctx: Ctx): OutCol[] {
  ctx.kinds.add(type === 'rename' ? 'alter' : type);
  ctx.constructs.add('ddl');
  const keyword = identText(node.keyword);
  if (type === 'create' && keyword) ctx.constructs.add(`create_${keyword.toLowerCase()}`);
  if (type === 'create' && keyword?.toLowerCase() === 'sequence' && !node.temporary) {
    // Like tables (ddl.ts): unqualified, it would be created in pg_catalog, not public.
    for (const s of (node.sequence as Node[] | null) ?? []) if (!s.db) throw unqualifiedCreate('SEQUENCE', identText(s.table) ?? '');
  }
  // Like ALTER TABLE ... OWNER TO (ddl.ts): a change of owner hands over privileges.
  if (checkGeneralDdl(type, node).some((a) => /^owner\b/i.test(String(a?.prefix ?? '')))) ctx.kinds.add('grant');
  const before = ctx.writes.size;
  collectTargets(node, scope, ctx, 0);
  // A statement that changes or hands over something and names no table would pass any
  // `write:` list untouched (ALTER SCHEMA public RENAME, ALTER TYPE, GRANT role TO role).
  if (TARGETED.has(type) && ctx.writes.size === before) {
    throw parseError(`${type.toUpperCase()} of an object that is not a table, view or sequence is not supported`);
  }
  return [];
}

/** DDL kinds that must name the table (or view, sequence) they act on. */
const TARGETED = new Set(['alter', 'rename', 'drop', 'truncate', 'grant', 'revoke', 'comment']);

/**
 * Shapes of the general DDL path whose facts would not name what they touch: privileges on a
 * database, schema, function or every table of a schema (reported, if at all, as a table named
 * like the schema), role membership, and ALTER of anything but a sequence (a schema, type or
 * domain rename changes objects no `write:` list names; a sequence rename names no new name).
 * Returns the actions of an ALTER SEQUENCE.
 */
function checkGeneralDdl(type: string, node: Node): Node[] {
  if (type === 'grant' || type === 'revoke') {
    const on = node.on as Node | null | undefined;
    const objectType = identText(on?.object_type)?.toLowerCase() ?? null;
    if (node.keyword !== 'priv' || !on || (objectType !== null && objectType !== 'table' && objectType !== 'sequence')) {
      throw parseError(`${type.toUpperCase()} is supported on tables and sequences only (not on roles, schemas, databases, functions or ALL TABLES IN SCHEMA)`);
    }
  }
  if (type === 'alter' || type === 'rename') {
    if (identText(node.keyword)?.toLowerCase() !== 'sequence') throw parseError('this ALTER statement is not supported (ALTER TABLE and ALTER SEQUENCE are)');
    const actions = Array.isArray(node.expr) ? (node.expr as Node[]) : [node.expr as Node];
    if (actions.some((a) => String(a?.prefix ?? '').toLowerCase().startsWith('rename'))) {
      throw parseError('ALTER SEQUENCE ... RENAME is not supported');
    }
    return actions;
  }
  return [];
}

/** Walk a DDL node: nested SELECTs are analysed (reads), every named table is a write target. */
function collectTargets(v: unknown, scope: Scope, ctx: Ctx, depth: number): void {
  if (depth > 200) throw parseError('statement nested too deeply');
  if (!v || typeof v !== 'object') return;
  if (Array.isArray(v)) {
    for (const x of v) collectTargets(x, scope, ctx, depth + 1);
    return;
  }
  const o = v as Node;
  if (o.ast || o.type === 'select') {
    analyzeSelect((o.ast as Node | undefined) ?? o, scope, ctx);
    return;
  }
  if (typeof o.table === 'string') noteWrite(ctx, tableOf(o, ctx), '*');
  if (o.priv_level && Array.isArray(o.priv_level)) {
    for (const p of o.priv_level as Node[]) {
      const name = identText(p.name);
      if (name) noteWrite(ctx, tableOf({ table: name, db: p.prefix ?? null }, ctx), '*');
    }
  }
  if (o.type === 'function' || o.type === 'aggr_func') lineage(o, scope, ctx);
  for (const [k, x] of Object.entries(o)) {
    if (k !== 'priv_level') collectTargets(x, scope, ctx, depth + 1);
  }
}
