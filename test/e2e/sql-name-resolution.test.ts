/**
 * Bare column names resolved where PostgreSQL resolves them (analysis/unqualified.ts), through
 * `warden serve` against a real PostgreSQL. A bare name PostgreSQL does not find in the innermost
 * query's relations comes from an enclosing query: `(SELECT ssn FROM orders LIMIT 1)` over
 * `FROM users` is users.ssn, and a scalar subquery's field carries no table in PostgreSQL's
 * metadata, so only the analysed lineage can mask it. The analyser took the name for orders'
 * (it cannot know orders has no ssn), or missed a subquery column PostgreSQL names differently
 * from its guess ("case", "array", a scalar subquery named by its column), and returned the
 * value unmasked; a write could store it the same way.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { noLeakOf, ownTables, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const policy = `
masking:
  columns:
    - { column: public.users.email, with: partial }
    - { column: public.users.ssn, with: redact }
  detectors: []
rules:
  - id: read-write-notes
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, insert]
      read: [public.users, public.orders]
      write: [public.notes]
      functions: [count, max, generate_series]
`;

const EMAIL = 'alice@example.com';
const SSN = '123-45-6789';
const assertNoLeak = noLeakOf([EMAIL, SSN, SSN.replace(/-/g, '')], { caseless: true });

let db: TestDatabase;
let sql: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'names' });
  await db.query(`
    CREATE TABLE users (id serial PRIMARY KEY, name text, email text, ssn text);
    CREATE TABLE orders (id serial PRIMARY KEY, user_id int, total numeric);
    CREATE TABLE notes (id serial PRIMARY KEY, body text);
    INSERT INTO users (name, email, ssn) VALUES ('Alice', '${EMAIL}', '${SSN}');
    INSERT INTO orders (user_id, total) VALUES (1, 10);
  `);
  await ownTables(db, ['users', 'orders', 'notes']);
  sql = await startSqlWarden(db, { 'p.yaml': policy });
});

after(async () => {
  await sql?.close();
  await db?.drop();
});

describe('a bare name the inner query lacks comes from the enclosing query', () => {
  for (const [q, why] of [
    ['SELECT (SELECT ssn FROM orders LIMIT 1) AS v FROM users', 'orders has no ssn: it is users.ssn'],
    ['SELECT o.id, (SELECT email FROM orders LIMIT 1) AS e FROM users o', 'orders has no email: it is users.email'],
    ['SELECT (SELECT ssn FROM generate_series(1, 1) g) AS v FROM users', 'a function source has only its declared column'],
    ['SELECT (SELECT s FROM (SELECT 1 AS a) s) AS v FROM (SELECT ssn AS s FROM users) o', "an outer column wins over the inner relation's whole row"],
  ] as const) {
    test(why, async () => {
      const r = await sql.query(q);
      assertNoLeak(r, q);
      if (!r.isError) assert.match(r.text, /\[REDACTED\]|a\*+@example\.com/, `${q}: masked`);
      else assert.match(r.text, /^WARDEN_DENIED: masked column public\.users\.(ssn|email)/, q);
    });
  }
});

describe('a subquery column PostgreSQL names differently from the analyser is still traced', () => {
  for (const q of [
    'SELECT (SELECT ssn FROM (SELECT (SELECT ssn FROM users LIMIT 1)) s) AS v FROM orders',
    'SELECT (SELECT "case" FROM (SELECT CASE WHEN true THEN email END FROM users) s LIMIT 1) AS v FROM orders',
    'SELECT (SELECT "array" FROM (SELECT ARRAY[ssn] FROM users) s LIMIT 1) AS v FROM orders',
    'SELECT "case" FROM orders, (SELECT CASE WHEN true THEN ssn END FROM users) s',
  ]) {
    test(q, async () => {
      const r = await sql.query(q);
      assertNoLeak(r, q);
      if (!r.isError) assert.match(r.text, /\[REDACTED\]/, `${q}: masked`);
      else assert.match(r.text, /^WARDEN_DENIED: masked column public\.users\.(ssn|email) flows through an expression/, q);
    });
  }
});

test('a write cannot store the value an enclosing query supplies', async () => {
  const r = await sql.query('INSERT INTO notes (body) SELECT (SELECT ssn FROM orders LIMIT 1) FROM users');
  assert.equal(r.isError, true, r.text);
  assert.match(r.text, /^WARDEN_DENIED: masked column public\.users\.ssn would be copied into public\.notes\.body/);
  const { rows } = await db.query('SELECT count(*)::int AS n FROM notes');
  assert.equal(rows[0]!.n, 0);
});

test('correlated subqueries and unaliased subquery columns still work', async () => {
  for (const q of [
    'SELECT u.id, (SELECT max(o.total) FROM orders o WHERE user_id = u.id) AS m FROM users u',
    'SELECT name, (SELECT count(*) FROM orders WHERE user_id = users.id) AS n FROM users',
    'SELECT count FROM (SELECT count(*) FROM users) s',
    'SELECT id FROM users WHERE id IN (SELECT user_id FROM orders)',
    'SELECT (SELECT name FROM users LIMIT 1) AS v FROM orders',
  ]) {
    const r = await sql.query(q);
    assert.equal(r.isError, false, `${q}: ${r.text.slice(0, 200)}`);
    assertNoLeak(r, q);
  }
});

describe('WITH RECURSIVE lets a query name one later in its list', () => {
  test('a later query named like a table is refused, not taken for the table', async () => {
    for (const q of [
      'WITH RECURSIVE a AS (SELECT name FROM users), users AS (SELECT CASE WHEN true THEN ssn END AS name FROM public.users) SELECT name FROM a',
      'WITH RECURSIVE a AS (SELECT * FROM users), users AS (SELECT CASE WHEN true THEN email END AS name FROM public.users) SELECT * FROM a',
    ]) {
      const r = await sql.query(q);
      assertNoLeak(r, q);
      assert.equal(r.isError, true, `${q}: ${r.text.slice(0, 200)}`);
      assert.match(r.text, /^WARDEN_PARSE: "users" names a query later in its WITH RECURSIVE list/);
    }
  });

  test('in written order the same queries are traced, and a recursive query after the first works', async () => {
    const traced = await sql.query('WITH RECURSIVE users AS (SELECT CASE WHEN true THEN ssn END AS name FROM public.users), a AS (SELECT name FROM users) SELECT name FROM a');
    assertNoLeak(traced, 'written order');
    assert.match(traced.text, /^WARDEN_DENIED: masked column public\.users\.ssn flows through an expression/);
    const r = await sql.query('WITH RECURSIVE x AS (SELECT 1 AS k), t AS (SELECT 1 AS n UNION ALL SELECT t.n + 1 FROM t WHERE t.n < 3) SELECT count(*) AS c FROM t');
    assert.equal(r.isError, false, r.text);
    assert.match(JSON.stringify(r.structured), /"3"|\b3\b/);
  });
});
