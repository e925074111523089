/**
 * Written columns widened along inheritance and views (widened-relations.ts), pure: a column
 * written on a parent named without ONLY is written on its descendants (same name), a child's
 * on its ancestors; a column written through an updatable view is written on the base column
 * it shows; what cannot be told column by column (a computed view column, a view whose columns
 * are unknown, a cascading foreign key) is the whole row. Against a real server:
 * test/e2e/sql-write-columns.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import type { SqlFacts } from '../../../tools/postgres/analysis/types.js';
import type { RelationFamily } from '../../../tools/postgres/inheritance.js';
import { sqlCondition } from '../../../tools/postgres/sql-condition.js';
import type { ViewColumns, ViewReach } from '../../../tools/postgres/view-lineage.js';
import { widenRelations, type CatalogReach } from '../../../tools/postgres/widened-relations.js';

const family = (f: Partial<RelationFamily>): RelationFamily => ({ ancestors: [], descendants: [], descendantsAncestors: [], foreignDescendants: [], columns: [], ...f });
const plain = (table: string, column: string) => ({ sources: [{ table, column }], derived: false });
const cols = (entries: [string, { sources: { table: string; column: string }[]; derived: boolean }][]): ViewColumns => new Map(entries);
const view = (reads: string[], columns?: ViewColumns): ViewReach => ({ reads, only: [], functions: [], ...(columns ? { columns } : {}) });

const CATALOG: CatalogReach = {
  families: new Map<string, RelationFamily & { cascades?: readonly string[] }>([
    ['public.ledger', family({ descendants: ['public.ledger_2024'] })],
    ['public.ledger_2024', family({ ancestors: ['public.ledger'] })],
    ['public.accounts', { ...family({}), cascades: ['public.ledger'] }],
  ]),
  views: new Map<string, ViewReach | string>([
    ['public.user_view', view(['public.users'], cols([['display', plain('public.users', 'name')], ['r', plain('public.users', 'role')], ['shout', { sources: [{ table: 'public.users', column: 'name' }], derived: true }]]))],
    ['public.user_view2', view(['public.user_view'], cols([['r2', plain('public.user_view', 'r')]]))],
    ['public.opaque_view', view(['public.users'])],
  ]),
  systemViews: new Set(), system: [], foreign: new Set(),
};

const widened = (sql: string): string[] => widenRelations(analyzeSql(sql), CATALOG).writtenColumns.map((c) => `${c.table}.${c.column}`);

describe('writtenColumns widened', () => {
  test('a parent named without ONLY: the same column of its descendants; with ONLY: its own', () => {
    assert.deepEqual(widened("UPDATE ledger SET note = 'x'"), ['public.ledger.note', 'public.ledger_2024.note']);
    assert.deepEqual(widened("UPDATE ONLY ledger SET note = 'x'"), ['public.ledger.note']);
    assert.deepEqual(widened('DELETE FROM ledger'), ['public.ledger.*', 'public.ledger_2024.*']);
  });

  test("a child's column is its ancestors' column", () => {
    assert.deepEqual(widened("UPDATE ledger_2024 SET note = 'x'"), ['public.ledger.note', 'public.ledger_2024.note']);
  });

  test('through an updatable view, onto the base column; views of views', () => {
    assert.deepEqual(widened("UPDATE user_view SET r = 'x'"), ['public.user_view.r', 'public.users.role']);
    assert.deepEqual(widened("UPDATE user_view2 SET r2 = 'x'"), ['public.user_view.r', 'public.user_view2.r2', 'public.users.role']);
    assert.deepEqual(widened("INSERT INTO user_view (display) VALUES ('x')"), ['public.user_view.display', 'public.users.name']);
  });

  test('what cannot be told column by column is the whole row (fail closed)', () => {
    assert.deepEqual(widened("UPDATE user_view SET shout = 'x'"), ['public.user_view.shout', 'public.users.*']);
    assert.deepEqual(widened("UPDATE opaque_view SET anything = 'x'"), ['public.opaque_view.anything', 'public.users.*']);
    assert.deepEqual(widened('DELETE FROM user_view'), ['public.user_view.*', 'public.users.*']);
    assert.deepEqual(widened('UPDATE accounts SET id = 2'), ['public.accounts.id', 'public.ledger.*', 'public.ledger_2024.*']);
  });

  test('DDL on a view changes the view, not its base columns', () => {
    assert.deepEqual(widened('DROP VIEW user_view'), ['public.user_view.*']);
  });

  test('facts without writtenColumns (synthetic) widen every write as the whole row', () => {
    const w = widenRelations({ statements: ['update'], reads: [], writes: ['public.ledger'], onlyRelations: [], functions: [] }, CATALOG);
    assert.deepEqual(w.writtenColumns.map((c) => `${c.table}.${c.column}`), ['public.ledger.*', 'public.ledger_2024.*']);
  });

  test('a deny on a base column judges the widened facts', () => {
    const d = sqlCondition.compile({ write_columns: ['public.users.role'] }, { id: 'd', effect: 'deny' });
    const judge = (sql: string) => {
      const facts = analyzeSql(sql);
      const wide: SqlFacts = { ...facts, writtenColumns: widenRelations(facts, CATALOG).writtenColumns };
      return d(wide, { tool: 'query_database', connection: 'db', args: {} }).matched;
    };
    assert.equal(judge("UPDATE user_view SET r = 'x'"), true);
    assert.equal(judge("UPDATE user_view SET display = 'x'"), false);
    assert.equal(judge("UPDATE user_view SET shout = 'x'"), true);
  });
});
