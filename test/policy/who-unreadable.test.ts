/**
 * Red-team pass on `who.claims` denies against claim values Warden cannot read as names: an
 * object, a list of objects, a path through a scalar, a string that lists several values. Such
 * a deny must match (a deny matches more, never less); allows stay exact and grant nothing.
 * Case, width and NFC/NFD spellings of groups, subjects and claim values are covered too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../src/policy/load.js';
import { decide } from '../../src/policy/engine.js';
import { sqlCondition } from '../../tools/postgres/sql-condition.js';
import { analyzeSql } from '../../tools/postgres/analysis/index.js';
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
  - id: repo-read
    effect: allow
    who: { claims: { repository: acme/shop } }
    tool: query_database
    sql: { statements: [select], read: [public.builds] }
  - id: no-contractor-role
    effect: deny
    who: { claims: { roles: contractor } }
  - id: no-nested-contractor
    effect: deny
    who: { claims: { "realm_access.roles": contractor } }
  - id: no-contractors-group
    effect: deny
    who: { groups: [Contractors] }
  - id: no-rene
    effect: deny
    who: { subjects: [René] }
`,
});

const P = (claims: Record<string, unknown> = {}, subject = 'alice', groups = ['staff']): Principal => ({ subject, groups, claims: { iss: 'https://idp.example', ...claims }, authMethod: 'oidc' });
const run = (p: Principal, sql = 'SELECT * FROM t') => decide(policy, p, { tool: 'query_database', connection: 'db', args: { sql } }, analyzeSql(sql));

test('a deny on a claim matches a value it cannot read as names (object, list of objects)', () => {
  assert.equal(run(P({ roles: ['dev'] })).effect, 'allow');
  assert.deepEqual(run(P({ roles: { contractor: true } })).ruleIds, ['no-contractor-role']);
  assert.deepEqual(run(P({ roles: [{ name: 'contractor' }] })).ruleIds, ['no-contractor-role']);
  assert.deepEqual(run(P({ roles: ['dev', [{ name: 'x' }]] })).ruleIds, ['no-contractor-role']);
  assert.deepEqual(run(P({ realm_access: { roles: { contractor: {} } } })).ruleIds, ['no-nested-contractor']);
  // A path that runs through a scalar or a list cannot be read either.
  assert.deepEqual(run(P({ realm_access: 'contractor' })).ruleIds, ['no-nested-contractor']);
  assert.deepEqual(run(P({ realm_access: [{ roles: ['contractor'] }] })).ruleIds, ['no-nested-contractor']);
});

test('a deny on a claim matches a word of a string claim that lists several values', () => {
  assert.deepEqual(run(P({ roles: 'staff contractor' })).ruleIds, ['no-contractor-role']);
  assert.deepEqual(run(P({ roles: 'staff,contractor' })).ruleIds, ['no-contractor-role']);
  assert.deepEqual(run(P({ roles: ['dev', 'staff; Contractor'] })).ruleIds, ['no-contractor-role']);
  assert.equal(run(P({ roles: 'staff contractors' })).effect, 'allow', 'words, not substrings');
});

test('absent, null and readable values that do not match leave the deny out', () => {
  for (const roles of [undefined, null, 'dev', ['dev', 2, true], [[]]]) assert.equal(run(P(roles === undefined ? {} : { roles })).effect, 'allow', JSON.stringify(roles));
  assert.equal(run(P({ realm_access: { other: 1 } })).effect, 'allow');
  assert.equal(run(P({ realm_access: null })).effect, 'allow');
});

test('allows stay exact: an unreadable or listed value grants nothing', () => {
  assert.equal(run(P({ repository: 'acme/shop' }, 'ci', []), 'SELECT * FROM builds').effect, 'allow');
  for (const repository of [{ 'acme/shop': true }, ['acme/shop'], 'acme/shop other', 'Acme/Shop']) {
    assert.equal(run(P({ repository }, 'ci', []), 'SELECT * FROM builds').effect, 'deny', JSON.stringify(repository));
  }
});

test('group and subject denies compare case, width and NFC/NFD folded', () => {
  for (const g of ['contractors', 'CONTRACTORS', 'ｃｏｎｔｒａｃｔｏｒｓ', 'contractors\u200b']) assert.deepEqual(run(P({}, 'alice', ['staff', g])).ruleIds, ['no-contractors-group'], g);
  for (const s of ['René'.normalize('NFC'), 'René'.normalize('NFD'), 'RENÉ', 'rene\u0301']) assert.deepEqual(run(P({}, s)).ruleIds, ['no-rene'], s);
});

test('an HTTP session is bound to unreadable claim values too (a deny matches on them)', () => {
  const open = principalFingerprint(P({ roles: [] }));
  assert.notEqual(principalFingerprint(P({ roles: [{ name: 'contractor' }] })), open);
  assert.notEqual(principalFingerprint(P({ roles: ['dev', { name: 'contractor' }] })), principalFingerprint(P({ roles: ['dev'] })));
  // Readable values keep their order-free key; an object keeps its canonical one.
  assert.equal(principalFingerprint(P({ roles: ['b', 'a'] })), principalFingerprint(P({ roles: ['a', 'b'] })));
  assert.equal(principalFingerprint(P({ roles: { b: 1, a: 2 } })), principalFingerprint(P({ roles: { a: 2, b: 1 } })));
});
