/**
 * Result fields are masked by PostgreSQL's field metadata (table OID, column number), which
 * Warden turns into schema.table.column by asking the catalog. That answer was cached for the
 * life of the process: after a migration renamed tables (`users` to `users_old`, a rebuilt
 * `users_new` to `users`, the usual table swap) or a column (`mail` to `email`), the OID kept the
 * name it had when first seen, and `SELECT * FROM users` returned public.users.email unmasked
 * (the fields of `*` are masked by their metadata alone). Now a cached origin is trusted only
 * while it names a relation the statement names, for the catalog's 60 s, and never across a
 * write made through Warden.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { noLeakOf, ownTables, startSqlWarden, structuredRows, type SqlWarden } from '../support/sql-warden.js';

const policy = `
masking:
  columns:
    - { column: public.users.email, with: redact }
    - { column: public.contacts.email, with: redact }
  detectors: []
rules:
  - id: analysts
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, alter]
      read: [public.users, public.users_new, public.contacts]
      write: [public.contacts]
`;

const NEW_EMAIL = 'bob@example.com';
const CONTACT = 'carol@example.com';
const assertNoLeak = noLeakOf([NEW_EMAIL, CONTACT, 'alice@example.com']);

let db: TestDatabase;
let sql: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'renamed' });
  await db.query(`
    CREATE TABLE users (id int, email text);
    INSERT INTO users VALUES (1, 'alice@example.com');
    CREATE TABLE users_new (id int, email text);
    CREATE TABLE contacts (id int, mail text);
    INSERT INTO contacts VALUES (1, '${CONTACT}');
  `);
  await ownTables(db, ['users', 'users_new', 'contacts']);
  sql = await startSqlWarden(db, { 'p.yaml': policy });
});

after(async () => {
  await sql?.close();
  await db?.drop();
});

test('a table swapped in under a masked name is masked at once', async () => {
  // Warden sees the new table (still empty, so nothing to hide) before the swap.
  const before = await sql.query('SELECT * FROM users_new');
  assert.equal(before.isError, false, before.text);
  await db.query(`
    INSERT INTO users_new VALUES (2, '${NEW_EMAIL}');
    ALTER TABLE users RENAME TO users_old;
    ALTER TABLE users_new RENAME TO users;
  `);
  for (const q of ['SELECT * FROM users', 'SELECT u.* FROM users u', 'SELECT * FROM (SELECT * FROM users) s']) {
    const r = await sql.query(q);
    assertNoLeak(r, q);
    assert.equal(r.isError, false, `${q}: ${r.text}`);
    assert.deepEqual(structuredRows(r), [['2', '[REDACTED]']], q);
  }
});

test('a column renamed through Warden into a masked name is masked at once', async () => {
  // contacts.mail carries no mask: it reads (and its origin is now known) before the rename.
  const first = await sql.query('SELECT * FROM contacts');
  assert.equal(first.isError, false, first.text);
  assert.deepEqual(structuredRows(first), [['1', CONTACT]]);
  const alter = await sql.query('ALTER TABLE public.contacts RENAME COLUMN mail TO email');
  assert.equal(alter.isError, false, alter.text);
  const r = await sql.query('SELECT * FROM contacts');
  assertNoLeak(r, 'SELECT * FROM contacts');
  assert.equal(r.isError, false, r.text);
  assert.deepEqual(structuredRows(r), [['1', '[REDACTED]']]);
});
