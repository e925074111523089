/**
 * Leaks of masked values found in review, via `warden serve` against a real PostgreSQL:
 * - a rename moves masked values out from under their mask: the mask names
 *   public.users.email, and `ALTER TABLE users RENAME COLUMN email TO contact` (or RENAME TO
 *   another table name) leaves the same values in a column no mask names;
 * - an error message quotes a masked value: `email::regclass` (regtype, regnamespace, ...)
 *   looks the value up as a name, and PostgreSQL answers `relation "<value>" does not exist`
 *   (SQLSTATE 42P01, not a data exception), from a WHERE clause the masks do not cover or from
 *   an output column that on_derived: mask lets run; a column looked up by name at run time
 *   echoes it too (`has_column_privilege('users', ssn, 'SELECT')`,
 *   `pg_get_serial_sequence('users', email)` -> `column "<value>" of relation "users" does not
 *   exist`, 42703, the SQLSTATE of a misspelt column, whose message travels);
 * - RETURNING * (whose fields must carry their table in PostgreSQL's metadata to be masked).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, sqlConfig, startSqlWarden, type SqlWarden, noLeakOf } from '../support/sql-warden.js';

const POLICY = `
masking:
  on_derived: mask
  columns:
    - { column: public.users.email, with: partial }
    - { column: public.users.ssn, with: redact }
rules:
  - id: migrations
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, update, alter]
      read: [public.users, public.people]
      write: [public.users, public.people]
      functions: [lower, has_column_privilege, pg_get_serial_sequence]
`;

const EMAIL = 'alice@example.com';
const SSN = 'A123456789Z';

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2ereview' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text, email text, ssn text);
    INSERT INTO users VALUES (1, 'Alice', '${EMAIL}', '${SSN}');
  `);
  await ownTables(db, ['users']);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY }, sqlConfig());
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

const assertNoLeak = noLeakOf([EMAIL, SSN, 'alice@example'], { caseless: true });

describe('an error message may not quote a masked value', () => {
  for (const sql of [
    'SELECT id FROM users WHERE email::regclass IS NOT NULL',
    'SELECT id FROM users WHERE ssn::regclass IS NOT NULL',
    'SELECT id FROM users WHERE email::regtype IS NOT NULL',
    'SELECT id FROM users WHERE ssn::regnamespace IS NOT NULL',
    'SELECT id FROM users WHERE ssn::regrole IS NOT NULL',
    'SELECT id FROM users WHERE ssn::regproc IS NOT NULL',
    "SELECT id FROM users WHERE (email || ' &')::tsquery IS NOT NULL",
    'SELECT email::regclass FROM users',
    "UPDATE users SET name = 'x' WHERE ssn::regclass IS NOT NULL",
  ]) {
    test(`${sql}: the server's message is withheld`, async () => {
      const r = await warden.query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
      assertNoLeak(r, sql);
      assert.match(r.text, /SQLSTATE/);
    });
  }

  // 42703 (undefined_column) is the SQLSTATE of a misspelt column, but a function that looks a
  // column up by a name it is given at run time raises it with the value as the name.
  for (const sql of [
    "SELECT id FROM users WHERE has_column_privilege('users', ssn, 'SELECT')",
    "SELECT id FROM users WHERE has_column_privilege('public.users'::regclass, email, 'SELECT')",
    "SELECT id FROM users WHERE pg_get_serial_sequence('public.users', ssn) IS NULL",
    "SELECT has_column_privilege('users', email, 'SELECT') FROM users",
    "UPDATE users SET name = 'x' WHERE pg_get_serial_sequence('users', ssn) IS NULL",
  ]) {
    test(`${sql}: a column name looked up at run time is withheld`, async () => {
      const r = await warden.query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
      assertNoLeak(r, sql);
      assert.match(r.text, /^WARDEN_BACKEND_ERROR: .*SQLSTATE 42703.*withheld/);
    });
  }

  test('a misspelt column keeps its message (PostgreSQL points into the statement)', async () => {
    const r = await warden.query('SELECT nope FROM users');
    assert.equal(r.isError, true);
    assert.match(r.text, /column "nope" does not exist \(SQLSTATE 42703\)/);
  });

  test('errors of statements that touch no masked table keep their message', async () => {
    const r = await warden.query("SELECT 'nosuchrel'::regclass");
    assert.equal(r.isError, true);
    assert.match(r.text, /relation "nosuchrel" does not exist/);
  });
});

describe('RETURNING', () => {
  for (const sql of [
    'UPDATE users SET name = name WHERE id = 1 RETURNING *',
    'WITH d AS (UPDATE users SET name = name WHERE id = 1 RETURNING *) SELECT * FROM d',
    'WITH d AS (UPDATE users SET name = name WHERE id = 1 RETURNING users.*) SELECT d.* FROM d',
    'SELECT * FROM (SELECT * FROM users) s',
  ]) {
    test(`${sql}: masked`, async () => {
      const r = await warden.query(sql);
      assert.equal(r.isError, false, r.text.slice(0, 300));
      assertNoLeak(r, sql);
    });
  }
});

describe('a rename may not move masked values out from under their mask', () => {
  for (const sql of [
    'ALTER TABLE public.users RENAME COLUMN email TO contact',
    'ALTER TABLE users RENAME ssn TO code',
    'ALTER TABLE public.users RENAME TO people',
  ]) {
    test(`${sql}: refused`, async () => {
      const r = await warden.query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
      assert.match(r.text, /^WARDEN_DENIED: masked column public\.users\.(email|ssn)/);
    });
  }

  test('the columns and the table kept their names, and reads stay masked', async () => {
    const cols = await db.query("SELECT string_agg(attname, ',' ORDER BY attnum) AS c FROM pg_attribute WHERE attrelid = 'public.users'::regclass AND attnum > 0");
    assert.equal(cols.rows[0]!.c, 'id,name,email,ssn');
    for (const sql of ['SELECT * FROM people', 'SELECT contact, code FROM users']) {
      const r = await warden.query(sql);
      assertNoLeak(r, sql);
    }
  });

  test('renaming an unmasked column still runs', async () => {
    const r = await warden.query('ALTER TABLE public.users RENAME COLUMN name TO full_name');
    assert.equal(r.isError, false, r.text.slice(0, 300));
    await warden.query('ALTER TABLE public.users RENAME COLUMN full_name TO name');
  });
});
