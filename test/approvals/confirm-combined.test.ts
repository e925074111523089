/**
 * A call that needs the requester's confirmation (`confirm: requester`) and reviewer approvals:
 * the confirmation is used up together with the reviewer approvals, in the same store
 * transaction, only when the call runs. When the reviewer part refuses (denied, not decided in
 * time, voided by the live policy), the confirmation is voided: it never reads `used` for a call
 * that did not run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import type { ApprovalRow } from '../../src/recorder/index.js';
import { createApprovalService, type GateInput, type GateResult } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import type { Decision } from '../../src/policy/types.js';
import { tempDir } from '../recorder/fixtures.js';

const p = (subject: string, groups: string[]): Principal => ({ subject, groups, claims: {}, authMethod: 'local' });
const sam = p('sam', ['dev']);
const dana = p('dana', ['dba']);
const MIN = 60_000;

const confirmAndReview = (wait: number): Decision => {
  const need = { confirm: 'requester' as const, reviewers: { groups: ['dba'] }, approvals: 1, expires: 10 * MIN, wait, ruleId: 'prod-write' };
  return { effect: 'allow', ruleIds: ['prod-write'], reason: 'x', trace: [], alternatives: [], approvals: [need], approval: need };
};

function setup(t: { after: (fn: () => void) => void }) {
  const store = openSqliteStore(join(tempDir(t), 't.db'));
  t.after(() => void store.close());
  const svc = createApprovalService(store.approvals, { pollMs: 5 });
  const gate = (callId: string, decision: Decision, more: Partial<GateInput> = {}): Promise<GateResult> =>
    svc.gate({
      callId,
      sessionId: 's1',
      principal: sam,
      tool: 'query_database',
      connection: 'db',
      canonicalArgs: { connection: 'db', sql: 'UPDATE t SET a = 1' },
      decision,
      factsSummary: 'update',
      signal: new AbortController().signal,
      elicit: async () => ({ action: 'accept', content: { confirm: true } }),
      ...more,
    });
  const rows = async (): Promise<{ confirmation: ApprovalRow; reviewed: ApprovalRow }> => {
    const all = await store.approvals.list({ limit: 100 });
    const confirmation = all.find((r) => r.confirm === 'requester');
    const reviewed = all.find((r) => r.confirm === null);
    assert.ok(confirmation && reviewed, 'a confirmation and a reviewer request');
    return { confirmation, reviewed };
  };
  /** Wait until the gate's reviewer request exists (the gate is waiting on it). */
  const reviewerRequest = async (): Promise<ApprovalRow> => {
    for (;;) {
      const r = (await store.approvals.list({ limit: 100 })).find((x) => x.confirm === null && x.state === 'pending');
      if (r) return r;
      await new Promise((res) => setTimeout(res, 5));
    }
  };
  return { store, svc, gate, rows, reviewerRequest };
}

test('the reviewer denies after the requester confirmed: the call is refused and the confirmation is voided, never used', async (t) => {
  const { svc, gate, rows, reviewerRequest } = setup(t);
  const waiting = gate('c1', confirmAndReview(10_000));
  const req = await reviewerRequest();
  // While the reviewers decide, the confirmation is given but not used: no call ran on it.
  const during = (await rows()).confirmation;
  assert.equal(during.state, 'approved');
  await svc.deny(req.id, dana, 'not now');
  const res = await waiting;
  assert.equal(res.granted, false);
  assert.equal((res as { code: string }).code, 'WARDEN_APPROVAL_DENIED');
  const { confirmation, reviewed } = await rows();
  assert.equal(reviewed.state, 'denied');
  assert.equal(confirmation.state, 'voided', 'the confirmation ran nothing');
  assert.equal(confirmation.usedByCall, null);
});

test('not decided in time: the confirmation is voided with the pending answer; the reviewer request stays open for the next attempt', async (t) => {
  const { gate, rows } = setup(t);
  const res = await gate('c1', confirmAndReview(0));
  assert.equal((res as { code: string }).code, 'WARDEN_APPROVAL_PENDING');
  const { confirmation, reviewed } = await rows();
  assert.equal(reviewed.state, 'pending');
  assert.equal(confirmation.state, 'voided');
  assert.equal(confirmation.usedByCall, null);
});

test('the live policy refuses the call once the reviewers approved: the confirmation and the approval are voided together', async (t) => {
  const { svc, gate, rows, reviewerRequest } = setup(t);
  const waiting = gate('c1', confirmAndReview(10_000), { recheck: () => ({ code: 'WARDEN_DENIED', message: 'frozen since', ruleIds: ['freeze'] }) });
  // The recheck refuses right after the confirmation: nothing waits for reviewers.
  const res = await waiting;
  assert.equal((res as { code: string }).code, 'WARDEN_DENIED');
  const all = await svc.list({ limit: 100 });
  assert.ok(all.every((v) => v.state !== 'used'), JSON.stringify(all.map((v) => v.state)));
  // A recheck that refuses only after the reviewers approved.
  let refuse = false;
  const second = gate('c2', confirmAndReview(10_000), { recheck: () => (refuse ? { code: 'WARDEN_DENIED', message: 'frozen since', ruleIds: ['freeze'] } : null) });
  const req = await reviewerRequest();
  refuse = true;
  await svc.approve(req.id, dana);
  const r2 = await second;
  assert.equal((r2 as { code: string }).code, 'WARDEN_DENIED');
  const mine = (await svc.list({ limit: 100 })).filter((v) => v.call_id === 'c2' || v.id === req.id);
  assert.deepEqual(mine.map((v) => v.state).sort(), ['voided', 'voided']);
});

test('the reviewers approve: the call runs, and the confirmation and the approval are used by it in one transaction', async (t) => {
  const { store, svc, gate, rows, reviewerRequest } = setup(t);
  const waiting = gate('c1', confirmAndReview(10_000));
  const req = await reviewerRequest();
  await svc.approve(req.id, dana);
  const res = await waiting;
  assert.equal(res.granted, true, JSON.stringify(res));
  const { confirmation, reviewed } = await rows();
  assert.equal(confirmation.state, 'used');
  assert.equal(reviewed.state, 'used');
  assert.equal(confirmation.usedByCall, 'c1');
  assert.equal(reviewed.usedByCall, 'c1');
  assert.equal(confirmation.usedAt, reviewed.usedAt, 'used at the same moment');
  // A confirmation is used by the call it was given for, never by another.
  const again = await store.approvals.consumeAll([confirmation.id], { callId: 'c9', callHash: confirmation.callHash, requester: 'sam' }, new Date().toISOString());
  assert.equal(again.used, false);
});
