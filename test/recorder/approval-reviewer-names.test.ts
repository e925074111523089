/**
 * Each decision's reviewer person names (approvals/subjects.ts decisionNames): stored in
 * approval_decisions.reviewer_names (SQLite v16, PostgreSQL v13), recorded in the `decision`
 * event, checked by verify; the store refuses a second decision sharing a name with an earlier
 * one; a forged history in which one person decides twice under two names is reported; a store
 * from before the column migrates to NULL (no names: the subject alone, as before).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { openPgStore, openSqliteStore, SCHEMA_VERSION } from '../../src/recorder/index.js';
import { PG_SCHEMA_VERSION } from '../../src/recorder/pg-schema.js';
import { approvalRequest, tempDir } from './fixtures.js';
import { AS_V15 } from './signed-head-row.js';

const ok = () => undefined;
const AT = '2026-11-28T10:01:00.000Z';
const TWO = { approvalsRequired: 2 };
/** PostgreSQL judges expiry by the database's clock: a request that expires long after the test. */
const LATER = '2099-01-01T00:00:00.000Z';

type EventWriter = (refId: string, ts: string, body: Record<string, unknown>) => number;

test('SQLite: the names are stored, in the decision record, verified; the store refuses a second decision by a shared name', async (t) => {
  const s = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void s.close());
  await s.approvals.create(approvalRequest('d1', undefined, TWO));
  await s.approvals.decide('d1', { reviewer: '00u9dana', reviewerNames: ['dana@corp.example'], decision: 'approve', comment: null, auth: 'oidc:a', at: AT }, ok);
  assert.deepEqual((await s.approvals.get('d1'))?.decisions.map((d) => d.reviewerNames), [['dana@corp.example']]);
  const body = JSON.parse(String(s.db.prepare(`SELECT body FROM records WHERE kind = 'approval_event' AND ref_id = 'd1' AND body LIKE '%"event":"decision"%'`).pluck().get())) as Record<string, unknown>;
  assert.deepEqual(body.reviewerNames, ['dana@corp.example']);
  // The store's own check (exact, whatever the service's eligibility says): either direction.
  await assert.rejects(s.approvals.decide('d1', { reviewer: 'dana@corp.example', decision: 'approve', comment: null, auth: 'local', at: AT }, ok), /has already decided/);
  await assert.rejects(s.approvals.decide('d1', { reviewer: '00u3zzz', reviewerNames: ['dana@corp.example'], decision: 'approve', comment: null, auth: 'oidc:b', at: AT }, ok), /has already decided/);
  assert.equal((await s.approvals.decide('d1', { reviewer: 'kim', reviewerNames: ['kim@corp.example'], decision: 'approve', comment: null, auth: 'local', at: AT }, ok)).state, 'approved');
  assert.equal((await s.verify()).ok, true);
  s.db.prepare(`UPDATE approval_decisions SET reviewer_names = ? WHERE approval_id = 'd1' AND reviewer = '00u9dana'`).run(JSON.stringify(['lee@corp.example']));
  const v = await s.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken?.reason ?? '', /approval_decisions of "d1" differ from its decision records/);
});

test('verify reports a forged history in which one person decides twice under two names', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const s = openSqliteStore(path);
  const evil = new Database(path);
  t.after(() => {
    evil.close();
    void s.close();
  });
  await s.approvals.create(approvalRequest('f1', undefined, TWO));
  await s.approvals.decide('f1', { reviewer: '00u9dana', reviewerNames: ['dana@corp.example'], decision: 'approve', comment: null, auth: 'oidc:a', at: AT }, ok);
  const forge = (fn: (event: EventWriter) => void) => (s as unknown as { approvalWrite: (f: (event: EventWriter) => void) => void }).approvalWrite(fn);
  let seq = 0;
  forge((event) => {
    seq = event('f1', AT, { approvalId: 'f1', event: 'decision', callId: 'call-f1', reviewer: 'dana@corp.example', decision: 'approve', comment: null, auth: 'local' });
    event('f1', AT, { approvalId: 'f1', event: 'approved', callId: 'call-f1', from: 'pending' });
  });
  evil.prepare(`INSERT INTO approval_decisions (approval_id, reviewer, decision, comment, at, auth, seq) VALUES ('f1', 'dana@corp.example', 'approve', NULL, ?, 'local', ?)`).run(AT, seq);
  evil.prepare(`UPDATE approvals SET state = 'approved', decided_at = ? WHERE id = 'f1'`).run(AT);
  const v = await s.verify();
  assert.equal(v.ok, false);
  assert.equal(v.firstBroken?.seq, seq);
  assert.match(v.firstBroken?.reason ?? '', /approval request "f1" is decided twice by one person: dana@corp\.example, and 00u9dana/);
});

test('SQLite v16 migration: an older file gains the column, its decisions have no names, verify passes', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const first = openSqliteStore(path);
  await first.approvals.create(approvalRequest('old1', undefined, TWO));
  await first.approvals.decide('old1', { reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc', at: AT }, ok);
  await first.close();
  const raw = new Database(path);
  raw.exec(AS_V15);
  raw.close();
  const s = openSqliteStore(path);
  t.after(() => void s.close());
  assert.equal(SCHEMA_VERSION, 17);
  assert.equal((s.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v, SCHEMA_VERSION);
  assert.equal(s.db.prepare(`SELECT reviewer_names FROM approval_decisions WHERE approval_id = 'old1'`).pluck().get(), null);
  assert.deepEqual((await s.approvals.get('old1'))?.decisions.map((d) => d.reviewerNames), [[]]);
  // The name-less decision may be kim's too (approval-rules.ts approvingPersons): one more named reviewer fills it.
  assert.equal((await s.approvals.decide('old1', { reviewer: 'kim', reviewerNames: ['kim@corp.example'], decision: 'approve', comment: null, auth: 'local', at: AT }, ok)).state, 'pending');
  assert.equal((await s.approvals.decide('old1', { reviewer: 'lee', reviewerNames: ['lee@corp.example'], decision: 'approve', comment: null, auth: 'local', at: AT }, ok)).state, 'approved');
  assert.equal((await s.verify()).ok, true);
});

const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

test('PostgreSQL: the names are stored, refused twice and verified; the v13 migration gives older decisions none', async () => {
  const db = await createTestDatabase({ prefix: 'apdnames' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const s = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  await s.approvals.create(approvalRequest('pg-old', undefined, { ...TWO, expiresAt: LATER }));
  await s.approvals.decide('pg-old', { reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc', at: AT }, ok);
  await s.close();
  await db.query(`ALTER TABLE approval_decisions DROP COLUMN reviewer_names; DELETE FROM schema_version WHERE version >= 13;`);
  const again = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  try {
    assert.equal(PG_SCHEMA_VERSION, 14);
    assert.equal(Number((await db.query('SELECT MAX(version) AS v FROM schema_version')).rows[0]?.v), PG_SCHEMA_VERSION);
    assert.deepEqual((await again.approvals.get('pg-old'))?.decisions.map((d) => d.reviewerNames), [[]]);
    await again.approvals.create(approvalRequest('pg-new', undefined, { ...TWO, callHash: 'h-new', expiresAt: LATER }));
    await again.approvals.decide('pg-new', { reviewer: '00u9dana', reviewerNames: ['dana@corp.example'], decision: 'approve', comment: null, auth: 'oidc:a', at: AT }, ok);
    await assert.rejects(again.approvals.decide('pg-new', { reviewer: 'dana@corp.example', decision: 'approve', comment: null, auth: 'local', at: AT }, ok), /has already decided/);
    assert.deepEqual((await again.approvals.get('pg-new'))?.decisions.map((d) => d.reviewerNames), [['dana@corp.example']]);
    const q = await again.approvals.pendingQueue(10, 10);
    assert.deepEqual(q.groups.flatMap((g) => g.rows).find((r) => r.id === 'pg-new')?.decisions.map((d) => d.reviewerNames), [['dana@corp.example']], 'the queue reads the names too');
    let v = await again.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    await db.query(`UPDATE approval_decisions SET reviewer_names = NULL WHERE approval_id = 'pg-new'`);
    v = await again.verify();
    assert.equal(v.ok, false);
    assert.match(v.firstBroken?.reason ?? '', /approval_decisions of "pg-new" differ from its decision records/);
  } finally {
    await again.close();
  }
});
