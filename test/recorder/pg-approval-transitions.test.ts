/**
 * PostgreSQL: verify reports an approval history no store could have written, even when the
 * approval rows were set to match it (the check is shared with SQLite: approval-transitions.ts).
 * The forger appends with the store's own writer (chain head lock, hashes), none of its checks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../src/recorder/canonical-json.js';
import type { PgTx, PgWriter } from '../../src/recorder/pg-writer.js';
import type { PgTranscriptStore } from '../../src/recorder/index.js';
import { pgStoreSuite } from './pg-store-suite.js';
import { approvalRequest, session } from './fixtures.js';

// One database each: a forged record stays in the chain, and verify names the first finding.
const suite = pgStoreSuite('pgtransitions');
const other = pgStoreSuite('pgtransself');

function forge(store: PgTranscriptStore, fn: (tx: PgTx) => Promise<void>): Promise<void> {
  return (store.approvals as unknown as { writer: PgWriter }).writer.write(fn);
}

test('PostgreSQL: a second use of a request and a self-approval, rows set to match, are reported', async () => {
  const store = await suite.open();
  await store.openSession(session('s1'));
  const ok = () => undefined;
  await store.approvals.create(approvalRequest('p1', '2026-11-28T10:00:00.000Z', { expiresAt: '2099-01-01T00:00:00.000Z' }));
  await store.approvals.decide('p1', { reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc', at: '2026-11-28T10:01:00.000Z' }, ok);
  assert.equal(await store.approvals.consume('p1', 'call-p1', '2026-11-28T10:02:00.000Z'), true);
  const clean = await store.verify();
  assert.deepEqual([clean.ok, clean.firstBroken], [true, undefined]);

  let seq = 0;
  await forge(store, async (tx) => {
    seq = await tx.append('approval_event', 'p1', '2026-11-28T10:03:00.000Z', canonicalJson({ approvalId: 'p1', event: 'used', callId: 'call-other', from: 'approved' }));
    await tx.q(`UPDATE approvals SET used_at = '2026-11-28T10:03:00.000Z', used_by_call = 'call-other' WHERE id = 'p1'`);
  });
  const v = await store.verify();
  assert.equal(v.ok, false);
  assert.equal(v.firstBroken?.seq, seq);
  assert.match(v.firstBroken!.reason, /approval request "p1" is used: a `used` event cannot follow/);
});

test('PostgreSQL: a request decided by its own requester is reported', async () => {
  const store = await other.open();
  await store.approvals.create(approvalRequest('p2', '2026-11-28T11:00:00.000Z', { expiresAt: '2099-01-01T00:00:00.000Z' }));
  let seq = 0;
  await forge(store, async (tx) => {
    seq = await tx.append('approval_event', 'p2', '2026-11-28T11:01:00.000Z', canonicalJson({ approvalId: 'p2', event: 'decision', callId: 'call-p2', reviewer: 'ana', decision: 'approve', comment: null, auth: 'oidc' }));
    await tx.q(`INSERT INTO approval_decisions (approval_id, reviewer, decision, comment, at, auth, seq) VALUES ('p2', 'ana', 'approve', NULL, '2026-11-28T11:01:00.000Z', 'oidc', $1)`, [seq]);
    await tx.append('approval_event', 'p2', '2026-11-28T11:01:00.000Z', canonicalJson({ approvalId: 'p2', event: 'approved', callId: 'call-p2', from: 'pending' }));
    await tx.q(`UPDATE approvals SET state = 'approved', decided_at = '2026-11-28T11:01:00.000Z' WHERE id = 'p2'`);
  });
  const v = await store.verify();
  assert.equal(v.ok, false);
  assert.equal(v.firstBroken?.seq, seq);
  assert.match(v.firstBroken!.reason, /approval request "p2" is decided by its requester ana/);
});
