/**
 * End to end over Streamable HTTP with real signed tokens: a deny naming an agent's subject stops
 * that agent while it acts for a person (RFC 8693 `act`), the agent is told the rule, the
 * transcript records the decision and the actor chain, and a token with another chain cannot
 * ride the session of the person acting directly.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { connectHttpAgent, mcpHeaders, rawRequest } from '../support/http-agent.js';
import { startHttpWarden, type HttpWarden, queryCallBody } from '../support/http-warden.js';

const POLICY = `
rules:
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
    sql: { statements: [select] }
    reason: agent-x is suspended pending review.
`;

let w: HttpWarden;

before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY });
});
after(() => w?.stop());

const read = { connection: 'analytics', sql: 'SELECT name FROM users' };
const callBody = (id: number) => queryCallBody(id, read);

function sessionPrincipal(sessionId: unknown): Record<string, unknown> {
  const t = new Database(w.dir.dbPath, { readonly: true });
  try {
    const row = t.prepare('SELECT principal FROM sessions WHERE id = ?').get(sessionId) as { principal: string } | undefined;
    return JSON.parse(row!.principal) as Record<string, unknown>;
  } finally {
    t.close();
  }
}

describe('HTTP: a deny on an agent reaches it through the actor chain', () => {
  test('agent-x acting for alice is denied by the rule naming agent-x, at depth 1 and 2, and told the rule', async () => {
    for (const act of [{ sub: 'agent-x' }, { sub: 'broker', act: { sub: 'Agent-X' } }]) {
      const agent = await connectHttpAgent(w.url, await w.token('alice', ['analysts'], { act }));
      try {
        const r = await agent.call('query_database', read);
        assert.equal(r.isError, true, r.text);
        assert.match(r.text, /WARDEN_DENIED/);
        assert.match(r.text, /cut-off-agent-x/);
        assert.match(r.text, /agent-x is suspended pending review/);
        assert.doesNotMatch(r.text, /Alice/);
      } finally {
        await agent.close();
      }
    }
    const denied = w.calls().filter((c) => c.decision === 'deny' && String(c.rule_ids).includes('cut-off-agent-x'));
    assert.equal(denied.length, 2, 'both denials are recorded with the rule id');
    assert.deepEqual(sessionPrincipal(denied[0]!.session_id).actors, ['agent-x']);
    assert.deepEqual(sessionPrincipal(denied[1]!.session_id).actors, ['broker', 'Agent-X']);
  });

  test('alice herself, and another agent acting for her, still read', async () => {
    for (const extra of [{}, { act: { sub: 'agent-ok' } }]) {
      const a = await connectHttpAgent(w.url, await w.token('alice', ['analysts'], extra));
      try {
        const r = await a.call('query_database', read);
        assert.equal(r.isError, false, r.text);
        assert.match(r.text, /Alice/);
      } finally {
        await a.close();
      }
    }
  });

  test('a token naming agent-x as actor cannot ride the session alice opened acting directly', async () => {
    const alice = await connectHttpAgent(w.url, await w.token('alice', ['analysts']));
    try {
      const h = { 'mcp-session-id': alice.transport.sessionId!, 'mcp-protocol-version': '2025-11-25' };
      const before = w.calls().length;
      const ride = await rawRequest(w.url, { headers: mcpHeaders(await w.token('alice', ['analysts'], { act: { sub: 'agent-x' } }), h), body: callBody(7) });
      assert.equal(ride.status, 403, `agent-x rode alice's session: ${ride.body.slice(0, 200)}`);
      assert.doesNotMatch(ride.body, /Alice/);
      assert.equal(w.calls().length, before);
    } finally {
      await alice.close();
    }
  });
});
