import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compilePolicy } from '../../src/policy/load.js';
import { alternativesFor, decide, decideDiscovery, lateDenies, visibleConnections, visibleTools } from '../../src/policy/engine.js';
import { grantedTables } from '../../tools/postgres/describe-database.js';
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

// Deny wins in discovery too: the rule is written at the top of src/policy/engine.ts.
const DENY_POLICY = `
rules:
  - id: read-db
    effect: allow
    who: { groups: [staff] }
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.t, public.secrets] }
  - id: read-other
    effect: allow
    who: { groups: [staff] }
    tool: query_database
    on: [other]
    sql: { statements: [select], read: [public.t] }
  - id: read-anywhere
    effect: allow
    who: { groups: [staff] }
    tool: query_database
    sql: { statements: [select], read: [public.t] }
  - id: benched
    effect: deny
    who: { subjects: [bob] }
    reason: bob is benched
  - id: not-db-for-carl
    effect: deny
    who: { subjects: [carl] }
    tool: query_database
    on: [db]
  - id: no-secrets
    effect: deny
    who: { subjects: [dee] }
    tool: query_database
    sql: { read: [public.secrets] }
`;
const denyPolicy = compilePolicy(['d.yaml'], [sqlCondition], { 'd.yaml': DENY_POLICY });
const staff = (subject: string): Principal => ({ subject, groups: ['staff'], claims: {}, authMethod: 'stdio' });
const describeOn = (p: Principal, connection: string) => decideDiscovery(denyPolicy, p, { tool: 'describe_database', connection, args: { connection } }, 'query_database', 'sql');
const decideOn = (p: Principal, sql: string, connection: string) => decide(denyPolicy, p, call(sql, connection), analyzeSql(sql));

test('a blanket deny hides the tools and connections, refuses describe_database and offers nothing', () => {
  const bob = staff('bob');
  assert.deepEqual(visibleTools(denyPolicy, bob, ['query_database', 'ssh_run']), []);
  assert.deepEqual(visibleConnections(denyPolicy, bob, 'query_database', ['db', 'other']), []);
  for (const c of ['db', 'other']) {
    const d = describeOn(bob, c);
    assert.equal(d.effect, 'deny');
    assert.deepEqual(d.ruleIds, ['benched']);
    assert.equal(d.reason, 'bob is benched');
    assert.deepEqual(d.grants, []);
    assert.deepEqual(d.alternatives, []);
  }
  const q = decideOn(bob, 'SELECT * FROM t', 'db');
  assert.equal(q.effect, 'deny');
  assert.deepEqual(q.ruleIds, ['benched']);
  assert.deepEqual(q.alternatives, []);
  assert.deepEqual(alternativesFor(denyPolicy, bob, 'query_database'), []);
  // Someone else in the same group is untouched.
  assert.deepEqual(visibleTools(denyPolicy, staff('eve'), ['query_database', 'ssh_run']), ['query_database']);
  assert.equal(describeOn(staff('eve'), 'db').effect, 'allow');
});

test('a deny on one connection hides only that connection', () => {
  const carl = staff('carl');
  assert.deepEqual(visibleTools(denyPolicy, carl, ['query_database']), ['query_database']);
  assert.deepEqual(visibleConnections(denyPolicy, carl, 'query_database', ['db', 'other', 'third']), ['other', 'third']);
  const d = describeOn(carl, 'db');
  assert.equal(d.effect, 'deny');
  assert.deepEqual(d.ruleIds, ['not-db-for-carl']);
  const ok = describeOn(carl, 'other');
  assert.equal(ok.effect, 'allow');
  assert.deepEqual(ok.ruleIds, ['read-other', 'read-anywhere']);
  // On db nothing may be offered; elsewhere only the rules that still work there.
  const q = decideOn(carl, 'SELECT * FROM t', 'db');
  assert.deepEqual(q.ruleIds, ['not-db-for-carl']);
  assert.deepEqual(q.alternatives.map((a) => a.split(':')[0]), ['read-other']);
  assert.deepEqual(alternativesFor(denyPolicy, carl, 'query_database').map((a) => a.split(':')[0]), ['read-other', 'read-anywhere']);
  // A deny that covers every connection an allow names hides the tool, even across rules.
  const only = compilePolicy(['o.yaml'], [sqlCondition], {
    'o.yaml': `
rules:
  - { id: a, effect: allow, tool: query_database, on: [x, y] }
  - { id: no-x, effect: deny, on: [x] }
  - { id: no-y, effect: deny, tool: [query_database], on: [y] }
`,
  });
  assert.deepEqual(visibleTools(only, staff('z'), ['query_database']), []);
  assert.deepEqual(alternativesFor(only, staff('z'), 'query_database'), []);
});

test('a conditional deny on reading public.secrets removes it from describe_database grants', () => {
  const dee = staff('dee');
  assert.deepEqual(visibleTools(denyPolicy, dee, ['query_database']), ['query_database']);
  assert.deepEqual(visibleConnections(denyPolicy, dee, 'query_database', ['db', 'other']), ['db', 'other']);
  const d = describeOn(dee, 'db');
  assert.equal(d.effect, 'allow');
  assert.match(d.reason, /narrowed by no-secrets/);
  const tables = grantedTables(d.grants);
  assert.equal(tables.all, false);
  assert.deepEqual([...tables.read].sort(), ['public.t']);
  assert.ok(tables.hidden.has('public.secrets'));
  // Without the deny, the same grants describe public.secrets.
  assert.deepEqual([...grantedTables(describeOn(staff('eve'), 'db').grants).read].sort(), ['public.secrets', 'public.t']);
  // A grant with no sql block (every table) still never describes the denied table.
  assert.deepEqual([...grantedTables([{ $denies: [{ sql: { read: ['secrets'] } }] }]).hidden], ['public.secrets']);
  // What cannot be resolved to tables leaves the description as it is; sql: {} leaves nothing.
  assert.deepEqual([...grantedTables([{ sql: { read: ['t'] }, $denies: [{ sql: { functions: ['lower'] } }] }]).read], ['public.t']);
  assert.deepEqual([...grantedTables([{ sql: { read: ['t'] }, $denies: [{ sql: {} }] }]).read], []);
  assert.deepEqual([...grantedTables([{ sql: { read: ['t'] }, $denies: [{ sql: { statements: ['select'] } }] }]).read], []);
  assert.deepEqual([...grantedTables([{ sql: { statements: ['insert'], write: ['t'] }, $denies: [{ sql: { write: ['t'] } }] }]).write], []);
});

test('alternatives never include a rule a matching deny overrides for that call', () => {
  const dee = staff('dee');
  const q = decideOn(dee, 'SELECT * FROM secrets', 'db');
  assert.equal(q.effect, 'deny');
  assert.deepEqual(q.ruleIds, ['no-secrets']);
  const ids = q.alternatives.map((a) => a.split(':')[0]);
  assert.ok(!ids.includes('read-db'), `read-db grants this very call and no-secrets overrides it: ${ids.join(', ')}`);
  assert.deepEqual(ids, ['read-other', 'read-anywhere']);
  // A call no allow covers keeps every rule that may still be used.
  const miss = decideOn(dee, 'SELECT * FROM u', 'db');
  assert.deepEqual(miss.ruleIds, []);
  assert.deepEqual(miss.alternatives.map((a) => a.split(':')[0]), ['read-db', 'read-other', 'read-anywhere']);
});

test('list_connections lists no grant that an unconditional deny overrides on that connection', async () => {
  const { listFor } = await import('../../src/pipeline/builtins/list-connections.js');
  const tool = { name: 'query_database', connectionTypes: ['postgres'] } as never;
  const core = { policy: () => denyPolicy, connections: [{ name: 'db', type: 'postgres' }, { name: 'other', type: 'postgres' }], tools: () => [tool] } as never;
  const carl = listFor(core, staff('carl'));
  assert.deepEqual(carl.map((c: { name: string }) => c.name), ['other'], 'db is denied to carl');
  const other = carl[0] as { grants: string[] };
  assert.ok(other.grants.some((g) => g.startsWith('read-other')) && other.grants.some((g) => g.startsWith('read-anywhere')));
  const ann = listFor(core, staff('ann'));
  assert.deepEqual(ann.map((c: { name: string }) => c.name).sort(), ['db', 'other']);
  assert.ok((ann.find((c: { name: string }) => c.name === 'db') as { grants: string[] }).grants.some((g) => g.startsWith('read-db')));
});

test('on a connection still shown, an allow whose every tool there is denied is not listed as a grant', async () => {
  const { listFor } = await import('../../src/pipeline/builtins/list-connections.js');
  const policy = compilePolicy(['e.yaml'], [sqlCondition], { 'e.yaml': `
rules:
  - id: both-tools
    effect: allow
    who: { groups: [staff] }
    tool: [query_database, other_tool]
    on: [db]
  - id: query-only
    effect: allow
    who: { groups: [staff] }
    tool: query_database
    on: [db]
  - id: no-query-for-eve
    effect: deny
    who: { subjects: [eve] }
    tool: query_database
    on: [db]
` });
  const tools = [{ name: 'query_database', connectionTypes: ['postgres'] }, { name: 'other_tool', connectionTypes: ['postgres'] }];
  const core = { policy: () => policy, connections: [{ name: 'db', type: 'postgres' }], tools: () => tools } as never;
  const eve = listFor(core, staff('eve')) as { name: string; tools: string[]; grants: string[] }[];
  assert.deepEqual(eve.map((c) => c.tools), [['other_tool']]);
  assert.deepEqual(eve[0]!.grants.map((g) => g.split(':')[0]), ['both-tools'], 'query-only is overridden on db');
  const ann = listFor(core, staff('ann')) as { grants: string[] }[];
  assert.deepEqual(ann[0]!.grants.map((g) => g.split(':')[0]), ['both-tools', 'query-only']);
});

test('reviewsAnything: only approvals that name their reviewers make a principal a (UI) reviewer', async () => {
  const { reviewsAnything } = await import('../../src/policy/engine.js');
  const p = compilePolicy(['r.yaml'], [sqlCondition], {
    'r.yaml': `rules:
  - id: open-approval
    effect: allow
    who: { groups: [support] }
    tool: query_database
    sql: { statements: [update], write: [public.orders] }
    approval: { approvals: 1 }
`,
  });
  // An approval without reviewers makes nobody a UI reviewer: not an agent, not anyone.
  assert.equal(reviewsAnything(p, ana), false);
  assert.equal(reviewsAnything(p, sam), false);
  const named = compilePolicy(['r.yaml'], [sqlCondition], {
    'r.yaml': `rules:
  - id: named-approval
    effect: allow
    who: { groups: [support] }
    tool: query_database
    sql: { statements: [update], write: [public.orders] }
    approval: { reviewers: { groups: [analysts] } }
`,
  });
  assert.equal(reviewsAnything(named, ana), true, 'ana is in analysts');
  assert.equal(reviewsAnything(named, sam), false);
});

test('lateDenies judges only the conditional denies that cover the call, on the facts handed back', () => {
  const p = compilePolicy(['p.yaml'], [sqlCondition], {
    'p.yaml': `
rules:
  - { id: read, effect: allow, tool: query_database, sql: { statements: [select], read: [public.parent] } }
  - { id: no-child, effect: deny, tool: query_database, on: [db], sql: { read: [public.child] }, reason: child is off limits }
  - { id: no-ssh, effect: deny, tool: ssh_run }
`,
  });
  const late = lateDenies(p, ana, call('SELECT * FROM parent'));
  assert.ok(late, 'a conditional deny covers the call');
  const facts = analyzeSql('SELECT * FROM parent');
  assert.equal(late(facts), null, 'the facts the decision saw match no deny');
  assert.deepEqual(late({ ...facts, reads: ['public.child', 'public.parent'] } as typeof facts), { ruleIds: ['no-child'], reason: 'child is off limits' });
  assert.equal(lateDenies(p, ana, call('SELECT * FROM parent', 'other')), null, 'no conditional deny on that connection: nothing to judge');
});

test('alternatives never offer a rule whose blocks cannot judge the tool\'s calls (a shell-only rule for query_database)', async () => {
  const { shellCondition } = await import('../../tools/shared/shell/condition.js');
  const mixed = compilePolicy(['m.yaml'], [sqlCondition, shellCondition], { 'm.yaml': `
rules:
  - id: ops-uptime
    effect: allow
    who: { groups: [ops] }
    shell: { programs: { uptime: {} } }
  - id: ops-read
    effect: allow
    who: { groups: [ops] }
    tool: query_database
    on: [db]
    sql: { read: [public.t] }
` });
  const olga: Principal = { subject: 'olga', groups: ['ops'], claims: {}, authMethod: 'stdio' };
  const q = decide(mixed, olga, call('SELECT * FROM secrets'), analyzeSql('SELECT * FROM secrets'));
  assert.equal(q.effect, 'deny');
  assert.deepEqual(q.alternatives.map((a) => a.split(':')[0]), ['ops-read']);
  assert.doesNotMatch(q.reason, /ops-uptime/);
  const d = decideDiscovery(mixed, olga, { tool: 'describe_database', connection: 'other', args: { connection: 'other' } }, 'query_database', 'sql');
  assert.equal(d.effect, 'deny');
  assert.deepEqual(d.alternatives.map((a) => a.split(':')[0]), ['ops-read']);
  assert.deepEqual(alternativesFor(mixed, olga, 'query_database', 'db', [], 'sql').map((a) => a.split(':')[0]), ['ops-read']);
  // The shell rule still is an alternative for a shell tool.
  assert.deepEqual(alternativesFor(mixed, olga, 'ssh_run', 'box', [], 'shell').map((a) => a.split(':')[0]), ['ops-uptime']);
});
