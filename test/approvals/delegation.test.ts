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
