import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql, analyzeSqlCached, isNeverUnderRead, runsQueryText } from '../../../tools/postgres/analysis/index.js';

const isParse = (e: unknown): boolean => (e as { code?: string }).code === 'WARDEN_PARSE';
const src = (sql: string) => analyzeSql(sql).output.map((o) => [o.name, o.sources.map((s) => `${s.table}.${s.column}`).sort(), o.derived]);

test('functions are collected everywhere', () => {
  const cases: [string, string][] = [
    ['SELECT id FROM users WHERE pg_sleep(1) IS NULL', 'pg_sleep'],
    ['SELECT id FROM users ORDER BY pg_sleep(1)', 'pg_sleep'],
    ['SELECT id FROM users GROUP BY id HAVING pg_sleep(1) IS NULL', 'pg_sleep'],
    ["SELECT * FROM users u, LATERAL (SELECT pg_read_file('x')) f", 'pg_read_file'],
    ['SELECT 1 FROM users JOIN orders ON pg_sleep(1) IS NULL', 'pg_sleep'],
    ['WITH x AS (SELECT pg_sleep(1)) SELECT 1', 'pg_sleep'],
    ['SELECT row_number() OVER (ORDER BY pg_sleep(1)) FROM users', 'pg_sleep'],
    ['SELECT count(*) FILTER (WHERE pg_sleep(1) IS NULL) FROM users', 'pg_sleep'],
    ['SELECT 1 FROM users WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_sleep(1))', 'pg_sleep'],
    ['SELECT u.pg_sleep FROM users u', 'pg_sleep'],
    ['SELECT "COUNT"(id) FROM users', 'COUNT'],
  ];
  for (const [sql, fn] of cases) assert.ok(analyzeSql(sql).functions.includes(fn), sql);
});

test('tables: case folding, quoting, schemas, ONLY, CTE shadowing', () => {
  assert.deepEqual(analyzeSql('SELECT * FROM USERS').reads, ['public.users']);
  assert.deepEqual(analyzeSql('SELECT * FROM "Users"').reads, ['public.Users']);
  assert.deepEqual(analyzeSql('SELECT * FROM ONLY users').reads, ['public.users']);
  assert.deepEqual(analyzeSql('SELECT * FROM pg_authid').reads, ['pg_catalog.pg_authid']);
  assert.deepEqual(analyzeSql('WITH users AS (SELECT * FROM secrets) SELECT * FROM users').reads, ['public.secrets']);
  assert.throws(() => analyzeSql('SELECT * FROM db.public.users'), isParse);
});

test('lineage through aliases, CTEs, subqueries, unions and whole rows', () => {
  assert.deepEqual(src('SELECT s.e FROM (SELECT email AS e FROM users) s'), [['e', ['public.users.email'], false]]);
  assert.deepEqual(src('WITH c(a, b) AS (SELECT id, email FROM users) SELECT b FROM c'), [['b', ['public.users.email'], false]]);
  assert.deepEqual(src('SELECT x.y FROM users x(y)'), [['y', ['public.users.*'], true]]);
  assert.deepEqual(src('SELECT to_jsonb(u.*) FROM users u'), [['to_jsonb', ['public.users.*'], true]]);
  assert.deepEqual(src('SELECT u.text FROM users u'), [['text', ['public.users.*'], true]]);
  assert.deepEqual(src('SELECT name FROM users UNION SELECT ssn FROM users'), [['name', ['public.users.name', 'public.users.ssn'], false]]);
  assert.deepEqual(src('SELECT lower(email) e FROM users ORDER BY e'), [['e', ['public.users.email'], true]]);
  assert.deepEqual(src('UPDATE users SET name = name RETURNING email'), [['email', ['public.users.email'], false]]);
  const star = analyzeSql('WITH x AS (SELECT * FROM users) SELECT * FROM x');
  assert.equal(star.hasStar, true);
  assert.deepEqual(star.output[0]?.sources, [{ table: 'public.users', column: '*' }]);
});

test('set operations after a star and recursive CTEs keep every source a column may carry', () => {
  // Past a * the positions are unknown: the rest is one entry carrying both branches from there.
  assert.deepEqual(src('SELECT * FROM orders UNION ALL SELECT id, id, email FROM users'), [['*', ['public.orders.*', 'public.users.email', 'public.users.id'], false]]);
  assert.deepEqual(src('SELECT id, * FROM orders UNION ALL SELECT id, name, email, ssn FROM users').map((c) => c[1]), [['public.orders.id', 'public.users.id'], ['public.orders.*', 'public.users.email', 'public.users.name', 'public.users.ssn']]);
  // A recursive term may move any column into any other, so each carries all of them.
  assert.deepEqual(src("WITH RECURSIVE r(x, y, n) AS (SELECT email, 'a', 1 FROM users UNION ALL SELECT y, x, n + 1 FROM r WHERE n < 2) SELECT y FROM r"), [['y', ['public.users.email'], true]]);
  assert.deepEqual(src('WITH RECURSIVE r AS (SELECT id, name FROM users UNION ALL SELECT r.id, (SELECT ssn FROM users LIMIT 1) FROM r) SELECT r.id FROM r'), [['id', ['public.users.id', 'public.users.name', 'public.users.ssn'], true]]);
});

test('statement kinds, constructs and readOnly', () => {
  const f = analyzeSql('WITH d AS (UPDATE users SET name = 1 RETURNING id) SELECT * FROM d');
  assert.deepEqual(f.statements, ['select', 'update']);
  assert.ok(f.constructs.includes('data_modifying_cte'));
  assert.equal(f.readOnly, false);
  assert.deepEqual(analyzeSql('EXPLAIN ANALYZE DELETE FROM users').statements, ['delete', 'explain']);
  assert.deepEqual(analyzeSql('LISTEN chan').statements, ['listen']);
  assert.deepEqual(analyzeSql('start transaction').statements, ['begin']);
  assert.equal(analyzeSql('SELECT 1').readOnly, true);
  assert.equal(analyzeSql('SELECT * INTO t FROM users').readOnly, false);
});

test('sql is trimmed, one trailing semicolon dropped; stacked statements refused', () => {
  assert.equal(analyzeSql('  SELECT 1 ;  -- bye').sql, 'SELECT 1');
  assert.throws(() => analyzeSql('SELECT 1;;SELECT 2'), isParse);
  assert.throws(() => analyzeSql('   '), isParse);
  assert.throws(() => analyzeSql("SELECT 'a\\'; DROP TABLE users; --'"), isParse);
});

test('backslash differential: facts show what PostgreSQL reads', () => {
  const f = analyzeSql("SELECT 'a\\', email FROM users --'");
  assert.deepEqual(f.reads, ['public.users']);
  assert.ok(f.output.some((o) => o.sources.some((s) => s.column === 'email')));
});

test('unknown shapes are refused', () => {
  for (const sql of ['SELECT (u).email FROM users u', 'COPY users TO STDOUT', 'SELECT s.zz FROM (SELECT id FROM users) s', 'VALUES (1)']) {
    assert.throws(() => analyzeSql(sql), isParse, sql);
  }
});

test('never-under-read normalises spellings', () => {
  for (const n of ['pg_read_file', 'PG_READ_FILE', '"PG_READ_FILE"', 'pg_catalog.pg_read_file', 'dblink_exec', 'lo_export']) {
    assert.equal(isNeverUnderRead(n), true, n);
  }
  assert.equal(isNeverUnderRead('lower'), false);
});

test('functions that run query text are never under read, and views calling them are not followed', () => {
  // ts_stat('SELECT ...') and ts_rewrite(q, 'SELECT ...') run the text they are given.
  for (const n of ['ts_stat', 'pg_catalog.ts_rewrite', 'query_to_xml', 'table_to_xml', 'dblink']) {
    assert.equal(isNeverUnderRead(n), true, n);
    assert.equal(runsQueryText(n), true, n);
  }
  for (const n of ['lower', 'current_setting', 'pg_read_file']) assert.equal(runsQueryText(n), false, n);
});

test('cache returns the same frozen facts', () => {
  const a = analyzeSqlCached('SELECT id FROM users');
  const b = analyzeSqlCached('SELECT id FROM users');
  assert.equal(a, b);
  assert.ok(Object.isFrozen(a) && Object.isFrozen(a.reads) && Object.isFrozen(a.output[0]));
  assert.throws(() => (a.reads as string[]).push('x'));
});

test('setSizes: a SET item is sized only when it is a literal, a parameter, a safe integer or NULL', () => {
  const f = analyzeSql("UPDATE t SET a = 'héllo', b = $2, c = E'x\\n', d = 12, e = 1e300, f = NULL, g = DEFAULT, h = repeat('x', 3), i = 'x'::text, j = a || 'b' WHERE id = 1");
  assert.deepEqual(f.setSizes, [
    { table: 'public.t', column: 'a', bytes: 6 }, { table: 'public.t', column: 'b', param: 2 }, { table: 'public.t', column: 'c', bytes: 3 },
    { table: 'public.t', column: 'd', bytes: 2 }, { table: 'public.t', column: 'e' }, { table: 'public.t', column: 'f', bytes: 0, none: true },
    { table: 'public.t', column: 'g' }, { table: 'public.t', column: 'h' }, { table: 'public.t', column: 'i' }, { table: 'public.t', column: 'j' },
  ]);
  // DO UPDATE's SET items only; EXCLUDED.col is what each VALUES row gives col, sized so.
  assert.deepEqual(analyzeSql("INSERT INTO t (id, a) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a, b = 'lit'").setSizes,
    [{ table: 'public.t', column: 'a', excluded: [{ bytes: 1 }] }, { table: 'public.t', column: 'b', bytes: 3 }]);
  assert.deepEqual(analyzeSql("INSERT INTO t (id, a, b) VALUES (1, 'xy', $1), (2, repeat('x', 9), DEFAULT) ON CONFLICT (id) DO UPDATE SET b = EXCLUDED.a, a = EXCLUDED.b").setSizes,
    [{ table: 'public.t', column: 'b', excluded: [{ bytes: 2 }, {}] }, { table: 'public.t', column: 'a', excluded: [{ param: 1 }, {}] }]);
  // An INSERT ... SELECT, an expression over EXCLUDED: computed.
  for (const sql of ["INSERT INTO t (id, a) SELECT 1, 'x' ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a",
    "INSERT INTO t (id, a) VALUES (1, 'x') ON CONFLICT (id) DO UPDATE SET a = EXCLUDED.a || ''"]) {
    assert.deepEqual(analyzeSql(sql).setSizes, [{ table: 'public.t', column: 'a' }], sql);
  }
  assert.equal(analyzeSql('SELECT 1').setSizes, undefined);
});

test('setSizes: a column an UPDATE sets to itself (SET id = id) is marked same, by plain names only', () => {
  const same = (sql: string) => (analyzeSql(sql).setSizes ?? []).filter((s) => s.same).map((s) => s.column);
  assert.deepEqual(same('UPDATE t SET id = id, a = t.id, b = B WHERE id = 1'), ['id', 'b']);
  assert.deepEqual(same('UPDATE t AS p SET id = p.id, a = u.a FROM u WHERE u.x = p.id'), ['id']);
  // Quoted names that are not plain, a cast, an expression, another table's column, a subscript: not the same.
  assert.deepEqual(same('UPDATE t SET "ID" = "ID", a = a::text, b = b + 0, c = u.c, d = d[1] FROM u'), []);
  // An upsert's DO UPDATE: the existing row's own value, qualified (a bare id is EXCLUDED's too: ambiguous to PostgreSQL), not EXCLUDED's.
  assert.deepEqual(same('INSERT INTO t (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = t.id'), ['id']);
  assert.deepEqual(same('INSERT INTO t (id, a) VALUES (1, 2) ON CONFLICT (id) DO UPDATE SET id = id, a = EXCLUDED.id'), []);
});
