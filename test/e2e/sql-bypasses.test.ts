/**
 * Bypasses found in review, through `warden serve` (real MCP client over stdio) against a real
 * PostgreSQL whose settings try to make the server read a statement differently from Warden:
 * functional notation (`t.f` is `f(t)`), values quoted in error messages, a database with
 * standard_conforming_strings off, and a role whose search_path puts its own schema first.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from '../support/warden-process.js';
import { sqlConfig, noLeakOf } from '../support/sql-warden.js';

const CONFIG = sqlConfig();

// Column masking only (no content detectors): what must hold comes from lineage alone.
const policy = (detectors: string) => `
masking:
  columns:
    - { column: public.users.email, with: partial }
    - { column: public.users.ssn, with: redact }
  detectors: [${detectors}]
rules:
  - id: read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select]
      read: [public.users, public.orders]
      functions: [count, lower, upper, abs, length, json_each, generate_series]
`;

const EMAIL = 'alice@example.com';
const SSN = '123-45-6789';
const SECRET = 'top-secret-launch-code';
const SHADOW = 'shadow-row-from-role-schema';

let db: TestDatabase;
const dirs: WardenDir[] = [];
let lineageOnly: WardenSession;
let withDetectors: WardenSession;

before(async () => {
  db = await createTestDatabase({ prefix: 'bypass' });
  await db.query(`
    CREATE TABLE users (id serial PRIMARY KEY, name text, email text, ssn text);
    CREATE TABLE orders (id serial PRIMARY KEY, user_id int, total numeric);
    CREATE TABLE secrets (id serial PRIMARY KEY, value text);
    INSERT INTO users (name, email, ssn) VALUES ('Alice', '${EMAIL}', '${SSN}');
    INSERT INTO orders (user_id, total) VALUES (1, 10);
    INSERT INTO secrets (value) VALUES ('${SECRET}');
    CREATE SCHEMA ${db.role} AUTHORIZATION ${db.role};
    CREATE TABLE ${db.role}.users (id int, name text, email text, ssn text);
    INSERT INTO ${db.role}.users VALUES (9, '${SHADOW}', 'x@y.z', '000');
    ALTER DATABASE ${db.dbName} SET standard_conforming_strings = off;
    ALTER ROLE ${db.role} SET search_path = "$user", public;
  `);
  for (const t of ['users', 'orders', 'secrets']) await db.query(`ALTER TABLE public.${t} OWNER TO ${db.role}`);
  await db.query(`ALTER TABLE ${db.role}.users OWNER TO ${db.role}`);
  for (const [name, detectors] of [['lineage', ''], ['detectors', 'email, us_ssn']] as const) {
    const dir = writeWardenDir(CONFIG, { 'p.yaml': policy(detectors) });
    dirs.push(dir);
    const w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: db.url });
    if (name === 'lineage') lineageOnly = w;
    else withDetectors = w;
  }
});

after(async () => {
  await lineageOnly?.close();
  await withDetectors?.close();
  await db?.drop();
  for (const d of dirs) d.cleanup();
});

const query = (w: WardenSession, sql: string) => w.call('query_database', { connection: 'db', sql });

const assertNoLeak = noLeakOf([EMAIL, SSN, SSN.replace(/-/g, ''), SECRET, SHADOW], { caseless: true });

describe('functional notation: t.f is the call f(t)', () => {
  test('a column-form call on a function source is refused before it runs (it would run the SQL text it is given)', async () => {
    const r = await query(lineageOnly, `SELECT t.ts_stat FROM lower('SELECT to_tsvector(''simple'', value) FROM secrets') t`);
    assert.equal(r.isError, true);
    // ts_stat runs the SELECT text it is given: never under a read grant, so the decision refuses it first.
    assert.match(r.text, /^WARDEN_(PARSE: .*ts_stat\(t\)|DENIED: .*function ts_stat is never allowed under a read grant)/);
    assertNoLeak(r, 'ts_stat');
  });

  for (const col of ['json_agg', 'jsonb_agg', 'array_agg', 'pg_column_size', 'row_to_json']) {
    test(`u.${col} over a granted table is refused or masked, never the raw rows`, async () => {
      const r = await query(lineageOnly, `SELECT u.${col} FROM users u`);
      assert.equal(r.isError, true, `u.${col} must not run: ${r.text.slice(0, 200)}`);
      assert.match(r.text, /^WARDEN_(PARSE|DENIED): /);
      assertNoLeak(r, `u.${col}`);
    });
  }

  test('through a subquery star the same name is checked against the base table', async () => {
    const r = await query(lineageOnly, 'SELECT s.json_agg FROM (SELECT * FROM users) s');
    assert.equal(r.isError, true);
    assertNoLeak(r, 's.json_agg');
  });

  test('real qualified columns, declared function columns and recursive CTE columns still work', async () => {
    for (const sql of [
      'SELECT u.id, u.email FROM users u',
      `SELECT j.key, j.value FROM json_each('{"a": 1}') j`,
      'SELECT g.n FROM generate_series(1, 3) AS g(n)',
      'SELECT x FROM generate_series(1, 2) x',
      'WITH RECURSIVE t AS (SELECT 1 AS n UNION ALL SELECT t.n + 1 FROM t WHERE t.n < 3) SELECT count(*) FROM t',
    ]) {
      const r = await query(lineageOnly, sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 200)}`);
      assertNoLeak(r, sql);
    }
    const r = await query(lineageOnly, 'SELECT u.email FROM users u');
    assert.match(r.text, /a\*+@example\.com/, 'the email arrives masked by lineage');
  });
});

describe('errors never carry what the database quoted', () => {
  for (const [sql, why] of [
    ['SELECT id FROM users WHERE email::int = 1', 'a masked email cast in WHERE'],
    ['SELECT count(*) FROM users WHERE (ssn || ssn)::numeric > 0', 'a doubled SSN the detector would miss'],
    ['SELECT id FROM users ORDER BY upper(email)::int', 'a cast in ORDER BY'],
  ] as const) {
    test(why, async () => {
      for (const w of [lineageOnly, withDetectors]) {
        const r = await query(w, sql);
        assert.equal(r.isError, true);
        assert.match(r.text, /^WARDEN_BACKEND_ERROR: database error: invalid text representation \(SQLSTATE 22P02\)/);
        assertNoLeak(r, why);
      }
    });
  }

  test('the transcript holds the same withheld message, not the value', async () => {
    const { readFileSync, existsSync } = await import('node:fs');
    for (const d of dirs) {
      const raw = Buffer.concat([d.dbPath, d.dbPath + '-wal'].filter((f) => existsSync(f)).map((f) => readFileSync(f))).toString('latin1').toLowerCase();
      for (const secret of [EMAIL, SSN, SECRET, SHADOW]) assert.equal(raw.includes(secret.toLowerCase()), false, `transcript holds ${secret}`);
    }
  });
});

describe('server settings are pinned to what the analyser assumes', () => {
  test('standard_conforming_strings off in the database does not make a backslash end a string early', async () => {
    const r = await query(lineageOnly, `SELECT 'a\\'' AS p, (SELECT value FROM secrets LIMIT 1) AS v --'`);
    assertNoLeak(r, 'backslash quote');
    const s = await query(lineageOnly, `SELECT 'a\\b' AS p`);
    assert.equal(s.isError, false, s.text);
    assert.match(JSON.stringify(s.structured), /a\\\\b/, 'the backslash is an ordinary character');
  });

  test(`the role's search_path ("$user" first) does not redirect an unqualified table`, async () => {
    const r = await query(lineageOnly, 'SELECT id, name FROM users');
    assert.equal(r.isError, false, r.text);
    assert.match(r.text, /Alice/);
    assertNoLeak(r, 'search_path');
  });
});

describe('stars and whole rows', () => {
  test('SELECT * over a table with masked columns runs, each column masked by its field metadata', async () => {
    for (const sql of ['SELECT * FROM users', 'SELECT u.* FROM users u', 'SELECT * FROM users u JOIN orders o ON o.user_id = u.id']) {
      const r = await query(lineageOnly, sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 200)}`);
      assert.match(r.text, /a\*+@example\.com/, `${sql}: email masked partially`);
      assert.match(r.text, /Alice/);
      assertNoLeak(r, sql);
    }
  });

  test('a star whose fields carry no table (UNION, a function source) is refused, never passed unmasked', async () => {
    for (const sql of ['SELECT * FROM users UNION ALL SELECT * FROM users', 'SELECT u.*, t.* FROM users u, lower(CAST(u.* AS text)) t']) {
      const r = await query(lineageOnly, sql);
      assertNoLeak(r, sql);
      assert.match(r.text, /^WARDEN_DENIED: masked column public\.users\.(email|ssn) flows through an expression/, sql);
    }
  });

  test('a recursive CTE that moves a masked column into another column keeps its lineage', async () => {
    const sql = "WITH RECURSIVE r(x, y, n) AS (SELECT email, CAST('a' AS text), 1 FROM users UNION ALL SELECT y, x, n + 1 FROM r WHERE n < 2) SELECT y FROM r";
    const r = await query(lineageOnly, sql);
    assertNoLeak(r, sql);
    assert.match(r.text, /^WARDEN_DENIED: masked column public\.users\.email flows through an expression/);
  });

  test('a whole row in one value is still refused (table or subquery)', async () => {
    for (const sql of ['SELECT u FROM users u', 'SELECT s FROM (SELECT email FROM users) s']) {
      const r = await query(lineageOnly, sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 200)}`);
      assert.match(r.text, /^WARDEN_DENIED: masked column public\.users\.email flows through an expression/);
      assertNoLeak(r, sql);
    }
  });
});
