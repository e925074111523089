/**
 * INSERT ... ON CONFLICT, in the forms node-sql-parser reads (PostgreSQL grammar):
 *   ON CONFLICT [ (col, ...) ] DO NOTHING
 *   ON CONFLICT (col, ...) DO UPDATE SET col = expr, ... [ WHERE cond ]
 * Anything else in the clause (ON CONSTRAINT, a target WHERE, an expression target, a qualified
 * target column, a qualified SET column) is refused: the parser fails on most of them, and a
 * node of any other shape is refused here.
 *
 * Facts: the statement also counts as an UPDATE of the target (kind `update`) when it may update,
 * and its SET columns (DEFAULT too) are written columns besides the INSERT's (writtenColumns).
 * The conflict target's columns and the columns SET and WHERE read are reads of the target's
 * existing row (readColumns), as in an UPDATE. `EXCLUDED.col` is the proposed row: not a table
 * read; its lineage is what the INSERT stores into col (the insert's VALUES or query), so
 * `SET x = EXCLUDED.y` stores into x what the INSERT would have stored into y (masked-copies.ts).
 * EXCLUDED of a column the INSERT does not list (its default, or a trigger's value) is refused.
 * A SET item that is a bare `EXCLUDED.col` is sized (SqlFacts.setSizes) by what each VALUES row
 * gives col (sized-writes.ts takes the largest); an INSERT ... SELECT's is not sized. A SET item
 * `col = t.col` (t the target's name) is the existing row's value, unchanged (SetSize.same: no
 * foreign key's ON UPDATE action fires, fk-actions.ts).
 * The DO UPDATE WHERE is a write's WHERE for the predicate channels (predicates.ts).
 */
import { parseError } from '../../../src/tool-api.js';
import { type Ctx, type Lin, type OutCol, type Scope, identText, noteRead, noteWrite } from './context.js';
import { lineage } from './lineage.js';
import { walkClause } from './predicates.js';
import { storeValue } from './stored.js';
import type { ValueSize } from './types.js';
import { noteSetSize } from './written-columns.js';

type Node = Record<string, unknown>;

/** The relation PostgreSQL calls the proposed row in DO UPDATE. */
const EXCLUDED = 'excluded';

function notUnderstood(what: string): Error {
  return parseError(`INSERT ... ON CONFLICT: ${what} is not understood; supported are ON CONFLICT [(column, ...)] DO NOTHING and ON CONFLICT (column, ...) DO UPDATE SET column = value, ... [WHERE condition]`);
}

/** Refuse a node with a key outside `allowed` (keys whose value is empty count as absent). */
function onlyKeys(node: unknown, allowed: readonly string[], what: string): Node {
  if (!node || typeof node !== 'object' || Array.isArray(node)) throw notUnderstood(what);
  for (const [k, v] of Object.entries(node as Node)) {
    if (!allowed.includes(k) && v !== null && v !== undefined) throw notUnderstood(what);
  }
  return node as Node;
}

/** A bare column name (no table qualifier, no COLLATE), as a SET or conflict-target column. */
function bareColumn(ref: unknown, what: string, extra: readonly string[] = []): string {
  const o = onlyKeys(ref, ['type', 'table', 'column', 'collate', ...extra], what);
  if (o.type !== 'column_ref' || o.table != null || o.collate != null) throw notUnderstood(what);
  const name = identText(o.column);
  if (!name || name === '*') throw notUnderstood(what);
  return name;
}

/** The INSERT whose ON CONFLICT clause is analysed. */
export interface UpsertTarget {
  /** The written table, schema-qualified. */
  table: string;
  /** The name (and alias) the statement gives it. */
  name: string;
  /** What the INSERT stores into each listed column (EXCLUDED's columns). */
  proposed: ReadonlyMap<string, Lin>;
  /** Each VALUES row's value of a listed column, sized (none for a query or a shape not read row by row). */
  sizes: ReadonlyMap<string, readonly ValueSize[]>;
}

/**
 * Analyse `node.conflict` of an INSERT into `target`; `scope` sees the target table (as the
 * statement's RETURNING does). Records facts into ctx; throws WARDEN_PARSE on any other shape.
 */
export function analyzeConflict(conflict: unknown, target: UpsertTarget, scope: Scope, ctx: Ctx): void {
  const c = onlyKeys(conflict, ['type', 'keyword', 'target', 'action'], 'the clause');
  if (c.type !== 'conflict' || c.keyword !== 'on') throw notUnderstood('the clause');
  const columns = conflictTarget(c.target);
  for (const column of columns) noteRead(ctx, [{ table: target.table, column }]);
  const action = onlyKeys(c.action, ['keyword', 'expr'], 'the action');
  if (action.keyword !== 'do') throw notUnderstood('the action');
  const expr = action.expr as Node | null | undefined;
  if (expr?.type === 'origin') {
    onlyKeys(expr, ['type', 'value'], 'the action');
    if (String(expr.value).toLowerCase() !== 'nothing') throw notUnderstood('the action');
    return;
  }
  const update = onlyKeys(expr, ['type', 'set', 'where'], 'the action');
  if (update.type !== 'update') throw notUnderstood('the action');
  // PostgreSQL requires a conflict target for DO UPDATE.
  if (columns.length === 0) throw notUnderstood('DO UPDATE without a conflict target');
  if (target.name.toLowerCase() === EXCLUDED) throw notUnderstood(`a target table named "${target.name}"`);
  const set = update.set;
  if (!Array.isArray(set) || set.length === 0) throw notUnderstood('the SET list');
  ctx.kinds.add('update');
  // SET and WHERE see the target's existing row and EXCLUDED, at one level: an unqualified name
  // counts for both (PostgreSQL resolves it in the target; the union only masks more).
  const excluded: OutCol[] = [...target.proposed].map(([name, lin]) => ({ name, sources: lin.sources, derived: lin.derived }));
  const inner: Scope = { rels: [...scope.rels, { alias: EXCLUDED, kind: 'derived', cols: excluded }], ctes: scope.ctes, parent: scope.parent };
  for (const item of set as unknown[]) {
    const column = bareColumn(item, 'a SET item', ['value']);
    const value = (item as Node).value;
    // Written whatever the value (DEFAULT too): SqlFacts.writtenColumns.
    noteWrite(ctx, target.table, [column]);
    if (!isDefaultKeyword(value)) storeValue(ctx, target.table, column, lineage(value, inner, ctx));
    const excluded = excludedColumn(value);
    const rows = excluded !== null ? target.sizes.get(excluded) : undefined;
    // EXCLUDED.col is what each VALUES row gives col (SetSize.excluded); anything else is sized as written.
    if (rows?.length) ctx.setSizes.push({ table: target.table, column, excluded: [...rows] });
    // `SET id = t.id`, the existing row's own value, is marked same (SetSize.same); a bare `id` would be EXCLUDED's too (PostgreSQL: ambiguous).
    else noteSetSize(ctx, target.table, column, value, (value as Node | null)?.table != null ? [target.name] : undefined);
  }
  // The condition picks which conflicting rows the update changes, as an UPDATE's WHERE picks
  // its rows: judged as a write's WHERE (predicates.ts), so a masked value computed in a subquery
  // or joined to EXCLUDED there is refused like anywhere else, not just traced for lineage.
  if (update.where) walkClause('where', update.where, inner, ctx);
}

/** The column of a bare `EXCLUDED.col` (no COLLATE, subscript or field), or null. */
function excludedColumn(v: unknown): string | null {
  const o = (v ?? {}) as Node;
  if (o.type !== 'column_ref' || Object.entries(o).some(([k, x]) => x != null && !['type', 'table', 'column'].includes(k))) return null;
  if (typeof o.table !== 'string' || o.table.toLowerCase() !== EXCLUDED || typeof (o.column as Node | null)?.expr !== 'object') return null;
  return identText(o.column);
}

/**
 * `SET col = DEFAULT`: the parser reads the keyword as a column named DEFAULT, unquoted (a quoted
 * "default" is a double_quote_string); no column can be named so unquoted, as it is reserved.
 */
function isDefaultKeyword(v: unknown): boolean {
  const o = v as Node | null;
  const name = (o?.column as Node | undefined)?.expr as Node | undefined;
  return o?.type === 'column_ref' && o.table == null && name?.type === 'default' && String(name.value).toLowerCase() === 'default';
}

/** The conflict target's column names ([] when there is none). */
function conflictTarget(t: unknown): string[] {
  if (t === null || t === undefined) return [];
  const o = onlyKeys(t, ['type', 'expr', 'parentheses'], 'the conflict target');
  if (o.type !== 'column' || o.parentheses !== true || !Array.isArray(o.expr) || o.expr.length === 0) throw notUnderstood('the conflict target');
  return (o.expr as unknown[]).map((ref) => bareColumn(ref, 'the conflict target'));
}
