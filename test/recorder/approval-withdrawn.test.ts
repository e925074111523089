/**
 * The `withdrawn` approval event (approvals/withdraw.ts): a reviewer's approve on an open request
 * no longer counts. Both stores alike: the decision row goes, an approved request short of its
 * count is pending again (decided_at cleared), one still at its count stays approved, a used
 * request (its call never recorded, that long after) or a deny is left alone, and verify replays the event (a forged row is still reported).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { openPgStore, openSqliteStore, type ApprovalStore } from '../../src/recorder/index.js';
import { approvalRequest, tempDir } from './fixtures.js';
import { UNRECORDED_USE_MS } from '../../src/recorder/approval-rules.js';

const LATER = { expiresAt: '2099-01-01T00:00:00.000Z' };
const AT = '2026-11-28T10:05:00.000Z';
const WHY = 'dora is no longer a reviewer of this request (needs dba)';
const decide = (s: ApprovalStore, id: string, reviewer: string, decision: 'approve' | 'deny' = 'approve') =>
  s.decide(id, { reviewer, decision, comment: null, auth: 'oidc', at: AT }, () => undefined);

async function withdrawnBehaviour(s: ApprovalStore): Promise<void> {
  await s.create(approvalRequest('w1', undefined, LATER));
  await s.create(approvalRequest('w2', undefined, { ...LATER, approvalsRequired: 2 }));
  await s.create(approvalRequest('w3', undefined, { ...LATER, approvalsRequired: 1 }));
  await s.create(approvalRequest('w4', undefined, LATER));
  await s.create(approvalRequest('w5', undefined, LATER));
  await decide(s, 'w1', 'dora');
  await decide(s, 'w2', 'dora');
  await decide(s, 'w2', 'omar');
  await decide(s, 'w3', 'omar');
  await decide(s, 'w4', 'dora');
  assert.equal(await s.consume('w4', 'call-w4', AT), true);
  await decide(s, 'w5', 'dora', 'deny');

  // Approved 1 of 1: back to pending, decided_at cleared, the decision gone.
  assert.equal(typeof (await s.withdraw('w1', 'dora', WHY, AT)), 'number', 'the withdrawn record\'s seq');
  const w1 = (await s.get('w1'))!;
  assert.equal(w1.state, 'pending');
  assert.equal(w1.decidedAt, null);
  assert.deepEqual(w1.decisions, []);
  assert.equal((await s.consumeAll(['w1'], { callId: 'call-w1', callHash: 'h-w1', requester: 'ana' }, AT)).used, false, 'the call does not run on it');
  // Approved 2 of 2: pending, omar's approval kept.
  assert.equal(typeof (await s.withdraw('w2', 'dora', WHY, AT)), 'number', 'the withdrawn record\'s seq');
  const w2 = (await s.get('w2'))!;
  assert.equal(w2.state, 'pending');
  assert.deepEqual(w2.decisions.map((d) => d.reviewer), ['omar']);
  // Nothing of dora's on w3; used (w4, by a call never recorded, UNRECORDED_USE_MS on: its
  // process gone) and denied (w5) are history.
  assert.equal(await s.withdraw('w3', 'dora', WHY, AT), null);
  assert.equal(await s.withdraw('w4', 'dora', WHY, new Date(Date.parse(AT) + UNRECORDED_USE_MS + 1).toISOString()), null);
  assert.equal(await s.withdraw('w5', 'dora', WHY, AT), null);
  assert.equal((await s.get('w3'))!.state, 'approved');
  assert.equal((await s.get('w4'))!.state, 'used');
  assert.equal((await s.get('w5'))!.state, 'denied');
  // Approved again by another reviewer: settles anew.
  await decide(s, 'w1', 'ivan');
  assert.equal((await s.get('w1'))!.state, 'approved');
}

test('SQLite: a withdrawn approval stops counting, and verify replays it', async (t) => {
  const s = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void s.close());
  await withdrawnBehaviour(s.approvals);
  const ok = await s.verify();
  assert.equal(ok.ok, true, JSON.stringify(ok.firstBroken));
  // Putting the withdrawn decision back (and the request back to approved) is reported.
  s.db.prepare(`UPDATE approvals SET state = 'approved' WHERE id = 'w2'`).run();
  const v = await s.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken?.reason ?? '', /approvals row "w2" differs from its records \(state\)/);
});

const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

test('PostgreSQL: a withdrawn approval stops counting, as in SQLite, and verify replays it', async () => {
  const db = await createTestDatabase({ prefix: 'apwd' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const s = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  try {
    await withdrawnBehaviour(s.approvals);
    const ok = await s.verify();
    assert.equal(ok.ok, true, JSON.stringify(ok.firstBroken));
    await db.query(`INSERT INTO approval_decisions (approval_id, reviewer, decision, comment, at, auth, seq) SELECT 'w2', 'dora', 'approve', NULL, at, auth, seq - 1 FROM approval_decisions WHERE approval_id = 'w2'`);
    const v = await s.verify();
    assert.equal(v.ok, false);
    assert.match(v.firstBroken?.reason ?? '', /approval_decisions of "w2" differ/);
  } finally {
    await s.close();
  }
});
