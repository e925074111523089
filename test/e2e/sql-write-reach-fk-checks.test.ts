/**
 * A write's foreign key checks read the other table (widened-relations.ts), through `warden
 * serve` against a real PostgreSQL: an INSERT (or an UPDATE of the key columns) checks that the
 * referenced key exists, a DELETE (or an UPDATE of the referenced key) that no NO ACTION or
 * RESTRICT key still references the rows. Whether the write fails says what the other table
 * holds, one bit a statement, so a deny on reading that table refuses the write; the same
 * writes run with no deny, and a key to a table the policy may read runs under it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { countRows, ownTables, sqlConfig, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const GRANT = `
rules:
  - id: writers
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, insert, update, delete]
      write: [public.notes, public.users, public.comments, public.tickets]
`;

const DENY = `
  - id: no-secrets
    effect: deny
    tool: query_database
    sql: { read: [public.secrets] }
  - id: no-vault-low
    effect: deny
    tool: query_database
    sql: { read: [public.vault_low] }
`;

let db: TestDatabase;
let guarded: SqlWarden;
let open: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2efkcheck' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text);
    CREATE TABLE secrets (k int PRIMARY KEY, user_id int REFERENCES users (id), body text);
    CREATE TABLE notes (id int PRIMARY KEY, k int REFERENCES secrets (k), body text);
    CREATE TABLE comments (id int PRIMARY KEY, user_id int REFERENCES users (id), body text);
    INSERT INTO users VALUES (1, 'a'), (2, 'b'), (3, 'c');
    INSERT INTO secrets VALUES (42, 2, 'the answer');
    CREATE TABLE vault (k int PRIMARY KEY) PARTITION BY RANGE (k);
    CREATE TABLE vault_low PARTITION OF vault FOR VALUES FROM (0) TO (100);
    CREATE TABLE vault_high PARTITION OF vault FOR VALUES FROM (100) TO (1000);
    CREATE TABLE tickets (id int PRIMARY KEY, k int REFERENCES vault (k));
    INSERT INTO vault VALUES (5), (500);
  `);
  await ownTables(db, ['users', 'secrets', 'notes', 'comments', 'vault', 'vault_low', 'vault_high', 'tickets']);
  guarded = await startSqlWarden(db, { 'p.yaml': GRANT + DENY }, sqlConfig());
  open = await startSqlWarden(db, { 'p.yaml': GRANT }, sqlConfig());
});

after(async () => {
  await guarded?.close();
  await open?.close();
  await db?.drop();
});

const count = (from: string): Promise<number> => countRows(db, from);

type Result = Awaited<ReturnType<SqlWarden['query']>>;

/** Refused by no-secrets, saying which foreign key check reads public.secrets. */
function refused(r: Result, path: RegExp): void {
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /^WARDEN_DENIED: /);
  assert.match(r.text, /no-secrets/);
  assert.match(r.text, /its foreign key check reads public\.secrets/);
  assert.match(r.text, path);
  assert.doesNotMatch(r.text, /23503|violates foreign key/);
  assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['no-secrets'], r.text);
}

describe('foreign key checks under a deny on reading the other table', () => {
  test('an INSERT whose key is checked against the denied table is refused, hit or miss', async () => {
    for (const k of [42, 7]) {
      const r = await guarded.query(`INSERT INTO notes VALUES (${k}, ${k}, 'guess')`);
      refused(r, /public\.notes .*notes_k_fkey/);
    }
    assert.equal(await count('notes'), 0);
  });

  test('an UPDATE setting the key column is refused; one of another column runs', async () => {
    await db.query("INSERT INTO notes VALUES (1, NULL, 'x')");
    try {
      refused(await guarded.query('UPDATE notes SET k = 42 WHERE id = 1'), /notes_k_fkey/);
      const other = await guarded.query("UPDATE notes SET body = 'y' WHERE id = 1");
      assert.equal(other.isError, false, other.text);
    } finally {
      await db.query('DELETE FROM notes');
    }
  });

  test('a DELETE checked by a NO ACTION key of the denied table is refused', async () => {
    refused(await guarded.query('DELETE FROM users WHERE id BETWEEN 1 AND 2'), /public\.users .*secrets_user_id_fkey/);
    assert.equal(await count('users'), 3);
  });

  test('an UPDATE of the referenced key checked by the denied table is refused', async () => {
    refused(await guarded.query('UPDATE users SET id = id + 100 WHERE id BETWEEN 1 AND 2'), /secrets_user_id_fkey/);
    assert.equal(await count('users WHERE id < 100'), 3);
  });

  test('an UPDATE of another column of the referenced table runs', async () => {
    const r = await guarded.query("UPDATE users SET name = 'z' WHERE id = 3");
    assert.equal(r.isError, false, r.text);
  });

  test('a key to a table the policy may read still writes', async () => {
    const ins = await guarded.query("INSERT INTO comments VALUES (1, 1, 'hi')");
    assert.equal(ins.isError, false, ins.text);
    const del = await guarded.query('DELETE FROM comments WHERE id = 1');
    assert.equal(del.isError, false, del.text);
    assert.equal(await count('comments'), 0);
  });

  test('a key to a partitioned table reads its partitions: a deny on one refuses the INSERT', async () => {
    const r = await guarded.query('INSERT INTO tickets VALUES (1, 5)');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /^WARDEN_DENIED: .*no-vault-low/);
    assert.match(r.text, /public\.tickets checks foreign key tickets_k_fkey: its foreign key check reads public\.vault, which returns, named without ONLY, the rows of public\.vault_low/);
    assert.deepEqual((r.structured as { error: { rule_ids: string[] } }).error.rule_ids, ['no-vault-low'], r.text);
    assert.equal(await count('tickets'), 0);
    const open_ = await open.query('INSERT INTO tickets VALUES (1, 500)');
    assert.equal(open_.isError, false, open_.text);
  });

  test('a plain SELECT of the writable tables is not refused', async () => {
    for (const sql of ['SELECT * FROM notes', 'SELECT * FROM users']) {
      const r = await guarded.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text}`);
    }
  });
});

describe('the same writes with no deny', () => {
  test('run, and PostgreSQL checks the keys', async () => {
    const hit = await open.query("INSERT INTO notes VALUES (42, 42, 'ok')");
    assert.equal(hit.isError, false, hit.text);
    const miss = await open.query("INSERT INTO notes VALUES (7, 7, 'no')");
    assert.equal(miss.isError, true, miss.text);
    const del = await open.query('DELETE FROM users WHERE id = 3');
    assert.equal(del.isError, false, del.text);
    const upd = await open.query('UPDATE users SET id = id + 100 WHERE id = 1');
    assert.equal(upd.isError, false, upd.text);
    assert.equal(await count('users WHERE id = 101'), 1);
  });
});
