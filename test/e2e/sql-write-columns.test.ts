/**
 * `write_columns:` through `warden serve` (real MCP client over stdio) against a real
 * PostgreSQL: an allow rule that grants some columns of a table lets a write of those run and
 * refuses any other (a DELETE, an INSERT without a column list, another column); a deny rule on
 * a column refuses a write of it, of its table's whole row, through a child or partition, and
 * through an updatable view onto it, with the rule's id, and nothing changes. A SET target
 * `a.b` is the field b of column a to PostgreSQL (never a table-qualified column), which the
 * parser read as column b: refused, so neither an allow nor a deny is judged on the wrong column.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { sqlConfig, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const POLICY = `
rules:
  - id: ticket-editors
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, insert, update, delete]
      read: [public.tickets]
      write_columns: [public.tickets.status, Tickets.Note]
  - id: user-writers
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, insert, update, delete]
      write: [public.users, public.user_view, public.events, public.events_2024, public.notes]
  - id: no-role-writes
    effect: deny
    tool: query_database
    sql: { write_columns: [public.users.role, public.users.profile, public.events.flag] }
`;

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2ewritecols' });
  await db.query(`
    CREATE TYPE meta_t AS (status text, name text);
    CREATE TABLE tickets (id int PRIMARY KEY, status text, note text, priority int, meta meta_t);
    INSERT INTO tickets VALUES (1, 'open', 'n', 1, ROW('m', 'm')), (2, 'open', 'n', 1, ROW('m', 'm'));
    CREATE TABLE users (id int PRIMARY KEY, name text, role text, profile meta_t);
    INSERT INTO users VALUES (1, 'alice', 'user', ROW('p', 'p')), (2, 'bob', 'user', ROW('p', 'p'));
    CREATE VIEW user_view AS SELECT id, name AS display, role AS r FROM users;
    CREATE TABLE events (id int, at date, flag boolean, body text) PARTITION BY RANGE (at);
    CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
    INSERT INTO events VALUES (1, '2024-05-01', false, 'b');
    CREATE TABLE notes (id int PRIMARY KEY, body text);
    INSERT INTO notes VALUES (1, 'n');
    CREATE FUNCTION promote() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN UPDATE users SET role = 'admin'; RETURN NEW; END $$;
    CREATE TRIGGER promote AFTER UPDATE ON notes FOR EACH ROW EXECUTE FUNCTION promote();
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${db.role};
  `);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY }, sqlConfig());
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

type Result = Awaited<ReturnType<SqlWarden['query']>>;

async function row(sql: string): Promise<Record<string, unknown> | undefined> {
  return (await db.query(sql)).rows[0] as Record<string, unknown> | undefined;
}

function refused(r: Result, sql: string, rule?: string): void {
  assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
  assert.match(r.text, /^WARDEN_DENIED: /, sql);
  if (rule) {
    const ids = (r.structured as { error: { rule_ids: string[] } }).error.rule_ids;
    assert.ok(ids.includes(rule), `${sql}: rule ${rule} not in ${JSON.stringify(ids)}`);
  }
}

test('a granted column write runs and changes the row', async () => {
  const r = await warden.query("UPDATE tickets SET status = 'closed', note = 'done' WHERE id = 1");
  assert.equal(r.isError, false, r.text);
  assert.deepEqual(await row('SELECT status, note, priority FROM tickets WHERE id = 1'), { status: 'closed', note: 'done', priority: 1 });
});

test('a column outside the grant, or the whole row, is refused and nothing changes', async () => {
  for (const sql of ['UPDATE tickets SET priority = 9 WHERE id = 2', 'DELETE FROM tickets WHERE id = 2', "INSERT INTO tickets VALUES (3, 'open', 'n', 1)"]) {
    refused(await warden.query(sql), sql);
  }
  assert.deepEqual(await row('SELECT count(*)::int AS n, max(priority) AS p FROM tickets'), { n: 2, p: 1 });
});

test('a denied column write is refused with the rule id; other columns of the table may be written', async () => {
  const sql = "UPDATE users SET role = 'admin' WHERE id = 1";
  const r = await warden.query(sql);
  refused(r, sql, 'no-role-writes');
  assert.match(r.text, /public\.users\.role/);
  assert.deepEqual(await row('SELECT role FROM users WHERE id = 1'), { role: 'user' });
  const ok = await warden.query("UPDATE users SET name = 'alicia' WHERE id = 1");
  assert.equal(ok.isError, false, ok.text);
  assert.deepEqual(await row('SELECT name, role FROM users WHERE id = 1'), { name: 'alicia', role: 'user' });
});

test('a DELETE writes every column: refused under a column deny', async () => {
  refused(await warden.query('DELETE FROM users WHERE id = 2'), 'DELETE', 'no-role-writes');
  assert.deepEqual(await row('SELECT count(*)::int AS n FROM users'), { n: 2 });
});

test('through a data-modifying CTE and an upsert', async () => {
  for (const sql of [
    "WITH u AS (UPDATE users SET role = 'admin' WHERE id = 1 RETURNING id) SELECT id FROM u",
    "INSERT INTO users (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET role = 'admin'",
  ]) refused(await warden.query(sql), sql, 'no-role-writes');
  assert.deepEqual(await row('SELECT role FROM users WHERE id = 1'), { role: 'user' });
});

test('through an updatable view, onto the base column (and not its other columns)', async () => {
  refused(await warden.query("UPDATE user_view SET r = 'admin' WHERE id = 1"), 'view r', 'no-role-writes');
  assert.deepEqual(await row('SELECT role FROM users WHERE id = 1'), { role: 'user' });
  const ok = await warden.query("UPDATE user_view SET display = 'al' WHERE id = 1");
  assert.equal(ok.isError, false, ok.text);
  assert.deepEqual(await row('SELECT name FROM users WHERE id = 1'), { name: 'al' });
});

test("a partition's column is its parent's: the parent's column deny holds on it", async () => {
  refused(await warden.query('UPDATE events_2024 SET flag = true WHERE id = 1'), 'partition', 'no-role-writes');
  refused(await warden.query('UPDATE events SET flag = true WHERE id = 1'), 'parent', 'no-role-writes');
  assert.deepEqual(await row('SELECT flag FROM events WHERE id = 1'), { flag: false });
  const ok = await warden.query("UPDATE events_2024 SET body = 'c' WHERE id = 1");
  assert.equal(ok.isError, false, ok.text);
  assert.deepEqual(await row('SELECT body FROM events WHERE id = 1'), { body: 'c' });
});

test('a trigger whose function Warden does not read is refused under a column deny (it could write the column)', async () => {
  const sql = "UPDATE notes SET body = 'x' WHERE id = 1";
  const r = await warden.query(sql);
  refused(r, sql, 'no-role-writes');
  assert.match(r.text, /trigger promote/);
  assert.deepEqual(await row('SELECT role FROM users WHERE id = 1'), { role: 'user' });
  assert.deepEqual(await row('SELECT body FROM notes WHERE id = 1'), { body: 'n' });
});

test('a qualified SET target (a composite field: PostgreSQL writes column meta) is refused, not judged as the field', async () => {
  // The parser reads `meta.status` as column status of a table meta; PostgreSQL writes column
  // meta: the grant of tickets.status let it write meta, the deny on users.profile missed it.
  for (const sql of [
    "UPDATE tickets SET meta.status = 'x' WHERE id = 2",
    "UPDATE tickets t SET t.status = 'x' WHERE id = 2",
    "UPDATE users SET profile.name = 'x' WHERE id = 2",
    "UPDATE users SET profile.name.x = 'x' WHERE id = 2",
  ]) {
    const r = await warden.query(sql);
    assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
    assert.match(r.text, /^WARDEN_PARSE: .*qualified SET target/, sql);
  }
  assert.deepEqual(await row('SELECT status, meta::text AS meta FROM tickets WHERE id = 2'), { status: 'open', meta: '(m,m)' });
  assert.deepEqual(await row('SELECT name, profile::text AS profile FROM users WHERE id = 2'), { name: 'bob', profile: '(p,p)' });
  const ok = await warden.query("UPDATE tickets SET status = 'fine' WHERE id = 2");
  assert.equal(ok.isError, false, ok.text);
});
