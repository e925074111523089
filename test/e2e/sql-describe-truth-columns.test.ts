/**
 * describe_database tells the truth about `write_columns:` (via `warden serve`, a real MCP client
 * over stdio, against a real PostgreSQL): a table an allow rule grants some columns of lists
 * those as `write_columns`; a column a deny rule forbids writing is listed in `write_denied`
 * (through partitions, inheritance and updatable views) and left out of `write_columns`; the
 * note says whole-row writes are refused. Then every column is written with query_database
 * (`UPDATE t SET c = c WHERE false`): it runs exactly where the description says it may be
 * written, and is refused everywhere else; whole-row writes (DELETE) likewise.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const POLICY = `
rules:
  - id: column-editors
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
    sql:
      statements: [select, insert, update, delete]
      read: [public.tickets, public.audit]
      write_columns: [public.tickets.status, Tickets.Note, public.staff.name, public.staff.role, public.pairs.a]
  - id: both-lists
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
    sql:
      statements: [select, update]
      write: [public.pairs]
      write_columns: [public.pairs.b]
  - id: table-writers
    effect: allow
    who: { groups: [analysts] }
    tool: [query_database, describe_database]
    on: [db]
    sql:
      statements: [select, insert, update, delete]
      write: [public.users, public.user_view, public.events, public.events_2024, public.logs, public.logs_old, public.notes]
  - id: no-privileged-writes
    effect: deny
    tool: query_database
    sql: { write_columns: [public.users.role, public.staff.role, public.events.flag, public.logs_old.level] }
`;

let db: TestDatabase;
let w: SqlWarden;

type Described = { table: string; access: string[]; columns: { name: string }[]; requires_only?: string[]; note?: string; write_columns?: string[]; write_denied?: string[] };
type Result = Awaited<ReturnType<SqlWarden['query']>>;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2edescols' });
  await db.query(`
    CREATE TABLE tickets (id int PRIMARY KEY, status text, note text, priority int);
    CREATE TABLE audit (id int, what text);
    CREATE TABLE staff (id int, name text, role text);
    CREATE TABLE pairs (id int, a text, b text);
    CREATE TABLE users (id int PRIMARY KEY, name text, role text);
    CREATE VIEW user_view AS SELECT id, name AS display, role AS r FROM users;
    CREATE TABLE events (id int, at date, flag boolean, body text) PARTITION BY RANGE (at);
    CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    CREATE TABLE logs (id int, body text, level int);
    CREATE TABLE logs_old () INHERITS (logs);
    CREATE TABLE notes (id int PRIMARY KEY, body text);
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${db.role};
  `);
  w = await startSqlWarden(db, { 'p.yaml': POLICY });
});

after(async () => {
  await w?.close();
  await db?.drop();
});

async function describeAll(): Promise<Described[]> {
  const r = await w.w.call('describe_database', { connection: 'db' });
  assert.equal(r.isError, false, r.text);
  return (r.structured as { data: { tables: Described[] } }).data.tables;
}

const find = (tables: Described[], name: string): Described => {
  const t = tables.find((x) => x.table === `public.${name}`);
  assert.ok(t, `${name} is not described: ${tables.map((x) => x.table).join(', ')}`);
  return t;
};

function refused(r: Result, sql: string): void {
  assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
  assert.match(r.text, /^WARDEN_DENIED: /, sql);
}

test('column grants and column denies are described per table', async () => {
  const tables = await describeAll();
  const shape = (name: string) => {
    const t = find(tables, name);
    return { access: t.access, write_columns: t.write_columns, write_denied: t.write_denied };
  };
  assert.deepEqual(shape('tickets'), { access: ['read', 'write'], write_columns: ['status', 'note'], write_denied: undefined });
  assert.deepEqual(shape('audit'), { access: ['read'], write_columns: undefined, write_denied: undefined });
  assert.deepEqual(shape('staff'), { access: ['read', 'write'], write_columns: ['name'], write_denied: ['role'] });
  assert.deepEqual(shape('pairs'), { access: ['read', 'write'], write_columns: ['a', 'b'], write_denied: undefined });
  assert.deepEqual(shape('users'), { access: ['read', 'write'], write_columns: ['id', 'name'], write_denied: ['role'] });
  assert.deepEqual(shape('user_view'), { access: ['read', 'write'], write_columns: ['id', 'display'], write_denied: ['r'] });
  assert.deepEqual(shape('events'), { access: ['read', 'write'], write_columns: ['id', 'at', 'body'], write_denied: ['flag'] });
  assert.deepEqual(shape('events_2024'), { access: ['read', 'write'], write_columns: ['id', 'at', 'body'], write_denied: ['flag'] });
  assert.deepEqual(shape('logs'), { access: ['read', 'write'], write_columns: ['id', 'body'], write_denied: ['level'] });
  assert.deepEqual(shape('logs_old'), { access: ['read', 'write'], write_columns: ['id', 'body'], write_denied: ['level'] });
  assert.deepEqual(shape('notes'), { access: ['read', 'write'], write_columns: undefined, write_denied: undefined });
  assert.equal(find(tables, 'notes').note, undefined);
  assert.match(find(tables, 'tickets').note ?? '', /only the columns in write_columns may be written.*whole-row writes \(DELETE, INSERT without a column list, TRUNCATE, DDL\) .*refused/);
  assert.match(find(tables, 'users').note ?? '', /a deny rule forbids writing role.*whole-row writes .*refused/);
});

test('every column writes as described: written where listed writable, refused everywhere else', async () => {
  const tables = await describeAll();
  const written: string[] = [];
  const denied: string[] = [];
  for (const t of tables) {
    const only = t.requires_only?.includes('write') ? 'ONLY ' : '';
    const writable = t.access.includes('write');
    for (const c of t.columns) {
      const sql = `UPDATE ${only}${t.table} SET "${c.name}" = "${c.name}" WHERE false`;
      const r = await w.query(sql);
      const key = `${t.table}.${c.name}`;
      if (writable && (!t.write_columns || t.write_columns.includes(c.name))) {
        assert.equal(r.isError, false, `${sql} (described as writable): ${r.text.slice(0, 300)}`);
        written.push(key);
      } else {
        refused(r, sql);
        denied.push(key);
      }
    }
    // A whole-row write: runs only where every column is writable.
    const sql = `DELETE FROM ${only}${t.table} WHERE false`;
    const r = await w.query(sql);
    if (writable && !t.write_columns) assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
    else refused(r, sql);
  }
  for (const c of ['public.tickets.status', 'public.staff.name', 'public.users.name', 'public.user_view.display', 'public.events_2024.body', 'public.notes.body']) {
    assert.ok(written.includes(c), `${c} not written`);
  }
  for (const c of ['public.tickets.priority', 'public.staff.role', 'public.users.role', 'public.user_view.r', 'public.events.flag', 'public.events_2024.flag', 'public.logs.level', 'public.audit.what']) {
    assert.ok(denied.includes(c), `${c} not refused`);
  }
});
