/**
 * Table names in `sql:` blocks follow SQL identifier rules, as the analyser reads statements:
 * unquoted parts fold to lower case, "quoted" parts keep their case ("" is one quote). A policy
 * naming "Secrets" (a table created as CREATE TABLE "Secrets") must match it, in deny rules,
 * allow rules and describe_database alike; an ill-formed name is a load error, never a rule
 * that silently matches nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { normalizePolicyTable, policyTableProblem } from '../../../tools/postgres/analysis/names.js';
import { sqlCondition } from '../../../tools/postgres/sql-condition.js';
import { grantedTables } from '../../../tools/postgres/describe-database.js';

const call = { tool: 'query_database', connection: 'db', args: {} };
const allow = (block: unknown) => sqlCondition.compile(block, { id: 'a', effect: 'allow' });
const deny = (block: unknown) => sqlCondition.compile(block, { id: 'd', effect: 'deny' });
const run = (cond: ReturnType<typeof allow>, sql: string) => cond(analyzeSql(sql), call);

test('policy table names: unquoted parts fold, quoted parts keep their case, "" is a quote', () => {
  assert.equal(normalizePolicyTable('"Secrets"'), 'public.Secrets');
  assert.equal(normalizePolicyTable('Secrets'), 'public.secrets');
  assert.equal(normalizePolicyTable('public."Secrets"'), 'public.Secrets');
  assert.equal(normalizePolicyTable('"Sales".Orders'), 'Sales.orders');
  assert.equal(normalizePolicyTable(' "My""Table" '), 'public.My"Table');
  assert.equal(normalizePolicyTable('PUBLIC.USERS'), 'public.users');
  // As the analyser qualifies an unqualified pg_* table (search_path puts pg_catalog first).
  assert.equal(normalizePolicyTable('pg_authid'), 'pg_catalog.pg_authid');
});

test('ill-formed policy table names are named, not folded into a name that never matches', () => {
  for (const bad of ['"Secrets', 'a.b.c', 'a..b', '.a', 'a.', '""', '"a.b"', 'my table', '1abc', '', 'a.b;drop', '"x"y', 'x' .repeat(64)]) {
    assert.ok(policyTableProblem(bad), `${JSON.stringify(bad)} must be reported`);
    assert.throws(() => normalizePolicyTable(bad), /table name/, bad);
  }
  assert.equal(policyTableProblem('public."Secrets"'), null);
  const r = sqlCondition.schema.safeParse({ read: ['public.users', 'a.b.c'], write: ['"Secrets'] });
  assert.equal(r.success, false);
  assert.deepEqual(r.error?.issues.map((i) => i.path), [['read', 1], ['write', 0]]);
  assert.match(r.error?.issues[0]?.message ?? '', /"a\.b\.c".*\[schema\.\]table/);
  assert.match(r.error?.issues[1]?.message ?? '', /unterminated/);
});

test('deny on a quoted table fires on that table, and only on it', () => {
  const d = deny({ read: ['"Secrets"'] });
  assert.equal(run(d, 'SELECT * FROM "Secrets"').matched, true);
  assert.equal(run(d, 'SELECT * FROM public."Secrets"').why, 'table public.Secrets is denied');
  assert.equal(run(d, 'SELECT * FROM secrets').matched, false, 'secrets (folded) is another table');
  assert.equal(run(deny({ read: ['Secrets'] }), 'SELECT * FROM SECRETS').matched, true);
  assert.equal(run(deny({ read: ['Secrets'] }), 'SELECT * FROM "Secrets"').matched, false);
  assert.equal(run(deny({ write: ['"Secrets"'] }), 'UPDATE "Secrets" SET x = 1').matched, true);
});

test('allow on a quoted table matches that table, and only it', () => {
  const a = allow({ read: ['"Secrets"', '"Sales"."Orders"'] });
  assert.equal(run(a, 'SELECT * FROM "Secrets"').matched, true);
  assert.equal(run(a, 'SELECT * FROM "Sales"."Orders"').matched, true);
  assert.equal(run(a, 'SELECT * FROM secrets').matched, false);
  assert.equal(run(a, 'SELECT * FROM sales.orders').matched, false);
  assert.equal(sqlCondition.describe?.({ read: ['"Secrets"'] }), 'SQL select; reading public.Secrets; functions: @safe-read');
});

test('describe_database grants and denies use the same rule', () => {
  const g = grantedTables([{ sql: { read: ['"Secrets"', 'Users'], write: ['"Sales".Orders'] } }]);
  assert.deepEqual([...g.read].sort(), ['public.Secrets', 'public.users']);
  assert.deepEqual([...g.write], ['Sales.orders']);
  const hidden = grantedTables([{ $denies: [{ sql: { read: ['"Secrets"'] } }] }]);
  assert.deepEqual([...hidden.hidden], ['public.Secrets']);
});

test('the analyser refuses a table or schema name containing "." (it would read as a qualified name)', () => {
  for (const sql of ['SELECT * FROM "a.b"', 'SELECT * FROM "x.y".z', 'UPDATE "pub.lic".t SET a = 1', 'CREATE TABLE "a.b" (x int)']) {
    assert.throws(() => analyzeSql(sql), /contains "\."/, sql);
  }
  assert.deepEqual(analyzeSql('SELECT "e.mail" FROM "Users"').reads, ['public.Users']);
});
