/**
 * Function overloads in public, through `warden serve` against a real PostgreSQL. For an
 * unqualified call PostgreSQL weighs pg_catalog's functions and public's of the same name, and
 * calls public's when it matches the arguments better: with public.lower(int) in the database,
 * `SELECT lower(1)` runs it, while facts (and so the policy, through @safe-read) saw the
 * built-in lower. Here that overload reads a table the policy denies; Warden must refuse the
 * call before it runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const POLICY = `
rules:
  - id: read-items
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select]
      read: [public.items]
      functions: ['@safe-read']
  - id: no-secrets
    effect: deny
    tool: query_database
    sql: { read: [public.secrets] }
    reason: The secrets table is off limits.
`;

const SECRET = 'overload-launch-code-4242';

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'overloads' });
  await db.query(`
    CREATE TABLE items (id int, name varchar(40));
    CREATE TABLE secrets (id int, value text);
    INSERT INTO items VALUES (1, 'Widget');
    INSERT INTO secrets VALUES (1, '${SECRET}');
    CREATE FUNCTION public.lower(int) RETURNS text LANGUAGE sql AS 'SELECT value FROM public.secrets LIMIT 1';
    CREATE FUNCTION public.upper(varchar) RETURNS text LANGUAGE sql AS 'SELECT value FROM public.secrets LIMIT 1';
  `);
  await ownTables(db, ['items', 'secrets']);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY });
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

function noLeak(r: { text: string; structured?: Record<string, unknown> }, what: string): void {
  const all = `${r.text}\n${JSON.stringify(r.structured ?? {})}`;
  assert.ok(!all.includes(SECRET), `${what} leaks the secret: ${all.slice(0, 300)}`);
}

describe('an unqualified call that a public overload would win is refused', () => {
  test('the policy denies the secret table itself', async () => {
    const r = await warden.query('SELECT value FROM secrets');
    assert.match(r.text, /^WARDEN_DENIED: /);
    noLeak(r, 'SELECT value FROM secrets');
  });

  test('SELECT lower(1) would run public.lower(int), which reads the secret: refused', async () => {
    for (const sql of ['SELECT lower(1)', 'SELECT lower(id) FROM items', 'SELECT count(*), lower(1) AS l FROM items']) {
      const r = await warden.query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 200)}`);
      assert.match(r.text, /^WARDEN_PARSE: .*public\.lower exists/);
      noLeak(r, sql);
    }
  });

  test('an overload on varchar wins for a varchar column: refused too', async () => {
    const r = await warden.query('SELECT upper(name) FROM items');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /^WARDEN_PARSE: .*public\.upper exists/);
    noLeak(r, 'upper(name)');
  });

  test('qualified, the built-in runs; functions public does not shadow run unqualified', async () => {
    const q = await warden.query("SELECT pg_catalog.lower('ABC') AS l");
    assert.equal(q.isError, false, q.text);
    assert.match(q.text, /abc/);
    const plain = await warden.query('SELECT count(*) AS n, length(name) AS len FROM items GROUP BY name');
    assert.equal(plain.isError, false, plain.text);
    assert.match(plain.text, /Widget|6/);
    noLeak(plain, 'count/length');
  });

  test('the refusal is not cached: once the overload is dropped, lower runs', async () => {
    await db.query('DROP FUNCTION public.lower(int)');
    const r = await warden.query("SELECT lower('ABC') AS l");
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /abc/);
    noLeak(r, 'lower after drop');
  });
});
