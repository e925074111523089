/**
 * INSERT ... ON CONFLICT through `warden serve` (real MCP client over stdio) against a real
 * PostgreSQL: understood in the forms node-sql-parser reads (analysis/upsert.ts), DO UPDATE
 * counts as an insert and an update of the table, a masked column comes back masked in
 * RETURNING and may not be copied by SET, and what an upsert's update cascades to is judged by
 * the deny rules like any UPDATE's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { noLeakOf, ownTables, sqlConfig, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const POLICY = `
masking:
  columns:
    - { column: public.users.email, with: redact }
rules:
  - id: writers
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, insert, update]
      write: [public.users, public.accounts, public.scores]
  - id: inserters
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [insert], write: [public.log] }
  - id: readers
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.readonly] }
  - id: no-ledger
    effect: deny
    tool: query_database
    sql: { write: [public.ledger] }
`;

const EMAIL = 'alice@example.com';

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2eupsert' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text, email text);
    CREATE TABLE log (id int PRIMARY KEY, body text);
    CREATE TABLE readonly (id int PRIMARY KEY, body text);
    CREATE TABLE accounts (id int PRIMARY KEY, name text);
    CREATE TABLE ledger (id int PRIMARY KEY, account_id int REFERENCES accounts (id) ON UPDATE CASCADE);
    CREATE TABLE scores (id int PRIMARY KEY, name text);
    INSERT INTO accounts VALUES (1, 'a');
    INSERT INTO ledger VALUES (10, 1);
  `);
  await ownTables(db, ['users', 'log', 'readonly', 'accounts', 'ledger', 'scores']);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY }, sqlConfig());
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

const call = (sql: string, params?: unknown[]) => warden.w.call('query_database', { connection: 'db', sql, ...(params ? { params } : {}) });
const noLeak = noLeakOf([EMAIL]);

async function row(sql: string): Promise<Record<string, unknown> | undefined> {
  return (await db.query(sql)).rows[0] as Record<string, unknown> | undefined;
}

test('an upsert under a write grant inserts, then updates the row', async () => {
  const sql = 'INSERT INTO users (id, name, email) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name';
  let r = await call(sql, [1, 'first', EMAIL]);
  assert.equal(r.isError, false, r.text);
  assert.deepEqual(await row('SELECT name, email FROM users WHERE id = 1'), { name: 'first', email: EMAIL });
  r = await call(sql, [1, 'second', 'other@example.com']);
  assert.equal(r.isError, false, r.text);
  assert.deepEqual(await row('SELECT name, email FROM users WHERE id = 1'), { name: 'second', email: EMAIL });
  r = await call("INSERT INTO users (id, name) VALUES (1, 'ignored') ON CONFLICT DO NOTHING");
  assert.equal(r.isError, false, r.text);
  assert.deepEqual(await row('SELECT name FROM users WHERE id = 1'), { name: 'second' });
});

test('a masked column in RETURNING comes back masked', async () => {
  const r = await call("INSERT INTO users (id, name) VALUES (1, 'third') ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name RETURNING id, name, email");
  assert.equal(r.isError, false, r.text);
  noLeak(r, 'RETURNING email');
  assert.match(r.text, /third/);
  assert.deepEqual(await row('SELECT name, email FROM users WHERE id = 1'), { name: 'third', email: EMAIL });
});

test('SET copying a masked column of the existing row is refused, and does not run', async () => {
  const r = await call("INSERT INTO users (id, name) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET name = users.email");
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /^WARDEN_DENIED: .*masked column public\.users\.email would be copied into public\.users\.name/);
  noLeak(r, 'the refusal');
  assert.deepEqual(await row('SELECT name FROM users WHERE id = 1'), { name: 'third' });
});

test('an insert-only grant allows DO NOTHING, not DO UPDATE; a read-only grant neither', async () => {
  let r = await call("INSERT INTO log (id, body) VALUES (1, 'a') ON CONFLICT (id) DO NOTHING");
  assert.equal(r.isError, false, r.text);
  r = await call("INSERT INTO log (id, body) VALUES (1, 'b') ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body");
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /^WARDEN_DENIED: /);
  assert.deepEqual(await row('SELECT body FROM log WHERE id = 1'), { body: 'a' });
  for (const sql of ["INSERT INTO readonly (id, body) VALUES (1, 'a') ON CONFLICT (id) DO NOTHING", "INSERT INTO readonly (id, body) VALUES (1, 'a') ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body"]) {
    r = await call(sql);
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /^WARDEN_DENIED: /, sql);
  }
  assert.equal(await row('SELECT * FROM readonly'), undefined);
});

test('an upsert whose update cascades into a denied table is refused', async () => {
  const r = await call("INSERT INTO accounts (id, name) VALUES (1, 'b') ON CONFLICT (id) DO UPDATE SET id = 2");
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /^WARDEN_DENIED: /);
  assert.match(r.text, /ledger/);
  assert.deepEqual(await row('SELECT account_id FROM ledger'), { account_id: 1 });
});

test('ON CONFLICT ON CONSTRAINT stays refused as not understood', async () => {
  const r = await call("INSERT INTO users (id, name) VALUES (1, 'x') ON CONFLICT ON CONSTRAINT users_pkey DO UPDATE SET name = EXCLUDED.name");
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /^WARDEN_PARSE: /);
});

test('DO UPDATE ... WHERE is judged as a write\'s WHERE: a masked value computed in it is refused, and nothing runs', async () => {
  // The hole: the DO UPDATE condition was read for its lineage only, never as a predicate, so a
  // subquery over the masked column there picked which conflicting row the update touched:
  // the row whose id is length(email) (or the code of its n-th character) came back marked.
  const ids = Array.from({ length: 40 }, (_, i) => `(${i + 1}, 'a')`).join(', ');
  let r = await call(`INSERT INTO scores (id, name) VALUES ${ids} ON CONFLICT (id) DO NOTHING`);
  assert.equal(r.isError, false, r.text);
  for (const sql of [
    `INSERT INTO scores (id, name) VALUES ${ids} ON CONFLICT (id) DO UPDATE SET name = 'hit' WHERE excluded.id = (SELECT length(email) FROM users WHERE id = 1)`,
    `INSERT INTO scores (id, name) VALUES ${ids} ON CONFLICT (id) DO UPDATE SET name = 'hit' WHERE scores.id IN (SELECT length(email) FROM users)`,
    `INSERT INTO scores (id, name) VALUES ${ids} ON CONFLICT (id) DO UPDATE SET name = 'hit' WHERE EXISTS (SELECT 1 FROM users u WHERE length(u.email) = scores.id)`,
  ]) {
    r = await call(sql);
    assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
    assert.match(r.text, /^WARDEN_DENIED: .*masked column public\.users\.email/, sql);
    noLeak(r, sql);
  }
  assert.equal(await row("SELECT id FROM scores WHERE name = 'hit'"), undefined);
  // A condition on the rows themselves still runs.
  r = await call(`INSERT INTO scores (id, name) VALUES (2, 'b') ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name WHERE scores.name = 'a'`);
  assert.equal(r.isError, false, r.text);
  assert.deepEqual(await row('SELECT name FROM scores WHERE id = 2'), { name: 'b' });
});
