/**
 * The requester's confirmation (`confirm: requester`) is judged by the live rule's `expires`, as
 * the reviewers' requests are (live-expires.test.ts). Found: a reload that shortened the
 * confirming rule's `expires` while the user answered, or while the call then waited for the
 * reviewers of another rule, was not noticed: the call ran on a confirmation older than the live
 * expiry. Real SQLite store, the service as the pipeline uses it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createApprovalService, type GateInput } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import type { ApprovalRequirement, CompiledPolicy, Decision } from '../../src/policy/types.js';
import { tempDir } from '../recorder/fixtures.js';
import { until } from './support.js';

const sam: Principal = { subject: 'sam', groups: ['dev'], claims: {}, authMethod: 'local' };
const dana: Principal = { subject: 'dana', groups: ['dba'], claims: {}, authMethod: 'local' };
const MIN = 60_000;
const confirmNeed = (expires: number): ApprovalRequirement => ({ confirm: 'requester', approvals: 1, expires, wait: 10_000, ruleId: 'confirm-rule' }) as ApprovalRequirement;
const reviewNeed: ApprovalRequirement = { reviewers: { groups: ['dba'] }, approvals: 1, expires: 10 * MIN, wait: 10_000, ruleId: 'review-rule' } as ApprovalRequirement;
const decisionOf = (needs: ApprovalRequirement[]): Decision =>
  ({ effect: 'allow', ruleIds: needs.map((n) => n.ruleId), reason: 'x', trace: [], alternatives: [], approvals: needs, approval: needs[0] }) as Decision;
/** The live policy: the confirming rule with this `expires`, and the reviewed rule as it was. */
const livePolicy = (confirmExpires: number): CompiledPolicy =>
  ({
    rules: [
      { id: 'confirm-rule', effect: 'allow', approval: { confirm: 'requester', approvals: 1, expires: confirmExpires, wait: 10_000 } },
      { id: 'review-rule', effect: 'allow', approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 10 * MIN, wait: 10_000 } },
    ],
  }) as unknown as CompiledPolicy;

function setup(t: { after: (fn: () => void) => void }) {
  const store = openSqliteStore(join(tempDir(t), 't.db'));
  t.after(() => void store.close());
  const state = { live: livePolicy(10 * MIN) };
  const svc = createApprovalService(store.approvals, { pollMs: 5, policy: () => state.live });
  const gate = (callId: string, decision: Decision, more: Partial<GateInput> = {}) =>
    svc.gate({
      callId, sessionId: 's1', principal: sam, tool: 'query_database', connection: 'db',
      canonicalArgs: { connection: 'db', sql: 'UPDATE t SET a = 1' }, decision, factsSummary: 'update',
      signal: new AbortController().signal, elicit: async () => ({ action: 'accept', content: { confirm: true } }), ...more,
    });
  const confirmation = async () => (await store.approvals.list({ limit: 100 })).find((r) => r.confirm === 'requester');
  return { store, svc, gate, state, confirmation };
}

test('a reload that shortens the confirming rule\'s expires while the user answers: the yes does not run the call', async (t) => {
  const { gate, state, confirmation } = setup(t);
  const res = await gate('c1', decisionOf([confirmNeed(10 * MIN)]), {
    elicit: async () => {
      const row = await until(confirmation, 15_000, 'the confirmation');
      state.live = livePolicy(1);
      await until(() => (Date.now() >= Date.parse(row.createdAt) + 2 ? true : undefined), 15_000, 'the confirmation to age');
      return { action: 'accept', content: { confirm: true } };
    },
  });
  assert.equal(res.granted, false, 'the call ran on a confirmation past the live expiry');
  assert.equal((res as { code: string }).code, 'WARDEN_APPROVAL_EXPIRED');
  const row = await confirmation();
  assert.notEqual(row?.state, 'used');
  assert.equal(row?.usedByCall, null);
});

test('a reload that shortens the confirming rule\'s expires while the call waits for another rule\'s reviewers: refused as expired, the confirmation never used', async (t) => {
  const { store, svc, gate, state, confirmation } = setup(t);
  const waiting = gate('c1', decisionOf([confirmNeed(10 * MIN), reviewNeed]));
  const req = await until(async () => (await store.approvals.list({ limit: 100 })).find((r) => r.confirm === null && r.state === 'pending'), 15_000, 'the reviewer request');
  const conf = (await confirmation())!;
  state.live = livePolicy(1);
  await until(() => (Date.now() >= Date.parse(conf.createdAt) + 2 ? true : undefined), 15_000, 'the confirmation to age');
  await svc.approve(req.id, dana);
  const res = await waiting;
  assert.equal(res.granted, false, 'the call ran on a confirmation past the live expiry');
  assert.equal((res as { code: string }).code, 'WARDEN_APPROVAL_EXPIRED');
  assert.equal((res as { approvalId: string }).approvalId, conf.id);
  assert.match((res as { message: string }).message, /confirmation/);
  assert.equal((await confirmation())?.state, 'voided', 'the confirmation ran nothing');
  assert.equal((await store.approvals.get(req.id))?.state, 'approved', 'the reviewer approval stays for the next attempt');
});

test('a reload that leaves the confirming rule\'s expires longer than its age changes nothing', async (t) => {
  const { store, svc, gate, state } = setup(t);
  const waiting = gate('c1', decisionOf([confirmNeed(10 * MIN), reviewNeed]));
  const req = await until(async () => (await store.approvals.list({ limit: 100 })).find((r) => r.confirm === null && r.state === 'pending'), 15_000, 'the reviewer request');
  state.live = livePolicy(30 * MIN);
  await svc.approve(req.id, dana);
  assert.equal((await waiting).granted, true);
});
