import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../src/policy/load.js';
import { decide, visibleTools } from '../../src/policy/engine.js';
import { sqlCondition } from '../../tools/postgres/sql-condition.js';
import { analyzeSql } from '../../tools/postgres/analysis/index.js';
import type { Principal } from '../../src/tool-api.js';

const POLICY = `
rules:
  - id: read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.t] }
  - id: ci-only
    effect: allow
    who: { claims: { repository: org/app } }
    tool: query_database
    sql: { statements: [select], read: [public.builds] }
  - id: fix
    effect: allow
    who: { subjects: [sam] }
    tool: query_database
    sql: { statements: [update], write: [public.t] }
    approval: { reviewers: { groups: [dba] }, expires: 30m, wait: 5s }
  - id: never-drop
    effect: deny
    tool: query_database
    sql: { statements: [drop] }
    reason: no drops
`;
const policy = compilePolicy(['p.yaml'], [sqlCondition], { 'p.yaml': POLICY });
const ana: Principal = { subject: 'ana', groups: ['analysts'], claims: {}, authMethod: 'stdio' };
const sam: Principal = { subject: 'sam', groups: [], claims: {}, authMethod: 'stdio' };
const ci: Principal = { subject: 'ci', groups: [], claims: { repository: 'org/app' }, authMethod: 'oidc' };
const call = (sql: string, connection = 'db') => ({ tool: 'query_database', connection, args: { sql } });
const run = (p: Principal, sql: string, connection = 'db') => decide(policy, p, call(sql, connection), analyzeSql(sql));

test('an allow matches only within who, tool, connection and conditions', () => {
  assert.equal(run(ana, 'SELECT * FROM t').effect, 'allow');
  assert.deepEqual(run(ana, 'SELECT * FROM t').ruleIds, ['read']);
  assert.equal(run(ana, 'SELECT * FROM t', 'other').effect, 'deny');
  assert.equal(run(sam, 'SELECT * FROM t').effect, 'deny');
  assert.equal(run(ana, 'SELECT * FROM secrets').effect, 'deny');
});

test('deny by default names no rule and says what is allowed instead', () => {
  const d = run(ana, 'SELECT * FROM secrets');
  assert.deepEqual(d.ruleIds, []);
  assert.match(d.reason, /no rule allows/);
  assert.ok(d.alternatives.some((a) => a.startsWith('read:')));
});

test('deny wins over allow and carries its reason', () => {
  const d = run(ana, 'DROP TABLE t');
  assert.equal(d.effect, 'deny');
  assert.deepEqual(d.ruleIds, ['never-drop']);
  assert.equal(d.reason, 'no drops');
});

test('claims in who match verified token claims only', () => {
  assert.equal(run(ci, 'SELECT * FROM builds').effect, 'allow');
  assert.equal(run({ ...ci, claims: { repository: 'org/other' } }, 'SELECT * FROM builds').effect, 'deny');
});

test('an approval obligation rides on the allow', () => {
  const d = run(sam, "UPDATE t SET a = 1");
  assert.equal(d.effect, 'allow');
  assert.equal(d.approval?.ruleId, 'fix');
  assert.equal(d.approval?.expires, 30 * 60_000);
  assert.equal(d.approval?.wait, 5000);
});

test('discovery shows a principal only the tools some allow could grant', () => {
  const none: Principal = { subject: 'x', groups: [], claims: {}, authMethod: 'stdio' };
  assert.deepEqual(visibleTools(policy, none, ['query_database', 'ssh_run']), []);
  assert.deepEqual(visibleTools(policy, ana, ['query_database', 'ssh_run']), ['query_database']);
});
