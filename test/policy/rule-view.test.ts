/**
 * A rule as one principal is told it (rule-view.ts): the tools and connections an unconditional
 * deny keeps that principal off are left out of the words, for tools as for connections; a
 * conditional deny narrows nothing here (it refuses per call), and a principal no deny covers
 * is told the rule as written.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../src/policy/load.js';
import { alternativesFor, describeRuleFor, ruleScopeFor } from '../../src/policy/engine.js';
import { sqlCondition } from '../../tools/postgres/sql-condition.js';
import type { Principal } from '../../src/tool-api.js';

const POLICY = `
rules:
  - id: eng
    effect: allow
    who: { groups: [eng] }
    tool: [query_database, kubectl_get]
    on: [db, prod, cluster]
  - id: anywhere
    effect: allow
    who: { groups: [eng] }
    tool: query_database
  - id: no-kube
    effect: deny
    who: { groups: [contractors] }
    tool: kubectl_get
  - id: no-prod
    effect: deny
    who: { groups: [contractors] }
    on: [prod]
  - id: no-secrets
    effect: deny
    who: { groups: [contractors] }
    on: [db]
    sql: { read: [public.secrets] }
`;
const policy = compilePolicy(['p.yaml'], [sqlCondition], { 'p.yaml': POLICY });
const who = (groups: string[]): Principal => ({ subject: 'x', groups, claims: {}, authMethod: 'stdio' });
const rule = (id: string) => policy.rules.find((r) => r.id === id)!;

test('an unconditional deny takes its tools and connections out of the rule it is told', () => {
  const carol = who(['eng', 'contractors']);
  assert.deepEqual(ruleScopeFor(policy, carol, rule('eng')), { tools: ['query_database'], on: ['db', 'cluster'] });
  assert.equal(describeRuleFor(policy, carol, rule('eng')), 'query_database on db, cluster');
  // A rule on any connection names none, so there is nothing to take out.
  assert.deepEqual(ruleScopeFor(policy, carol, rule('anywhere')), { tools: ['query_database'], on: null });
  assert.ok(alternativesFor(policy, carol, 'query_database', 'db').every((a) => !/prod|kubectl_get/.test(a)));
});

test('a principal no deny covers is told each rule as written', () => {
  const erin = who(['eng']);
  assert.equal(describeRuleFor(policy, erin, rule('eng')), 'query_database/kubectl_get on db, prod, cluster');
  assert.ok(alternativesFor(policy, erin, 'query_database', 'db').some((a) => a === 'eng: query_database/kubectl_get on db, prod, cluster'));
});
