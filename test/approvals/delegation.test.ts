/**
 * Delegation (RFC 8693 token exchange): an agent acting for a human carries `sub` = the human and
 * `act: { sub: agent }` (chains nest). The human must not approve what an agent did on their
 * behalf, an agent acting as a reviewer approves nothing, and reviewers see the actor chain.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { createApprovalService, type ApprovalService } from '../../src/approvals/index.js';
import { requesterLabel } from '../../src/approvals/views.js';
import { actorChain } from '../../src/approvals/actors.js';
import { createOidcVerifier, type TokenVerifier } from '../../src/identity/oidc.js';
import { WardenError } from '../../src/errors.js';
import type { Principal } from '../../src/tool-api.js';
import type { Decision } from '../../src/policy/types.js';
import { startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.js';

let dir: string;
let store: SqliteTranscriptStore;
let svc: ApprovalService;
let iss: OidcIssuer;
let v: TokenVerifier;

const decision: Decision = {
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 60_000, wait: 0, ruleId: 'fix' },
};
const as = async (claims: Record<string, unknown>): Promise<Principal> => (await v.verify(await iss.mint(claims))).principal;

async function request(principal: Principal, sql: string): Promise<string> {
  const r = await svc.gate({
    callId: `call-${Math.random()}`, sessionId: 's1', principal, tool: 'query_database', connection: 'shop',
    canonicalArgs: { connection: 'shop', sql }, decision, factsSummary: 'update', signal: new AbortController().signal,
  });
  assert.equal(r.granted, false);
  return (r as { approvalId: string }).approvalId;
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-delegation-'));
  store = openSqliteStore(join(dir, 'w.db'));
  svc = createApprovalService(store.approvals, { pollMs: 5 });
  iss = await startOidcIssuer();
  v = createOidcVerifier({ issuer: iss.issuer, audience: iss.audience, jwks_cooldown_ms: 0 });
});
after(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  await iss?.stop();
});

test('the actor chain is read from nested act claims, current actor first', () => {
  assert.deepEqual(actorChain({ sub: 'alice', act: { sub: 'agent-x', act: { sub: 'broker' } } }), ['agent-x', 'broker']);
  assert.deepEqual(actorChain({ sub: 'alice' }), []);
  assert.deepEqual(actorChain({ sub: 'alice', act: 'agent-x' }), [], 'a malformed act names no actor');
});

test('the human an agent acts for cannot approve its request, nor can any actor of the chain (folded)', async () => {
  const agent = await as({ sub: 'alice', act: { sub: 'agent-x', act: { sub: 'broker' } }, groups: ['sre'] });
  const id = await request(agent, 'UPDATE delegated');
  for (const who of ['alice', 'Alice', 'ａｌｉｃｅ', 'agent-x', 'AGENT-X\u200b', 'broker']) {
    const reviewer = await as({ sub: who, groups: ['dba'] });
    await assert.rejects(svc.approve(id, reviewer), /requested this call/, `${who} must not approve`);
  }
  assert.equal((await svc.get(id))?.state, 'pending');
  // Another human reviewer can.
  assert.equal((await svc.approve(id, await as({ sub: 'dana', groups: ['dba'] }))).state, 'approved');
});

test('the store itself refuses a decision by an actor of the chain', async () => {
  const agent = await as({ sub: 'alice', act: { sub: 'agent-x' } });
  const id = await request(agent, 'UPDATE store-level');
  await assert.rejects(store.approvals.decide(id, { reviewer: 'agent-x', decision: 'approve', comment: null, auth: 'oidc', at: new Date().toISOString() }, () => {}), /requested this call/);
});

test('a reviewer whose token has an act claim (an agent acting as a reviewer) approves nothing', async () => {
  const id = await request(await as({ sub: 'sam' }), 'UPDATE by-agent-reviewer');
  const delegated = await as({ sub: 'dana', groups: ['dba'], act: { sub: 'review-bot' } });
  for (const op of [() => svc.approve(id, delegated), () => svc.deny(id, delegated)]) {
    const e = await op().then(() => assert.fail('accepted'), (x: unknown) => x);
    assert.ok(e instanceof WardenError);
    assert.equal(e.code, 'WARDEN_DENIED');
    assert.equal(e.details.reason, 'delegated_reviewer');
    assert.match(e.message, /acting for dana.*human/);
  }
  assert.equal((await svc.get(id))?.decisions.length, 0);
});

test('the request records the actor chain and reviewers see "agent-x acting for alice"', async () => {
  const agent = await as({ sub: 'alice', act: { sub: 'agent-x' }, azp: 'claude-desktop' });
  const id = await request(agent, 'UPDATE shown');
  const view = (await svc.get(id))!;
  assert.deepEqual(view.requester_actors, ['agent-x']);
  assert.equal(requesterLabel(view), 'alice (agent-x acting for alice)');
  const plain = (await svc.get(await request(await as({ sub: 'bob' }), 'UPDATE plain')))!;
  assert.equal(plain.requester_actors, undefined);
  assert.equal(requesterLabel(plain), 'bob');
  // The transcript's requested record carries it, and verify agrees with the row.
  const db = new Database(join(dir, 'w.db'), { readonly: true });
  const rec = db.prepare(`SELECT body FROM records WHERE kind = 'approval_event' AND ref_id = ? ORDER BY seq LIMIT 1`).get(id) as { body: string };
  db.close();
  assert.deepEqual(JSON.parse(rec.body).requesterActors, ['agent-x']);
  assert.equal((await store.verify()).ok, true, 'verify replays the actor chain into the row');
});

test('an approval given for agent-x acting for alice does not run the call for another actor of alice', async () => {
  const x = await as({ sub: 'alice', act: { sub: 'agent-x' } });
  const id = await request(x, 'UPDATE bound');
  await svc.approve(id, await as({ sub: 'dana', groups: ['dba'] }));
  const other = await request(await as({ sub: 'alice', act: { sub: 'agent-y' } }), 'UPDATE bound');
  assert.notEqual(other, id, 'agent-y gets its own request');
  assert.equal((await svc.get(id))?.state, 'approved');
});

test('approval_status shows each delegated agent its own requests only, not the human\'s nor another agent\'s', async () => {
  const x = await as({ sub: 'carol', act: { sub: 'agent-x' } });
  const y = await as({ sub: 'carol', act: { sub: 'agent-y' } });
  const xb = await as({ sub: 'carol', act: { sub: 'agent-x', act: { sub: 'broker' } } });
  const carol = await as({ sub: 'carol' });
  const ids = new Map<Principal, string>([
    [x, await request(x, 'UPDATE status-x')],
    [y, await request(y, 'UPDATE status-y')],
    [xb, await request(xb, 'UPDATE status-xb')],
    [carol, await request(carol, 'UPDATE status-carol')],
  ]);
  for (const [who, own] of ids) {
    const label = actorChain(who.claims).join('>') || 'carol';
    assert.equal((await svc.statusFor(who, own))?.id, own, `${label} reads its own request`);
    assert.deepEqual((await svc.listFor(who)).map((r) => r.id), [own], `${label} lists only its own request`);
    for (const [other, theirs] of ids) {
      if (other !== who) assert.equal(await svc.statusFor(who, theirs), null, `${label} does not read ${actorChain(other.claims).join('>') || 'carol'}'s request`);
    }
  }
});

test('approval_status lists a delegated agent\'s requests even behind many of the human\'s own (the limit applies after the match)', async () => {
  const x = await as({ sub: 'erin', act: { sub: 'agent-x' } });
  const erin = await as({ sub: 'erin' });
  const own = await request(x, 'UPDATE behind-1');
  for (let i = 0; i < 3; i++) await request(erin, `UPDATE behind-erin-${i}`);
  assert.deepEqual((await svc.listFor(x, 2)).map((r) => r.id), [own]);
  assert.equal((await svc.listFor(erin, 2)).length, 2);
});

test('confirm: requester refuses a delegated caller: the agent is never asked to confirm for the human', async () => {
  const confirm: Decision = {
    effect: 'allow', ruleIds: ['confirm-it'], reason: 'x', trace: [], alternatives: [],
    approval: { confirm: 'requester', approvals: 1, expires: 60_000, wait: 0, ruleId: 'confirm-it' },
  };
  let asked = 0;
  const gate = (principal: Principal) =>
    svc.gate({
      callId: `call-${Math.random()}`, sessionId: 's1', principal, tool: 'query_database', connection: 'shop',
      canonicalArgs: { connection: 'shop', sql: 'UPDATE confirm-delegated' }, decision: confirm, factsSummary: 'update', signal: new AbortController().signal,
      elicit: async () => (asked++, { action: 'accept', content: { confirm: true } }),
    });
  for (const claims of [{ sub: 'frank', act: { sub: 'agent-x' } }, { sub: 'frank', act: 'malformed' }]) {
    const r = await gate(await as(claims));
    assert.equal(r.granted, false);
    assert.equal((r as { code: string }).code, 'WARDEN_APPROVAL_DENIED');
    assert.match((r as { message: string }).message, /acting for frank|on behalf of frank/);
    assert.match((r as { message: string }).message, /human acting directly|frank acting directly/);
  }
  assert.equal(asked, 0, 'no prompt reached the agent');
  assert.equal((await svc.listFor(await as({ sub: 'frank', act: { sub: 'agent-x' } }))).length, 0, 'no request was made on frank\'s behalf');
  // frank acting directly confirms as before.
  assert.equal((await gate(await as({ sub: 'frank' }))).granted, true);
  assert.equal(asked, 1);
});

test('a token whose act is no RFC 8693 chain cannot have approval requested; a chain of 32 links can', async () => {
  const chainOf = (n: number): Record<string, unknown> => {
    let act: Record<string, unknown> | undefined;
    for (let i = n; i >= 1; i--) act = act ? { sub: `agent-${i}`, act } : { sub: `agent-${i}` };
    return act!;
  };
  for (const act of [chainOf(33), { sub: 7 }, { sub: 'agent-x', iss: 5 }, [{ sub: 'agent-x' }], 'agent-x', {}]) {
    const r = await svc.gate({
      callId: `call-${Math.random()}`, sessionId: 's1', principal: await as({ sub: 'gina', act }), tool: 'query_database', connection: 'shop',
      canonicalArgs: { connection: 'shop', sql: 'UPDATE unreadable-chain' }, decision, factsSummary: 'update', signal: new AbortController().signal,
    });
    assert.equal(r.granted, false);
    assert.equal((r as { code: string }).code, 'WARDEN_DENIED', JSON.stringify(act).slice(0, 80));
    assert.match((r as { message: string }).message, /act \(delegation\) claim is not an RFC 8693 actor chain/);
  }
  assert.equal((await svc.list({ state: 'pending' })).filter((v) => v.requester === 'gina').length, 0, 'no request was made');
  const id = await request(await as({ sub: 'gina', act: chainOf(32) }), 'UPDATE unreadable-chain');
  assert.equal((await svc.get(id))?.requester_actors?.length, 32);
});

test('an actor named by another issuer is another actor: it neither spends nor reads the approvals given to the token issuer\'s own', async () => {
  const sql = 'UPDATE foreign-actor';
  const gateAs = (principal: Principal) =>
    svc.gate({
      callId: `call-${Math.random()}`, sessionId: 's1', principal, tool: 'query_database', connection: 'shop',
      canonicalArgs: { connection: 'shop', sql }, decision, factsSummary: 'update', signal: new AbortController().signal,
    });
  const own = await as({ sub: 'hana', act: { sub: 'agent-x' } });
  const id = await request(own, sql);
  await svc.approve(id, await as({ sub: 'dana', groups: ['dba'] }));
  const foreign = await as({ sub: 'hana', act: { sub: 'agent-x', iss: 'https://other-idp.example' } });
  assert.equal(await svc.statusFor(foreign, id), null, 'the foreign agent-x reads the request of the issuer\'s agent-x');
  const r = await gateAs(foreign);
  assert.equal(r.granted, false, 'the foreign agent-x ran on the approval given to the issuer\'s agent-x');
  assert.notEqual((r as { approvalId?: string }).approvalId, id);
  assert.equal((await svc.get(id))?.state, 'approved', 'the approval is still there for its own chain');
  // Its own request names where the actor comes from, and the issuer's agent-x still may not approve it (folding only refuses).
  const theirs = (r as { approvalId: string }).approvalId;
  assert.deepEqual((await svc.get(theirs))?.requester_actors, ['agent-x (iss https://other-idp.example)']);
  await assert.rejects(svc.approve(theirs, await as({ sub: 'agent-x', groups: ['dba'] })), /requested this call/);
  // A link naming the token's own issuer is the same actor as one naming none: it runs on the approval.
  const named = await as({ sub: 'hana', act: { sub: 'agent-x', iss: iss.issuer } });
  assert.equal((await gateAs(named)).granted, true);
  assert.equal((await svc.get(id))?.state, 'used');
  assert.equal((await store.verify()).ok, true, 'verify replays the recorded chain into the row');
});
