/**
 * A delegated token whose `act` claim is not an RFC 8693 chain (a list of links, a bare name, a
 * link whose `sub` is no string, a chain past 32 links) over real Streamable HTTP, with a real
 * OIDC issuer and PostgreSQL. The approval rules and the transcript read the chain with
 * actorChain, which stops at the first link it cannot read: `act: [{ sub: dana }]` read as alice
 * acting directly (a red-team pass). So dana, who acted, could approve the call she made herself;
 * the token spent alice's own approvals and read her requests through approval_status; and the
 * session record said alice acted directly. Now a gated call of such a token is refused before
 * anyone is asked, it owns no request, and the transcript records every name its `act` holds.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { connectHttpAgent, type HttpAgent } from '../support/http-agent.js';
import { startHttpWarden, type HttpWarden } from '../support/http-warden.js';
import type { Principal } from '../../src/tool-api.js';

const POLICY = `
rules:
  - id: sre-update
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [update], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 0s }
  - id: sre-read
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [analytics]
    sql: { statements: [select], read: [public.orders] }
`;

// dana reviews (group dba); a local principal, as the CLI's --as would present her.
const dana: Principal = { subject: 'dana', groups: ['dba'], claims: {}, authMethod: 'local' };

// `act` shapes that are no RFC 8693 chain, each naming dana somewhere.
const MALFORMED: Record<string, unknown>[] = [
  { act: [{ sub: 'dana' }] },
  { act: 'dana' },
  { act: { sub: 'agent-x', act: [{ sub: 'dana' }] } },
  { act: { sub: 'agent-x', act: 'dana' } },
];

let w: HttpWarden;
before(async () => {
  w = await startHttpWarden({ 'base.yaml': POLICY });
  await w.db.query(`GRANT UPDATE ON orders TO ${w.db.role}`);
});
after(() => w?.stop());

const total = async (id: number) => String((await w.db.query(`SELECT total FROM orders WHERE id = ${id}`)).rows[0]!.total);
const update = (id: number, v: number) => ({ connection: 'analytics', sql: `UPDATE orders SET total = ${v} WHERE id = ${id}` });
const approvalIdOf = (text: string) => /approval ([0-9a-f-]{36})/.exec(text)?.[1];

async function withAgent<T>(token: string, fn: (a: HttpAgent) => Promise<T>): Promise<T> {
  const a = await connectHttpAgent(w.url, token);
  try {
    return await fn(a);
  } finally {
    await a.close();
  }
}

function sessionPrincipals(): Record<string, unknown>[] {
  const t = new Database(w.dir.dbPath, { readonly: true });
  try {
    return (t.prepare('SELECT principal FROM sessions ORDER BY open_seq').all() as { principal: string }[]).map((r) => JSON.parse(r.principal) as Record<string, unknown>);
  } finally {
    t.close();
  }
}

describe('a delegated token whose act claim is no RFC 8693 chain', () => {
  test('cannot have approval requested: the actor it names does not get to approve its own call', async () => {
    for (const [i, extra] of MALFORMED.entries()) {
      const before = await total(10 + i);
      const r = await withAgent(await w.token('alice', ['sre'], extra), (a) => a.call('query_database', update(10 + i, 5000 + i)));
      const id = approvalIdOf(r.text);
      // The attack: dana, the actor, approves the request her own call made, and the call runs on a retry.
      if (id) {
        await w.rt.approvals!.approve(id, dana).catch(() => undefined);
        await withAgent(await w.token('alice', ['sre'], extra), (a) => a.call('query_database', update(10 + i, 5000 + i)));
      }
      assert.equal(await total(10 + i), before, `the UPDATE ran for act ${JSON.stringify(extra.act)}`);
      assert.equal(r.isError, true, r.text);
      assert.match(r.text, /WARDEN_DENIED/, r.text);
      assert.match(r.text, /act \(delegation\) claim/, r.text);
      assert.equal(id, undefined, `a request was made: ${r.text}`);
    }
  });

  test('does not spend, nor read, the approvals of the principal acting directly', async () => {
    const alice = await w.token('alice', ['sre']);
    const before = await total(3);
    const asked = await withAgent(alice, (a) => a.call('query_database', update(3, 4242)));
    const id = approvalIdOf(asked.text)!;
    assert.match(asked.text, /WARDEN_APPROVAL_PENDING/, asked.text);
    await w.rt.approvals!.approve(id, dana);
    const cut = await w.token('alice', ['sre'], { act: [{ sub: 'agent-x' }] });
    await withAgent(cut, async (a) => {
      const status = await a.call('approval_status', { approval_id: id });
      assert.doesNotMatch(status.text, /"state":\s*"approved"|approved/, `alice's request was shown: ${status.text}`);
      const r = await a.call('query_database', update(3, 4242));
      assert.equal(r.isError, true, r.text);
    });
    assert.equal(await total(3), before, 'the token with a malformed act ran on alice\'s approval');
    assert.equal((await w.rt.approvals!.get(id))?.state, 'approved', 'alice\'s approval is still hers');
    // The legitimate neighbour: alice acting directly runs on it.
    const ran = await withAgent(alice, (a) => a.call('query_database', update(3, 4242)));
    assert.equal(ran.isError, false, ran.text);
    assert.equal(await total(3), '4242');
  });

  test('a well-formed chain still asks, and a reviewer who is not in it approves', async () => {
    const token = await w.token('alice', ['sre'], { act: { sub: 'agent-x', act: { sub: 'broker' } } });
    const r = await withAgent(token, (a) => a.call('query_database', update(4, 4343)));
    const id = approvalIdOf(r.text)!;
    assert.match(r.text, /WARDEN_APPROVAL_PENDING/, r.text);
    assert.deepEqual((await w.rt.approvals!.get(id))?.requester_actors, ['agent-x', 'broker']);
    await assert.rejects(w.rt.approvals!.approve(id, { ...dana, subject: 'broker' }), /requested this call/);
    await w.rt.approvals!.approve(id, dana);
    const ran = await withAgent(token, (a) => a.call('query_database', update(4, 4343)));
    assert.equal(ran.isError, false, ran.text);
    assert.equal(await total(4), '4343');
  });

  test('the transcript records every name its act holds, and that the chain was unreadable', async () => {
    const seen = sessionPrincipals().length;
    await withAgent(await w.token('alice', ['sre'], { act: [{ sub: 'dana' }] }), (a) => a.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM orders WHERE id = 1' }));
    await withAgent(await w.token('alice', ['sre'], { act: { sub: 'agent-x' } }), (a) => a.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM orders WHERE id = 1' }));
    await withAgent(await w.token('alice', ['sre']), (a) => a.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM orders WHERE id = 1' }));
    await withAgent(await w.token('alice', ['sre'], { act: { sub: 'agent-x', iss: 'https://other-idp.example' } }), (a) => a.call('query_database', { connection: 'analytics', sql: 'SELECT id FROM orders WHERE id = 1' }));
    const [cut, chain, direct, foreign] = sessionPrincipals().slice(seen);
    assert.deepEqual(foreign!.actors, ['agent-x (iss https://other-idp.example)'], 'an actor named by another issuer says so');
    assert.deepEqual(cut!.actors, ['dana'], JSON.stringify(cut));
    assert.equal(cut!.actorsMalformed, true, JSON.stringify(cut));
    assert.deepEqual(chain!.actors, ['agent-x']);
    assert.equal(chain!.actorsMalformed, undefined);
    assert.equal(direct!.actors, undefined);
    assert.equal((await w.rt.store.verify()).ok, true);
  });
});
