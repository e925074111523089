/**
 * `who:` matching. A deny reaches every spelling of the names it lists (case, width, invisible
 * characters) and a claim the token carries as a list or a number; an allow, and an approval's
 * reviewers, match exactly as written. Discovery follows the same deny.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../src/policy/load.js';
import { decide, visibleTools, whoMatches } from '../../src/policy/engine.js';
import { sqlCondition } from '../../tools/postgres/sql-condition.js';
import { analyzeSql } from '../../tools/postgres/analysis/index.js';
import type { Principal } from '../../src/tool-api.js';

const policy = compilePolicy(['p.yaml'], [sqlCondition], {
  'p.yaml': `
rules:
  - id: everyone-reads
    effect: allow
    tool: query_database
    sql: { statements: [select], read: [public.t] }
  - id: sam-writes
    effect: allow
    who: { subjects: [sam] }
    tool: query_database
    sql: { statements: [update], write: [public.t] }
  - id: ci-reads-builds
    effect: allow
    who: { claims: { roles: builder } }
    tool: query_database
    sql: { statements: [select], read: [public.builds] }
  - id: no-mallory
    effect: deny
    who: { subjects: [mallory@corp.example] }
  - id: no-contractors
    effect: deny
    who: { groups: [contractors] }
  - id: no-contractor-role
    effect: deny
    who: { claims: { roles: contractor } }
  - id: no-level-zero
    effect: deny
    who: { claims: { level: "0" } }
`,
});

const P = (subject: string, groups: string[] = [], claims: Record<string, unknown> = {}): Principal => ({ subject, groups, claims, authMethod: 'oidc' });
const select = (p: Principal, sql = 'SELECT * FROM t') => decide(policy, p, { tool: 'query_database', connection: 'db', args: { sql } }, analyzeSql(sql));

test('a deny on a subject reaches its other spellings (case, full-width, zero-width, spaces)', () => {
  assert.equal(select(P('ana')).effect, 'allow');
  for (const s of ['mallory@corp.example', 'Mallory@Corp.Example', 'ｍａｌｌｏｒｙ@corp.example', 'mal\u200blory@corp.example', ' mallory@corp.example ']) {
    const d = select(P(s));
    assert.equal(d.effect, 'deny', JSON.stringify(s));
    assert.deepEqual(d.ruleIds, ['no-mallory']);
  }
});

test('a deny on a group reaches its other spellings', () => {
  for (const g of ['contractors', 'Contractors', 'CONTRACTORS', 'ｃｏｎｔｒａｃｔｏｒｓ']) assert.deepEqual(select(P('x', ['staff', g])).ruleIds, ['no-contractors'], g);
});

test('a deny on a claim reaches a token that carries it in a list, or as a number', () => {
  assert.deepEqual(select(P('x', [], { roles: 'contractor' })).ruleIds, ['no-contractor-role']);
  assert.deepEqual(select(P('x', [], { roles: ['dev', 'Contractor'] })).ruleIds, ['no-contractor-role']);
  assert.deepEqual(select(P('x', [], { level: 0 })).ruleIds, ['no-level-zero']);
  assert.equal(select(P('x', [], { roles: ['dev'], level: 1 })).effect, 'allow');
  // An object cannot be read as names, so a deny presumes it holds one (who-unreadable.test.ts).
  assert.deepEqual(select(P('x', [], { roles: { contractor: true } })).ruleIds, ['no-contractor-role'], 'an object is unreadable, so the deny matches');
  assert.equal(select(P('x', [], Object.create({ roles: 'contractor' }) as Record<string, unknown>)).effect, 'allow', 'an inherited property is not a claim');
});

test('allows stay exact: a look-alike subject or a list claim gets no grant', () => {
  const update = 'UPDATE t SET a = 1';
  assert.equal(select(P('sam'), update).effect, 'allow');
  assert.equal(select(P('Sam'), update).effect, 'deny');
  assert.equal(select(P('sam\u200b'), update).effect, 'deny');
  assert.equal(select(P('ci', [], { roles: 'builder' }), 'SELECT * FROM builds').effect, 'allow');
  assert.equal(select(P('ci', [], { roles: ['builder'] }), 'SELECT * FROM builds').effect, 'deny', 'allows match string claims only');
});

test('reviewers match exactly (whoMatches without a deny effect)', () => {
  assert.equal(whoMatches({ who: { groups: ['dba'] } }, P('r', ['dba'])), true);
  assert.equal(whoMatches({ who: { groups: ['dba'] } }, P('r', ['DBA'])), false);
  const asDeny = { who: { groups: ['dba'] }, effect: 'deny' } as Parameters<typeof whoMatches>[0];
  assert.equal(whoMatches(asDeny, P('r', ['DBA'])), true);
});

test('discovery follows the deny: a look-alike of a blocked subject sees no tools', () => {
  assert.deepEqual(visibleTools(policy, P('ana'), ['query_database']), ['query_database']);
  assert.deepEqual(visibleTools(policy, P('MALLORY@corp.example'), ['query_database']), []);
});
