/**
 * `warden policy explain --actors` and `warden policy test` cases with `actors:`: the offline
 * tools take an RFC 8693 actor chain as they take a principal, and decide on it as the server does.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, WARDEN_BIN } from '../support/repo.js';
import { claimsWithActors } from '../../src/policy/actors.js';

const tmp = mkdtempSync(join(tmpdir(), 'warden-policy-actors-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function warden(args: string[]) {
  const r = spawnSync(process.execPath, [WARDEN_BIN, 'policy', ...args], { cwd: REPO_ROOT, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const POLICY = `rules:
  - id: analysts-read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.users] }
  - id: bots-read
    effect: allow
    who: { groups: [ops], actors: [agent-ok] }
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.users] }
  - id: cut-off-agent-x
    effect: deny
    who: { subjects: [agent-x] }
    reason: agent-x is suspended.
`;

function configDir(): string {
  const d = join(tmp, 'cfg');
  mkdirSync(join(d, 'policies', 'tests'), { recursive: true });
  writeFileSync(join(d, 'warden.yaml'), 'connections:\n  db: { type: postgres, url: env:DB }\npolicies: [policies/*.yaml]\n');
  writeFileSync(join(d, 'policies', 'p.yaml'), POLICY);
  return d;
}

const args = JSON.stringify({ connection: 'db', sql: 'SELECT name FROM users' });

test('explain --actors: a deny naming an agent reaches it as an actor, and names the rule', () => {
  const d = configDir();
  const config = join(d, 'warden.yaml');
  const denied = warden(['explain', '--config', config, '--as', 'alice', '--groups', 'analysts', '--actors', 'broker,AGENT-X', '--tool', 'query_database', '--args', args, '--json']);
  assert.equal(denied.code, 0, denied.err);
  const doc = JSON.parse(denied.out) as { decision: { effect: string; rule_ids: string[]; reason: string }; principal: { claims: Record<string, unknown> } };
  assert.equal(doc.decision.effect, 'deny');
  assert.deepEqual(doc.decision.rule_ids, ['cut-off-agent-x']);
  assert.deepEqual(doc.principal.claims.act, { sub: 'broker', act: { sub: 'AGENT-X' } });
  const text = warden(['explain', '--config', config, '--as', 'alice', '--groups', 'ops', '--actors', 'agent-ok', '--tool', 'query_database', '--args', args]);
  assert.match(text.out, /decision: ALLOW by bots-read/);
  const both = warden(['explain', '--config', config, '--as', 'alice', '--actors', 'a', '--claims', '{"act":{"sub":"b"}}', '--tool', 'query_database', '--args', args]);
  assert.equal(both.code, 2, 'a chain given twice is a usage error');
});

test('policy test: cases take actors: (or claims.act) and decide like the server', () => {
  const d = configDir();
  writeFileSync(join(d, 'policies', 'tests', 'actors.yaml'), `cases:
  - name: agent-x acting for alice is cut off
    principal: { subject: alice, groups: [analysts], actors: [agent-x] }
    tool: query_database
    arguments: { connection: db, sql: SELECT name FROM users }
    expect: { effect: deny, rules: [cut-off-agent-x] }
  - name: agent-x behind a broker, as claims.act
    principal: { subject: alice, groups: [analysts], claims: { act: { sub: broker, act: { sub: agent-x } } } }
    tool: query_database
    arguments: { connection: db, sql: SELECT name FROM users }
    expect: { effect: deny, rules: [cut-off-agent-x] }
  - name: ops need a listed agent
    principal: { subject: alice, groups: [ops], actors: [agent-ok] }
    tool: query_database
    arguments: { connection: db, sql: SELECT name FROM users }
    expect: { effect: allow, rules: [bots-read] }
  - name: ops acting directly are not granted by an allow with actors
    principal: { subject: alice, groups: [ops] }
    tool: query_database
    arguments: { connection: db, sql: SELECT name FROM users }
    expect: { effect: deny }
`);
  const r = warden(['test', join(d, 'policies', 'tests'), '--config', join(d, 'warden.yaml')]);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /tests 4, pass 4, fail 0/);
});

test('claimsWithActors nests the chain current actor first and refuses a second chain', () => {
  assert.deepEqual(claimsWithActors({ azp: 'cli' }, ['a', 'b']), { azp: 'cli', act: { sub: 'a', act: { sub: 'b' } } });
  assert.deepEqual(claimsWithActors({}, []), {});
  assert.equal(claimsWithActors({ act: { sub: 'x' } }, ['a']), null);
});
