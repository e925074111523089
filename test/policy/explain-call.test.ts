/**
 * `explain_call` over MCP: a real `warden serve` and the real SDK client. Admins see and use
 * it; everyone else neither sees it in tools/list nor can call it (WARDEN_UNKNOWN_TOOL).
 * The connection is never contacted: explain parses and decides only.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectWarden, writeWardenDir, type WardenDir } from '../support/warden-process.js';

const POLICY = `rules:
  - id: analysts-read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.users] }
  - id: cut-off-agent-x
    effect: deny
    who: { subjects: [agent-x] }
    tool: query_database
`;
const config = (subject: string, groups: string) => `transcripts: { store: sqlite:warden.db }
responses: { structured_content: true }
identity: { stdio: { subject: ${subject}, groups: [${groups}] } }
admins: { groups: [policy-admins] }
connections:
  analytics: { type: postgres, url: env:NEVER_SET_DATABASE_URL }
policies: [policies/*.yaml]
`;

const dirs: WardenDir[] = [];
after(() => dirs.forEach((d) => d.cleanup()));

test('an admin sees explain_call and gets facts, rules and the decision', async () => {
  const dir = writeWardenDir(config('alice', 'policy-admins'), { 'p.yaml': POLICY });
  dirs.push(dir);
  const w = await connectWarden(dir.configPath);
  try {
    const { tools } = await w.client.listTools();
    assert.ok(tools.some((t) => t.name === 'explain_call'));
    const r = await w.call('explain_call', { as: { subject: 'ana', groups: ['analysts'] }, tool: 'query_database', arguments: { connection: 'analytics', sql: 'SELECT id FROM users' } });
    assert.equal(r.isError, false, r.text);
    const data = (r.structured as { data: { decision: { effect: string; rule_ids: string[] }; rules: unknown[]; text: string } }).data;
    assert.equal(data.decision.effect, 'allow');
    assert.deepEqual(data.decision.rule_ids, ['analysts-read']);
    assert.equal(data.rules.length, 2, 'every rule is considered');
    assert.match(data.text, /reads: public\.users/);
    const denied = await w.call('explain_call', { as: { subject: 'mallory' }, tool: 'query_database', arguments: { connection: 'analytics', sql: 'DROP TABLE users' } });
    assert.equal((denied.structured as { data: { decision: { effect: string } } }).data.decision.effect, 'deny');
    // An actor chain (RFC 8693 act), current actor first: the deny on agent-x reaches it behind a broker.
    const viaAgent = await w.call('explain_call', { as: { subject: 'ana', groups: ['analysts'], actors: ['broker', 'agent-x'] }, tool: 'query_database', arguments: { connection: 'analytics', sql: 'SELECT id FROM users' } });
    assert.deepEqual((viaAgent.structured as { data: { decision: { rule_ids: string[] } } }).data.decision.rule_ids, ['cut-off-agent-x']);
  } finally {
    await w.close();
  }
});

test('a non-admin neither sees nor can call explain_call', async () => {
  const dir = writeWardenDir(config('ana', 'analysts'), { 'p.yaml': POLICY });
  dirs.push(dir);
  const w = await connectWarden(dir.configPath);
  try {
    const { tools } = await w.client.listTools();
    assert.ok(tools.some((t) => t.name === 'query_database'), 'the principal sees its own tools');
    assert.ok(!tools.some((t) => t.name === 'explain_call'));
    const r = await w.call('explain_call', { as: { subject: 'alice', groups: ['policy-admins'] }, tool: 'query_database', arguments: {} });
    assert.equal(r.isError, true);
    assert.match(r.text, /WARDEN_UNKNOWN_TOOL/);
  } finally {
    await w.close();
  }
});
