/**
 * current_setting() under masks and deny rules, via `warden serve` against a real PostgreSQL
 * (analysis/settings.ts, setting-reads.ts): a built-in setting (`search_path`, `TimeZone`, any
 * case) reads as without them; a custom setting given to a role or database (`ALTER ROLE/DATABASE
 * ... SET app.secret = '...'`), however it is spelled (case, E'' escapes, dollar quotes, comments),
 * and a name that is no string constant (a column, a concatenation, a subquery) are refused;
 * U& escapes are refused by the lexer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { noLeakOf, ownTables, quotingSuite } from '../support/sql-warden.js';

const DB_SECRET = 'DB-CURRENT-SETTING-SECRET-1';
const ROLE_SECRET = 'ROLE-CURRENT-SETTING-SECRET-2';
const SECRETS = [DB_SECRET, ROLE_SECRET];

const MASKS = `
masking:
  columns:
    - { column: public.t.id, with: redact }
`;

let db: TestDatabase;

/** Statements that read a custom setting, and the secret each returns without masks or denies. */
const LEAKS: [string, string][] = [
  ["SELECT current_setting('app.secret') AS s", DB_SECRET],
  ["SELECT current_setting('app.role_secret', true) AS s", ROLE_SECRET],
  ["SELECT current_setting('App.SECRET') AS s", DB_SECRET],
  ["SELECT current_setting(E'app.\\x73ecret') AS s", DB_SECRET],
  ["SELECT current_setting(E'app\\x2esecret') AS s", DB_SECRET],
  ['SELECT current_setting($$app.secret$$) AS s', DB_SECRET],
  ['SELECT current_setting($q$app.secret$q$::text) AS s', DB_SECRET],
  ["SELECT current_setting /* x */ (\n -- y\n 'app.secret' ) AS s", DB_SECRET],
  ["SELECT pg_catalog.current_setting('app.secret') AS s", DB_SECRET],
  ['SELECT current_setting(name) AS s FROM public.t', DB_SECRET],
  ["SELECT current_setting('app.' || 'secret') AS s", DB_SECRET],
  ['SELECT current_setting((SELECT name FROM public.t)) AS s', DB_SECRET],
  ["SELECT current_setting(lower('APP.SECRET')) AS s", DB_SECRET],
];

/** Built-in settings: read under masks and deny rules as without them. */
const BUILT_IN: [string, RegExp][] = [
  ["SELECT current_setting('search_path') AS s", /pg_catalog/],
  ["SELECT current_setting('TimeZone') AS s", /\w/],
  ["SELECT CURRENT_SETTING('SERVER_VERSION_NUM', true) AS s", /\d{5,6}/],
  ["SELECT current_setting /* a */ ( 'search_path'::text ) AS s", /pg_catalog/],
  ['SELECT current_setting($$standard_conforming_strings$$) AS s', /on/],
  ["SELECT current_setting(E'DateStyle') AS s", /ISO/],
];

before(async () => {
  db = await createTestDatabase({ prefix: 'e2ecurset' });
  await db.query(`
    CREATE TABLE t (id int, name text);
    INSERT INTO t VALUES (1, 'app.secret');
    ALTER DATABASE ${db.dbName} SET app.secret = '${DB_SECRET}';
    ALTER ROLE ${db.role} IN DATABASE ${db.dbName} SET app.role_secret = '${ROLE_SECRET}';
  `);
  await ownTables(db, ['t']);
});

after(async () => {
  await db?.drop();
});

describe('current_setting() under masks and deny rules', () => {
  const g = quotingSuite({
    db: () => db,
    policies: { masks: MASKS },
    leaks: LEAKS,
    refused: [],
    secrets: SECRETS,
    denyReason: /deny rules apply/,
    stillRead: { title: 'built-in settings read under masks and deny rules', sql: BUILT_IN.map(([s]) => s) },
  });

  test('built-in settings answer with their values under masks', async () => {
    for (const [sql, value] of BUILT_IN) {
      const r = await g.masked.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
      assert.match(r.text, value, sql);
    }
  });

  test('the reasons name the custom setting, or say the name is no constant', async () => {
    const cases: [string, RegExp][] = [
      [LEAKS[0]![0], /^WARDEN_DENIED: current_setting returns the value of a setting.*current_setting\('app\.secret'\) reads a custom setting/],
      [LEAKS[2]![0], /current_setting\('app\.secret'\) reads a custom setting/],
      [LEAKS[5]![0], /current_setting\('app\.secret'\) reads a custom setting/],
      [LEAKS[3]![0], /name is not a string constant/],
      [LEAKS[9]![0], /name is not a string constant/],
    ];
    for (const [sql, why] of cases) assert.match((await g.masked.query(sql)).text, why, sql);
  });

  test('Unicode escapes are refused (the lexer refuses U&), masks or not', async () => {
    const noLeak = noLeakOf(SECRETS);
    for (const w of [g.plain, g.masked]) {
      for (const sql of ["SELECT current_setting(U&'app.\\0073ecret') AS s", "SELECT current_setting(U&'search_path')"]) {
        const r = await w.query(sql);
        assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
        assert.match(r.text, /^WARDEN_PARSE: /, sql);
        noLeak(r, sql);
      }
    }
  });
});
