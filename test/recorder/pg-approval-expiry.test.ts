/**
 * PostgreSQL: verify judges approval times against the request's stored expiry (the check is
 * shared with SQLite: approval-transitions.ts, approval-expiry-verify.test.ts). The forger appends
 * with the store's own writer (chain head lock, hashes), none of its checks, and sets the rows to
 * match. Before, a `used` recorded after the expiry verified; within the 5 s clock tolerance
 * (replicas' clocks) it still does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson } from '../../src/recorder/canonical-json.js';
import type { PgTx, PgWriter } from '../../src/recorder/pg-writer.js';
import type { PgTranscriptStore } from '../../src/recorder/index.js';
import { pgStoreSuite } from './pg-store-suite.js';
import { approvalRequest, session } from './fixtures.js';

const late = pgStoreSuite('pgexpirylate');
const near = pgStoreSuite('pgexpirynear');

function forge(store: PgTranscriptStore, fn: (tx: PgTx) => Promise<void>): Promise<void> {
  return (store.approvals as unknown as { writer: PgWriter }).writer.write(fn);
}

/** Request p1 (10:00, expires 12:00), approved by dora at 11:00 and used at `usedAt`, rows set to match; the `used` record's seq. */
async function usedAt(store: PgTranscriptStore, usedAt: string): Promise<number> {
  await store.openSession(session('s1'));
  await store.approvals.create(approvalRequest('p1', '2026-11-28T10:00:00.000Z'));
  let seq = 0;
  await forge(store, async (tx) => {
    const d = await tx.append('approval_event', 'p1', '2026-11-28T11:00:00.000Z', canonicalJson({ approvalId: 'p1', event: 'decision', callId: 'call-p1', reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc' }));
    await tx.q(`INSERT INTO approval_decisions (approval_id, reviewer, decision, comment, at, auth, seq) VALUES ('p1', 'dora', 'approve', NULL, '2026-11-28T11:00:00.000Z', 'oidc', $1)`, [d]);
    await tx.append('approval_event', 'p1', '2026-11-28T11:00:00.000Z', canonicalJson({ approvalId: 'p1', event: 'approved', callId: 'call-p1', from: 'pending' }));
    seq = await tx.append('approval_event', 'p1', usedAt, canonicalJson({ approvalId: 'p1', event: 'used', callId: 'call-p1', from: 'approved' }));
    await tx.q(`UPDATE approvals SET state = 'used', decided_at = '2026-11-28T11:00:00.000Z', used_at = $1, used_by_call = 'call-p1' WHERE id = 'p1'`, [usedAt]);
  });
  return seq;
}

test('PostgreSQL: a `used` recorded after the request expired is reported', async () => {
  const store = await late.open();
  const seq = await usedAt(store, '2026-11-28T12:10:00.000Z');
  const v = await store.verify();
  assert.equal(v.ok, false);
  assert.equal(v.firstBroken?.seq, seq);
  assert.match(v.firstBroken!.reason, /^APPROVAL_USED_AFTER_EXPIRY: approval request "p1" is used at 2026-11-28T12:10:00.000Z, after it expired at 2026-11-28T12:00:00.000Z/);
});

test('PostgreSQL: a `used` within the clock tolerance of the expiry (a replica 4 s ahead) passes', async () => {
  const store = await near.open();
  await usedAt(store, '2026-11-28T12:00:04.000Z');
  const v = await store.verify();
  assert.deepEqual([v.ok, v.firstBroken], [true, undefined]);
});
