/**
 * Red-team pass on `who:` against token shapes IdPs really send: a deny on a nested claim
 * (`realm_access.roles`, read by a dotted name like `groups_claim`), a claim list of lists, an
 * `act` that is a list or a bare name, and an agent acting for an admin reaching explain_call.
 * Each must refuse (a deny matches more, never less); allows stay exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../src/policy/load.js';
import { decide } from '../../src/policy/engine.js';
import { sqlCondition } from '../../tools/postgres/sql-condition.js';
import { analyzeSql } from '../../tools/postgres/analysis/index.js';
import { explainCallTool, hiddenFrom, isAdmin } from '../../src/pipeline/builtins/explain-call.js';
import { principalFingerprint } from '../../src/server/http-sessions.js';
import type { Principal } from '../../src/tool-api.js';

const policy = compilePolicy(['p.yaml'], [sqlCondition], {
  'p.yaml': `
rules:
  - id: staff-read
    effect: allow
    who: { groups: [staff] }
    tool: query_database
    sql: { statements: [select], read: [public.t] }
  - id: nested-grant
    effect: allow
    who: { claims: { "realm_access.roles": builder } }
    tool: query_database
    sql: { statements: [select], read: [public.builds] }
  - id: no-contractor-role
    effect: deny
    who: { claims: { "realm_access.roles": contractor } }
  - id: no-app-auditor
    effect: deny
    who: { claims: { "resource_access.shop.roles": auditor } }
  - id: no-tier-zero
    effect: deny
    who: { claims: { tier: "0" } }
  - id: cut-off-agent-x
    effect: deny
    who: { subjects: [agent-x] }
`,
});

const P = (claims: Record<string, unknown> = {}, subject = 'alice', groups = ['staff']): Principal => ({ subject, groups, claims: { iss: 'https://idp.example', ...claims }, authMethod: 'oidc' });
const run = (p: Principal, sql = 'SELECT * FROM t') => decide(policy, p, { tool: 'query_database', connection: 'db', args: { sql } }, analyzeSql(sql));

test('a deny on a nested claim (dotted name) reaches the token that carries it inside an object', () => {
  assert.equal(run(P({ realm_access: { roles: ['dev'] } })).effect, 'allow');
  assert.deepEqual(run(P({ realm_access: { roles: ['dev', 'Contractor'] } })).ruleIds, ['no-contractor-role']);
  assert.deepEqual(run(P({ resource_access: { shop: { roles: ['auditor'] } } })).ruleIds, ['no-app-auditor']);
  // A claim literally named with the dots is still read first.
  assert.deepEqual(run(P({ 'realm_access.roles': 'contractor' })).ruleIds, ['no-contractor-role']);
});

test('allows stay top-level and exact: a nested claim grants nothing', () => {
  assert.equal(run(P({ realm_access: { roles: 'builder' } }, 'ci', []), 'SELECT * FROM builds').effect, 'deny');
  assert.equal(run(P({ 'realm_access.roles': 'builder' }, 'ci', []), 'SELECT * FROM builds').effect, 'allow');
});

test('a deny on a claim reaches a value inside a list of lists', () => {
  assert.deepEqual(run(P({ tier: [[0]] })).ruleIds, ['no-tier-zero']);
});

test('a deny on an agent reaches it when the token carries act as a list or a bare name', () => {
  assert.equal(run(P({ act: [{ sub: 'agent-ok' }] })).effect, 'allow');
  assert.deepEqual(run(P({ act: [{ sub: 'agent-x' }] })).ruleIds, ['cut-off-agent-x']);
  assert.deepEqual(run(P({ act: [{ sub: 'broker' }, { sub: 'agent-x' }] })).ruleIds, ['cut-off-agent-x']);
  assert.deepEqual(run(P({ act: 'Agent-X' })).ruleIds, ['cut-off-agent-x']);
  assert.deepEqual(run(P({ act: { sub: 'broker', act: [{ sub: 'agent-x' }] } })).ruleIds, ['cut-off-agent-x']);
  assert.deepEqual(run(P({ act: { sub: ['agent-x'] } })).ruleIds, ['cut-off-agent-x']);
});

test('explain_call is not for an agent acting for an admin', () => {
  const admins = { subjects: ['root'], groups: ['policy-admins'] };
  const tool = explainCallTool({ policy: () => policy, connections: [], tools: () => [] }, admins);
  const admin = P({}, 'root', ['policy-admins']);
  assert.equal(isAdmin(admins, admin), true);
  assert.equal(hiddenFrom(tool, admin), false);
  for (const act of [{ sub: 'agent-x' }, { sub: 'agent-ok' }, 'agent-x', [{ sub: 'a' }]]) {
    const viaAgent = P({ act }, 'root', ['policy-admins']);
    assert.equal(isAdmin(admins, viaAgent), false, JSON.stringify(act));
    assert.equal(hiddenFrom(tool, viaAgent), true, JSON.stringify(act));
  }
});

test('an HTTP session is bound to nested claims too (a deny reads them)', () => {
  const a = principalFingerprint(P({ realm_access: { roles: ['dev'] } }));
  const b = principalFingerprint(P({ realm_access: { roles: ['dev', 'contractor'] } }));
  assert.notEqual(a, b);
  assert.equal(a, principalFingerprint(P({ realm_access: { roles: ['dev'] } })));
});
