/**
 * Column-level writes: the columns a statement writes (SqlFacts.writtenColumns, '*' for the
 * whole row) and the `write_columns:` key of a `sql:` block that judges them. An allow block
 * grants a closed set of columns (a whole-row write never fits); a deny block matches a listed
 * column written, or its table written whole (DELETE, INSERT without a column list, TRUNCATE, DDL).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { normalizePolicyColumn } from '../../../tools/postgres/analysis/names.js';
import { sqlCondition } from '../../../tools/postgres/sql-condition.js';
import { grantedTables } from '../../../tools/postgres/describe-database.js';
import { columnWrites } from '../../../tools/postgres/describe-write-columns.js';
import type { CatalogReach } from '../../../tools/postgres/widened-relations.js';
import { blockTables, denyBlockCovers } from '../../../src/policy/lint-blocks.js';

const call = { tool: 'query_database', connection: 'db', args: {} };
const allow = (block: unknown) => sqlCondition.compile(block, { id: 'a', effect: 'allow' });
const deny = (block: unknown) => sqlCondition.compile(block, { id: 'd', effect: 'deny' });
const run = (cond: ReturnType<typeof allow>, sql: string) => cond(analyzeSql(sql), call);
const written = (sql: string): string[] => analyzeSql(sql).writtenColumns.map((c) => `${c.table}.${c.column}`);

describe('writtenColumns facts', () => {
  test('INSERT: the listed columns, or the whole row without a list', () => {
    assert.deepEqual(written("INSERT INTO tickets (status, note) VALUES ('a', 'b')"), ['public.tickets.note', 'public.tickets.status']);
    assert.deepEqual(written("INSERT INTO tickets VALUES (1, 'a')"), ['public.tickets.*']);
    assert.deepEqual(written('INSERT INTO tickets SELECT * FROM old_tickets'), ['public.tickets.*']);
    assert.deepEqual(written('INSERT INTO tickets (id, status) SELECT id, status FROM old_tickets'), ['public.tickets.id', 'public.tickets.status']);
  });

  test('UPDATE: the SET columns (folded or quoted); FROM tables are not written', () => {
    assert.deepEqual(written("UPDATE tickets SET status = 'x', NOTE = 'y' WHERE id = 1"), ['public.tickets.note', 'public.tickets.status']);
    assert.deepEqual(written('UPDATE tickets t SET status = u.name FROM users u WHERE u.id = t.owner'), ['public.tickets.status']);
    assert.deepEqual(written('UPDATE "Tickets" SET "Status" = 1'), ['public.Tickets.Status']);
    assert.deepEqual(written('EXPLAIN UPDATE tickets SET status = 1'), ['public.tickets.status']);
  });

  test('UPDATE: a qualified SET target is refused (PostgreSQL writes the field of the column it starts with)', () => {
    for (const sql of ['UPDATE tickets t SET t.status = 1', "UPDATE tickets SET meta.status = 'x'", 'UPDATE tickets SET a.b.c = 1', "WITH u AS (UPDATE tickets SET meta.status = 'x' RETURNING id) SELECT id FROM u"]) {
      assert.throws(() => analyzeSql(sql), /qualified SET target/, sql);
    }
  });

  test('DELETE, TRUNCATE and DDL write the whole row', () => {
    assert.deepEqual(written('DELETE FROM tickets WHERE id = 1'), ['public.tickets.*']);
    assert.deepEqual(written('TRUNCATE tickets'), ['public.tickets.*']);
    assert.deepEqual(written('ALTER TABLE tickets ADD COLUMN x int'), ['public.tickets.*']);
    assert.deepEqual(written('DROP TABLE tickets'), ['public.tickets.*']);
    assert.deepEqual(written('CREATE TABLE public.t2 AS SELECT id FROM tickets'), ['public.t2.*']);
    assert.deepEqual(written('SELECT id INTO t3 FROM tickets'), ['public.t3.*']);
    assert.deepEqual(written('GRANT UPDATE ON tickets TO someone'), ['public.tickets.*']);
    assert.deepEqual(written('SELECT status FROM tickets'), []);
  });

  test('writes inside data-modifying CTEs count', () => {
    assert.deepEqual(written("WITH u AS (UPDATE tickets SET status = 'x' RETURNING id) SELECT * FROM u"), ['public.tickets.status']);
    assert.deepEqual(
      written("WITH d AS (DELETE FROM users WHERE id = 1 RETURNING id), u AS (UPDATE tickets SET note = 'n' RETURNING id) SELECT 1"),
      ['public.tickets.note', 'public.users.*'],
    );
  });

  test('a table written whole and by column elsewhere in the statement is written whole', () => {
    assert.deepEqual(
      written("WITH d AS (DELETE FROM tickets WHERE id = 1 RETURNING id), u AS (UPDATE tickets SET note = 'n' RETURNING id) SELECT 1"),
      ['public.tickets.*', 'public.tickets.note'],
    );
  });

  test('INSERT ... ON CONFLICT DO UPDATE: the insert columns plus the SET columns (DEFAULT too)', () => {
    assert.deepEqual(
      written("INSERT INTO tickets (id, status) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET note = excluded.status"),
      ['public.tickets.id', 'public.tickets.note', 'public.tickets.status'],
    );
    assert.deepEqual(written("INSERT INTO tickets (id, status) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET note = DEFAULT"), [
      'public.tickets.id', 'public.tickets.note', 'public.tickets.status',
    ]);
    assert.deepEqual(written("INSERT INTO tickets (id, status) VALUES (1, 'a') ON CONFLICT (id) DO NOTHING"), ['public.tickets.id', 'public.tickets.status']);
  });

  test('statements analysis does not read (MERGE, COPY, SET (a, b) = ...) stay refused', () => {
    for (const sql of ['MERGE INTO tickets t USING x ON t.id = x.id WHEN MATCHED THEN UPDATE SET status = 1', 'COPY tickets FROM STDIN', 'UPDATE tickets SET (status, note) = (1, 2)']) {
      assert.throws(() => analyzeSql(sql), (e: unknown) => (e as { code?: string }).code === 'WARDEN_PARSE', sql);
    }
  });
});

describe('write_columns in an allow block', () => {
  const a = allow({ statements: ['select', 'insert', 'update', 'delete'], write_columns: ['public.tickets.status', 'Tickets.NOTE'] });

  test('every written column must be listed; the table is writable and readable', () => {
    assert.equal(run(a, "UPDATE tickets SET status = 'x' WHERE id = 1").matched, true);
    assert.equal(run(a, "UPDATE tickets SET status = 'x', note = 'y' WHERE id IN (SELECT id FROM tickets)").matched, true);
    assert.equal(run(a, "INSERT INTO tickets (status, note) VALUES ('a', 'b')").matched, true);
    assert.equal(run(a, "UPDATE tickets SET status = 'x', priority = 1").why, 'column public.tickets.priority may not be written');
    assert.equal(run(a, "UPDATE users SET status = 'x'").why, 'table public.users may not be written');
  });

  test('a whole-row write never fits', () => {
    assert.equal(run(a, 'DELETE FROM tickets WHERE id = 1').why, 'every column of public.tickets (the whole row) would be written; only some of its columns may be');
    assert.equal(run(a, "INSERT INTO tickets VALUES (1, 'a')").matched, false);
    assert.equal(run(a, "INSERT INTO tickets (id, status) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET note = 'n'").matched, false, 'id is not listed');
  });

  test('with write: too, both must hold', () => {
    const both = allow({ statements: ['update'], write: ['public.orders', 'public.tickets'], write_columns: ['tickets.status'] });
    assert.equal(run(both, "UPDATE tickets SET status = 'x'").matched, true);
    assert.equal(run(both, 'UPDATE orders SET total = 0').why, 'table public.orders may not be written', 'orders has no listed column');
    const other = allow({ statements: ['update'], write: ['public.orders'], write_columns: ['tickets.status'] });
    assert.equal(run(other, "UPDATE tickets SET status = 'x'").why, 'table public.tickets may not be written');
  });

  test('describe names the columns', () => {
    assert.equal(sqlCondition.describe?.({ statements: ['update'], write_columns: ['Tickets.Status'] }), 'SQL update; writing columns public.tickets.status; functions: @safe-read');
  });
});

describe('write_columns in a deny block', () => {
  const d = deny({ write_columns: ['public.users.role'] });

  test('matches the column written, not other columns, not reads', () => {
    assert.equal(run(d, "UPDATE users SET role = 'admin' WHERE id = 1").why, 'writing column public.users.role is denied');
    assert.equal(run(d, "UPDATE users SET name = 'x'").matched, false);
    assert.equal(run(d, "INSERT INTO users (id, name) VALUES (1, 'a')").matched, false);
    assert.equal(run(d, 'SELECT role FROM users').matched, false);
    assert.equal(run(d, 'SELECT 1').matched, false, 'a deny naming only columns does not match every statement');
  });

  test('matches a whole-row write of the table (fail closed)', () => {
    for (const sql of ['DELETE FROM users WHERE id = 1', "INSERT INTO users VALUES (1, 'a')", 'TRUNCATE users', 'ALTER TABLE users ADD COLUMN x int', 'DROP TABLE users']) {
      assert.equal(run(d, sql).why, 'writing every column of public.users (the whole row) writes denied column public.users.role', sql);
    }
  });

  test('through a data-modifying CTE and an upsert', () => {
    assert.equal(run(d, "WITH u AS (UPDATE users SET role = 'x' RETURNING id) SELECT * FROM u").matched, true);
    assert.equal(run(d, "INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET role = 'x'").matched, true);
    assert.equal(run(d, "INSERT INTO users (id, name) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET name = excluded.name").matched, false);
  });

  test('quoted names keep their case', () => {
    const q = deny({ write_columns: ['"Users"."Role"'] });
    assert.equal(run(q, 'UPDATE "Users" SET "Role" = 1').matched, true);
    assert.equal(run(q, 'UPDATE users SET role = 1').matched, false);
  });

  test('an empty list is refused at load', () => {
    assert.throws(() => deny({ write_columns: [] }), /write_columns list is empty/);
  });
});

describe('write_columns names', () => {
  test('[schema.]table.column by SQL identifier rules', () => {
    assert.deepEqual(normalizePolicyColumn('Users.Role'), { table: 'public.users', column: 'role' });
    assert.deepEqual(normalizePolicyColumn('"Sales"."Orders"."Total"'), { table: 'Sales.Orders', column: 'Total' });
    assert.deepEqual(normalizePolicyColumn('pg_authid.rolpassword'), { table: 'pg_catalog.pg_authid', column: 'rolpassword' });
  });

  test('ill-formed names are schema errors at their index', () => {
    const r = sqlCondition.schema.safeParse({ write_columns: ['users.role', 'users', 'a.b.c.d', '"x.y', 'users.*'] });
    assert.equal(r.success, false);
    assert.deepEqual(r.error?.issues.map((i) => i.path), [['write_columns', 1], ['write_columns', 2], ['write_columns', 3], ['write_columns', 4]]);
    assert.match(r.error?.issues[0]?.message ?? '', /\[schema\.\]table\.column/);
  });
});

describe('write_columns in discovery and lint', () => {
  test('describe_database: granted columns make their tables writable; a column deny hides nothing', () => {
    const g = grantedTables([{ sql: { statements: ['update'], write_columns: ['Tickets.status'] } }]);
    assert.deepEqual([...g.write], ['public.tickets']);
    const both = grantedTables([{ sql: { statements: ['update'], write: ['orders', 'tickets'], write_columns: ['tickets.status', 'notes.body'] } }]);
    assert.deepEqual([[...both.write], [...both.read].sort()], [['public.tickets'], ['public.notes', 'public.orders']]);
    const denied = grantedTables([{ sql: { read: ['users'] }, $denies: [{ sql: { write_columns: ['users.role'] } }] }]);
    assert.deepEqual([[...denied.read], [...denied.hidden]], [['public.users'], []]);
  });

  test('describe_database: which columns a grant limits writes to, and which a deny forbids', () => {
    const g = grantedTables([
      { sql: { statements: ['update'], write: ['orders'], write_columns: ['tickets.status', 'orders.total', 'staff.name'] }, $denies: [{ sql: { write_columns: ['users.role', 'Staff.Role'] } }] },
      { sql: { statements: ['update'], write_columns: ['tickets.note', 'staff.role'] } },
      { sql: { statements: ['update'], write: ['staff', 'notes'] } },
    ]);
    // orders: limited by both lists; tickets: by two grants (status is not writable under the first: tickets is not in its write:); staff and notes whole.
    assert.deepEqual(Object.fromEntries([...g.writeColumns].map(([t, c]) => [t, [...c].sort()])), { 'public.orders': ['total'], 'public.tickets': ['note'] });
    assert.deepEqual(Object.fromEntries([...g.deniedColumns].map(([t, c]) => [t, [...c]])), { 'public.users': ['role'], 'public.staff': ['role'] });
  });

  test('describe_database: columnWrites judges denies through inheritance and views, allows as listed', () => {
    const denied = new Map([['public.users', new Set(['role'])]]);
    const catalog: CatalogReach = {
      families: new Map([['public.users', { ancestors: [], descendants: ['public.users_old'], descendantsAncestors: [], foreignDescendants: [], columns: ['id', 'name', 'role'] }],
        ['public.users_old', { ancestors: ['public.users'], descendants: [], descendantsAncestors: [], foreignDescendants: [], columns: ['id', 'name', 'role'] }]]),
      views: new Map([['public.v', { reads: ['public.users'], only: [], functions: [], columns: new Map([
        ['who', { name: 'who', sources: [{ table: 'public.users', column: 'name' }], derived: false }],
        ['r', { name: 'r', sources: [{ table: 'public.users', column: 'role' }], derived: false }],
        ['up', { name: 'up', sources: [{ table: 'public.users', column: 'name' }], derived: true }],
      ]) }]]),
      systemViews: new Set(), system: [], foreign: new Set(),
    } as unknown as CatalogReach;
    assert.deepEqual(columnWrites('public.notes', ['id', 'body'], null, denied, false, catalog), { writable: null, denied: [] });
    const users = columnWrites('public.users', ['id', 'name', 'role'], null, denied, false, catalog);
    assert.deepEqual([users.writable, users.denied], [['id', 'name'], ['role']]);
    assert.match(users.note ?? '', /a deny rule forbids writing role: whole-row writes \(DELETE/);
    const child = columnWrites('public.users_old', ['id', 'name', 'role'], new Set(['name', 'role']), denied, false, catalog);
    assert.deepEqual([child.writable, child.denied], [['name'], ['role']]);
    const v = columnWrites('public.v', ['who', 'r', 'up'], null, denied, false, catalog);
    assert.deepEqual([v.writable, v.denied], [['who'], ['r', 'up']]);
    const limited = columnWrites('public.tickets', ['id', 'status'], new Set(['status']), new Map(), false, null);
    assert.deepEqual([limited.writable, limited.denied], [['status'], []]);
    assert.match(limited.note ?? '', /^only the columns in write_columns may be written/);
  });

  test('lint: a deny naming only columns does not cover every call; the tables count as granted', () => {
    assert.equal(denyBlockCovers('sql', { write_columns: ['users.role'] }, { statements: ['select'] }), false);
    assert.deepEqual(blockTables({ write_columns: ['"Sales".Orders.total'] }), ['Sales.orders']);
  });
});
