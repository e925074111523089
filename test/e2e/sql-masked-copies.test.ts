/**
 * Masked columns may not be copied into a table the agent can read, via `warden serve` (real
 * MCP client over stdio) against a real PostgreSQL. The hole: with public.users.email masked,
 * read on public.users and write on public.notes, `INSERT INTO notes (body) SELECT email FROM
 * users` then `SELECT body FROM notes` returned raw emails (notes.body is not masked, and no
 * lineage leads back). A statement that writes a masked column's value (directly, computed or
 * in a whole row) into any table is refused before it runs, whatever on_derived says.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, sqlConfig, startSqlWarden, type SqlWarden, noLeakOf } from '../support/sql-warden.js';

// on_derived: mask, the lenient setting: copies are refused all the same.
const POLICY = `
masking:
  on_derived: mask
  columns:
    - { column: public.users.email, with: partial }
    - { column: public.users.salary, with: redact }
rules:
  - id: notes-writer
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, insert, update, create]
      read: [public.users, public.user_view]
      write: [public.notes, public.users, public.copy, public.copy2]
      functions: [lower, max]
`;

const EMAIL = 'alice@example.com';
const SALARY = '987654';

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2ecopies' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text, email text, salary int);
    INSERT INTO users VALUES (1, 'Alice', '${EMAIL}', ${SALARY});
    CREATE TABLE notes (id serial PRIMARY KEY, body text);
    CREATE VIEW user_view AS SELECT id, email AS contact FROM users;
    GRANT CREATE, USAGE ON SCHEMA public TO ${db.role};
    GRANT SELECT, UPDATE ON users TO ${db.role};
    GRANT SELECT ON user_view TO ${db.role};
  `);
  await ownTables(db, ['notes']);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY }, sqlConfig());
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

const query = (sql: string) => warden.query(sql);
const ok = async (sql: string, params?: unknown[]) => {
  const r = params ? await warden.w.call('query_database', { connection: 'db', sql, params }) : await query(sql);
  assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
  return r;
};

const assertNoLeak = noLeakOf([EMAIL, SALARY]);

describe('a write may not copy a masked column', () => {
  for (const [sql, column] of [
    ['INSERT INTO public.notes (body) SELECT email FROM public.users', 'email'],
    ['INSERT INTO notes (body) SELECT salary FROM users', 'salary'],
    ['INSERT INTO notes (body) SELECT lower(email) FROM users', 'email'],
    ["INSERT INTO notes (body) SELECT email || '' FROM users", 'email'],
    ['INSERT INTO notes (body) SELECT contact FROM user_view', 'email'],
    ['INSERT INTO notes (body) VALUES ((SELECT max(email) FROM users))', 'email'],
    ['UPDATE public.notes SET body = u.email FROM public.users u WHERE u.id = notes.id', 'email'],
    ['UPDATE public.notes SET body = (SELECT email FROM public.users LIMIT 1)', 'email'],
    ['WITH m AS (INSERT INTO notes (body) VALUES ((SELECT email FROM users LIMIT 1)) RETURNING body) SELECT * FROM m', 'email'],
    ['CREATE TABLE public.copy AS SELECT * FROM public.users', 'email'],
    ['SELECT salary INTO copy2 FROM users', 'salary'],
  ] as const) {
    test(`${sql}: refused before it runs`, async () => {
      const r = await query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
      assert.match(r.text, new RegExp(`^WARDEN_DENIED: masked column public\\.users\\.${column} would be copied into public\\.`));
      assertNoLeak(r, sql);
    });
  }

  test('nothing was copied', async () => {
    const notes = await db.query('SELECT count(*)::int AS n FROM notes');
    assert.equal(notes.rows[0]!.n, 0);
    const copies = await db.query("SELECT count(*)::int AS n FROM pg_class WHERE relname IN ('copy', 'copy2')");
    assert.equal(copies.rows[0]!.n, 0);
  });
});

describe('ordinary writes still run', () => {
  test('INSERT VALUES, UPDATE with a predicate on a masked column, INSERT ... SELECT of unmasked columns', async () => {
    await ok("INSERT INTO notes (body) VALUES ('hello')");
    await ok('UPDATE users SET name = $2 WHERE email = $1', [EMAIL, 'Alicia']);
    await ok('INSERT INTO notes (body) SELECT name FROM users WHERE email IS NOT NULL');
    await ok('CREATE TABLE public.copy AS SELECT id, name FROM users');
    const r = await ok('SELECT body FROM notes ORDER BY id');
    assert.match(r.text, /hello/);
    assert.match(r.text, /Alicia/);
    assertNoLeak(r, 'notes');
  });

  test('RETURNING a masked column is masked', async () => {
    const r = await ok("UPDATE users SET name = 'Al' WHERE id = 1 RETURNING email, salary");
    assert.match(r.text, /a\*+@example\.com/);
    assertNoLeak(r, 'RETURNING');
  });
});
