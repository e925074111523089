import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { sqlCondition } from '../../../tools/postgres/sql-condition.js';
import { STATEMENT_KINDS } from '../../../tools/postgres/analysis/kinds.js';

const call = { tool: 'query_database', connection: 'db', args: {} };
const allow = (block: unknown) => sqlCondition.compile(block, { id: 'a', effect: 'allow' });
const deny = (block: unknown) => sqlCondition.compile(block, { id: 'd', effect: 'deny' });
const run = (cond: ReturnType<typeof allow>, sql: string) => cond(analyzeSql(sql), call);

test('schema is strict and spec is registered under sql', () => {
  assert.equal(sqlCondition.key, 'sql');
  assert.deepEqual(sqlCondition.families, ['sql']);
  assert.equal(sqlCondition.schema.safeParse({ statements: ['select'], tables: [] }).success, false);
  assert.equal(sqlCondition.schema.safeParse({ read: ['users'], functions: ['@safe-read'] }).success, true);
});

test('allow: tables are normalised and default to select + @safe-read', () => {
  const a = allow({ read: ['USERS'] });
  assert.equal(run(a, 'SELECT lower(name), count(*) FROM users GROUP BY 1').matched, true);
  assert.equal(run(a, 'SELECT * FROM orders').why, 'table public.orders is not in the allowed tables');
  assert.match(run(a, 'DELETE FROM users').why, /statement delete/);
});

test('allow: functions outside the list and never-under-read functions are named', () => {
  const a = allow({ read: ['public.users'], functions: ['lower', 'pg_read_file'] });
  assert.equal(run(a, "SELECT upper(name) FROM users").why, 'function upper is not in the allowed functions');
  assert.equal(run(a, "SELECT pg_read_file('/etc/passwd')").why, 'function pg_read_file is never allowed under a read grant');
  assert.equal(run(a, 'SELECT "LOWER"(name) FROM users').matched, false);
  assert.equal(run(allow({ read: ['users'], functions: ['@safe-read'] }), 'SELECT u.row_to_json FROM users u').matched, false);
});

test('allow: functions that write or keep state where a read-only transaction does not stop them are never allowed under a read grant', () => {
  // Each ran under a read grant that listed it; PostgreSQL lets the index and statistics ones
  // write in a read-only transaction (brin_summarize_new_values summarised an index as its owner),
  // and DISCARD ALL does not reset setseed's seed of the pooled session's random().
  const calls = [
    "brin_summarize_new_values('public.items_brin')", "brin_summarize_range('public.items_brin', 0)",
    "brin_desummarize_range('public.items_brin', 0)", "gin_clean_pending_list('public.items_gin')",
    "pg_stat_reset_single_table_counters('public.users'::regclass)", 'pg_stat_reset_slru()',
    "pg_replication_origin_create('o')", "pg_replication_origin_session_setup('o')",
    "pg_replication_slot_advance('s', '0/0')", "pg_copy_logical_replication_slot('s', 't')",
    'pg_ls_summariesdir()', 'pg_log_standby_snapshot()', "pg_restore_relation_stats('relation', 'public.users')",
    'setseed(0.5)',
  ];
  for (const c of calls) {
    const fn = c.slice(0, c.indexOf('('));
    const r = run(allow({ read: ['users'], functions: [fn] }), `SELECT ${c} FROM users`);
    assert.equal(r.why, `function ${fn} is never allowed under a read grant`, c);
    // A write grant that lists it still may, in a write.
    assert.equal(run(allow({ statements: ['update'], write: ['users'], functions: [fn] }), `UPDATE users SET name = 'x' WHERE ${c} IS NOT NULL`).matched, true, c);
  }
});

test('allow: a function named without its schema grants only that spelling, and the refusal says how to grant public.f', () => {
  const a = allow({ read: ['users'], functions: ['export_report'] });
  const r = run(a, 'SELECT public.export_report()');
  assert.equal(r.matched, false);
  assert.match(r.why, /^function public\.export_report is not in the allowed functions/);
  assert.match(r.why, /names export_report without a schema.*public\.export_report/);
  // A qualified grant matches; an unrelated refusal carries no hint.
  assert.equal(run(allow({ read: ['users'], functions: ['public.export_report'] }), 'SELECT public.export_report()').matched, true);
  assert.doesNotMatch(run(a, 'SELECT public.other_report()').why, /without a schema/);
});

test('allow: constructs outside a select grant do not match', () => {
  const a = allow({ read: ['users'], write: [] });
  assert.match(run(a, 'SELECT * INTO t FROM users').why, /may not be written|select_into/);
  assert.equal(run(a, 'WITH d AS (UPDATE users SET name = 1 RETURNING id) SELECT * FROM d').matched, false);
  assert.equal(run(a, 'EXPLAIN ANALYZE SELECT * FROM users').matched, false);
  assert.equal(run(allow({ statements: ['select', 'explain'], read: ['users'] }), 'EXPLAIN SELECT * FROM users').matched, true);
});

test('allow: writes need write, reads may come from write', () => {
  const a = allow({ statements: ['update'], write: ['public.orders'] });
  assert.equal(run(a, 'UPDATE orders SET total = 0 WHERE id = 1').matched, true);
  assert.equal(run(a, 'UPDATE users SET name = 1').why, 'table public.users may not be written');
  assert.equal(run(a, 'UPDATE orders SET total = nextval(1)').matched, false);
});

test('deny: any listed item matches; empty block matches everything', () => {
  const d = deny({ statements: ['drop', 'truncate'] });
  assert.equal(run(d, 'DROP TABLE users').matched, true);
  assert.equal(run(d, 'SELECT 1').matched, false);
  assert.equal(run(deny({}), 'SELECT 1').matched, true);
  assert.equal(run(deny({ read: ['secrets'] }), 'SELECT id FROM users WHERE id IN (SELECT id FROM secrets)').why, 'table public.secrets is denied');
  assert.equal(run(deny({ functions: ['PG_SLEEP'] }), 'SELECT "pg_sleep"(1)').matched, true);
  assert.equal(run(deny({ functions: ['pg_catalog.pg_sleep'] }), 'SELECT "PG_SLEEP"(1)').matched, true);
  assert.equal(run(deny({ write: ['users'] }), 'SELECT * FROM users').matched, false);
});

test('describe renders a one-line grant', () => {
  const text = sqlCondition.describe?.({ read: ['users'], functions: ['@safe-read'] }) ?? '';
  assert.equal(text, 'SQL select; reading public.users; functions: @safe-read');
});

test('non-SQL facts never match', () => {
  assert.equal(allow({})({ family: 'shell', summary: '' }, call).matched, false);
});

test('statements: only the kinds the analyser reports; case-insensitive; a typo is refused', () => {
  const schema = sqlCondition.schema;
  assert.equal(schema.safeParse({ statements: [...STATEMENT_KINDS] }).success, true);
  assert.deepEqual((schema.parse({ statements: [' SELECT', 'Drop'] }) as { statements: string[] }).statements, ['select', 'drop']);
  const bad = schema.safeParse({ statements: ['dorp', 'truncate'] });
  assert.equal(bad.success, false);
  assert.deepEqual(bad.error?.issues.map((i) => i.path), [['statements', 0]]);
  assert.match(bad.error?.issues[0]?.message ?? '', /unknown statement kind "dorp" \(known: select, .*drop/);
  for (const kind of ['merge', 'reset', 'copy', 'values', '', 'select; drop']) assert.equal(schema.safeParse({ statements: [kind] }).success, false, kind);
  assert.equal(schema.safeParse({ statements: [1] }).success, false);
});

test('STATEMENT_KINDS is exactly what the analyser reports (one statement of each kind)', () => {
  const samples: Record<string, string> = {
    select: 'SELECT 1', show: 'SHOW search_path', explain: 'EXPLAIN SELECT 1',
    insert: 'INSERT INTO t (a) VALUES (1)', update: 'UPDATE t SET a = 1', delete: 'DELETE FROM t',
    create: 'CREATE SCHEMA s', drop: 'DROP TABLE t', alter: 'ALTER TABLE t RENAME TO u', truncate: 'TRUNCATE t',
    grant: 'GRANT SELECT ON t TO bob', revoke: 'REVOKE SELECT ON t FROM bob', comment: "COMMENT ON TABLE t IS 'x'",
    set: 'RESET search_path', discard: 'DISCARD ALL', lock: 'LOCK TABLE t', execute: 'EXECUTE p', call: 'CALL p()',
    deallocate: 'DEALLOCATE p', checkpoint: 'CHECKPOINT',
    begin: 'START TRANSACTION', commit: 'END', rollback: 'ABORT', savepoint: 'SAVEPOINT s', release: 'RELEASE s',
    listen: 'LISTEN c', unlisten: 'UNLISTEN c', notify: 'NOTIFY c',
  };
  assert.deepEqual(Object.keys(samples).sort(), [...STATEMENT_KINDS].sort(), 'one sample per listed kind');
  for (const [kind, sql] of Object.entries(samples)) {
    const facts = analyzeSql(sql);
    assert.ok(facts.statements.includes(kind), `${sql} -> ${facts.statements.join(',')}`);
    for (const k of facts.statements) assert.ok((STATEMENT_KINDS as readonly string[]).includes(k), `${sql} reports unlisted kind ${k}`);
  }
});

test('deny: a listed kind matches wherever it appears (the guardrail the typo used to disable)', () => {
  const d = deny(sqlCondition.schema.parse({ statements: ['drop', 'truncate'] }));
  assert.equal(run(d, 'drop table public.orders').matched, true);
  assert.equal(run(d, 'TRUNCATE public.orders').matched, true);
});

test('INSERT ... ON CONFLICT: DO UPDATE needs insert and update on the table; DO NOTHING needs insert', () => {
  const upsert = 'INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name';
  const nothing = 'INSERT INTO users (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING';
  const writer = allow({ statements: ['select', 'insert', 'update'], write: ['public.users'] });
  assert.equal(run(writer, upsert).matched, true);
  assert.equal(run(writer, nothing).matched, true);
  assert.equal(run(writer, 'INSERT INTO orders (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET id = 2').why, 'table public.orders may not be written');
  // An insert-only grant does not cover the update the upsert may make.
  const inserter = allow({ statements: ['insert'], write: ['users'] });
  assert.match(run(inserter, upsert).why, /statement update is not in the allowed statements/);
  assert.equal(run(inserter, nothing).matched, true);
  // A read-only grant refuses any upsert.
  const reader = allow({ statements: ['select'], read: ['users'] });
  assert.equal(run(reader, upsert).matched, false);
  assert.equal(run(reader, nothing).matched, false);
  // A subquery in SET reads its table, which the grant must cover.
  assert.equal(run(writer, 'INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET name = (SELECT o.note FROM orders o LIMIT 1)').why, 'table public.orders is not in the allowed tables');
  // Deny rules: an upsert counts as an insert and (DO UPDATE) an update of the table.
  assert.equal(run(deny({ write: ['public.users'] }), upsert).matched, true);
  assert.equal(run(deny({ write: ['public.users'] }), nothing).matched, true);
  assert.equal(run(deny({ statements: ['update'] }), upsert).matched, true);
  assert.equal(run(deny({ statements: ['update'] }), nothing).matched, false);
  assert.equal(run(deny({ statements: ['insert'] }), upsert).matched, true);
  assert.equal(run(deny({ read: ['public.orders'] }), 'INSERT INTO users (id) VALUES (1) ON CONFLICT (id) DO UPDATE SET name = (SELECT o.note FROM orders o LIMIT 1)').matched, true);
});

test('INSERT ... ON CONFLICT ON CONSTRAINT stays refused (not understood)', () => {
  assert.throws(() => analyzeSql('INSERT INTO users (id) VALUES (1) ON CONFLICT ON CONSTRAINT users_pkey DO UPDATE SET name = EXCLUDED.name'), (e: unknown) => (e as { code?: string }).code === 'WARDEN_PARSE');
});
