/**
 * verify replays the approval tables from their approval_event records: a state flipped in the
 * file, a decision deleted or forged, a request row deleted or invented are all reported.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import type { NewApproval } from '../../src/recorder/approval-store.js';
import { approvalRequest, session, tempDir } from './fixtures.js';

const request = (id: string, at: string): NewApproval => approvalRequest(id, at);

// a1: approved then used; a2: denied; a3: pending.
async function seeded(t: { after: (fn: () => void) => void }): Promise<{ store: SqliteTranscriptStore; evil: Database.Database }> {
  const path = join(tempDir(t), 'w.db');
  const store = openSqliteStore(path);
  await store.openSession(session('s1'));
  const ok = () => undefined;
  await store.approvals.create(request('a1', '2026-11-28T10:00:00.000Z'));
  await store.approvals.decide('a1', { reviewer: 'dora', decision: 'approve', comment: 'fine', auth: 'oidc', at: '2026-11-28T10:01:00.000Z' }, ok);
  assert.equal(await store.approvals.consume('a1', 'call-a1-retry', '2026-11-28T10:02:00.000Z'), true);
  await store.approvals.create(request('a2', '2026-11-28T10:03:00.000Z'));
  await store.approvals.decide('a2', { reviewer: 'dora', decision: 'deny', comment: 'no', auth: 'oidc', at: '2026-11-28T10:04:00.000Z' }, ok);
  await store.approvals.create(request('a3', '2026-11-28T10:05:00.000Z'));
  assert.deepEqual(await store.verify().then((v) => [v.ok, v.firstBroken]), [true, undefined]);
  const evil = new Database(path);
  t.after(() => {
    evil.close();
    void store.close();
  });
  return { store, evil };
}

async function brokenReason(store: SqliteTranscriptStore): Promise<string> {
  const v = await store.verify();
  assert.equal(v.ok, false, 'verify must fail');
  return v.firstBroken!.reason;
}

test('a pending request flipped to approved in the file is reported', async (t) => {
  const { store, evil } = await seeded(t);
  evil.prepare(`UPDATE approvals SET state = 'approved', decided_at = '2026-11-28T10:06:00.000Z' WHERE id = 'a3'`).run();
  assert.match(await brokenReason(store), /approvals row "a3" differs from its records \(state, decided_at\)/);
});

test('a deleted deny decision and a forged approve decision are reported', async (t) => {
  const { store, evil } = await seeded(t);
  evil.prepare(`DELETE FROM approval_decisions WHERE approval_id = 'a2'`).run();
  assert.match(await brokenReason(store), /approval_decisions of "a2" differ from its decision records/);
  const again = await seeded(t);
  again.evil.prepare(`INSERT INTO approval_decisions (approval_id, reviewer, decision, comment, at, auth, seq) VALUES ('a3', 'mallory', 'approve', NULL, '2026-11-28T10:06:00.000Z', 'oidc', 99)`).run();
  assert.match(await brokenReason(again.store), /approval_decisions of "a3" differ/);
});

test('widened reviewers, another requester group and a re-pointed used call are reported', async (t) => {
  for (const [sql, col] of [
    [`UPDATE approvals SET reviewers = '{"groups":["everyone"]}' WHERE id = 'a3'`, 'reviewers'],
    [`UPDATE approvals SET requester_groups = '["dba"]' WHERE id = 'a3'`, 'requester_groups'],
    [`UPDATE approvals SET used_by_call = 'other' WHERE id = 'a1'`, 'used_by_call'],
  ] as const) {
    const { store, evil } = await seeded(t);
    evil.prepare(sql).run();
    assert.match(await brokenReason(store), new RegExp(`differs from its records \\(${col}\\)`));
  }
});

test('an invented request row and a deleted one are reported', async (t) => {
  const { store, evil } = await seeded(t);
  evil.exec(`CREATE TEMP TABLE x AS SELECT * FROM approvals WHERE id = 'a3'; UPDATE x SET id = 'forged', seq = 999; INSERT INTO approvals SELECT * FROM x;`);
  assert.match(await brokenReason(store), /approvals row "forged" has no requested record/);
  const again = await seeded(t);
  again.evil.prepare(`DELETE FROM approvals WHERE id = 'a3'`).run();
  assert.match(await brokenReason(again.store), /approval request "a3" has no approvals row/);
});

test('the replay reads the approval records through their own index, not a scan of the chain', async (t) => {
  const { evil } = await seeded(t);
  const plan = (evil.prepare(`EXPLAIN QUERY PLAN SELECT seq, ref_id, ts, body FROM records WHERE kind = 'approval_event' ORDER BY seq`).all() as { detail: string }[]).map((r) => r.detail).join('\n');
  assert.match(plan, /records_approval_events/);
});

test('after retention cut the records of old requests, verify still passes and still checks newer ones', async (t) => {
  const { store, evil } = await seeded(t);
  await store.approvals.decide('a3', { reviewer: 'dora', decision: 'deny', comment: null, auth: 'oidc', at: '2026-11-28T10:06:00.000Z' }, () => undefined);
  await store.closeSession('s1', '2026-11-28T10:10:00.000Z');
  await store.openSession(session('s2', 'bob', '2026-11-28T11:00:00.000Z'));
  const r = await store.purge('2026-11-28T10:30:00.000Z', '2026-11-28T11:30:00.000Z');
  assert.ok(r.checkpointSeq, 'the purge cut the chain');
  assert.deepEqual(evil.prepare('SELECT id FROM approvals UNION ALL SELECT approval_id FROM approval_decisions').all(), [], 'settled requests left with their records');
  const v = await store.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  await store.approvals.create({ ...request('a4', '2026-11-28T11:31:00.000Z'), sessionId: 's2' });
  assert.equal((await store.verify()).ok, true);
  evil.prepare(`UPDATE approvals SET state = 'approved' WHERE id = 'a4'`).run();
  assert.match(await brokenReason(store), /approvals row "a4" differs from its records \(state\)/);
});

test('a live request holds the retention cut; an approvals row left below a cut is reported', async (t) => {
  const { store, evil } = await seeded(t);
  await store.closeSession('s1', '2026-11-28T10:10:00.000Z');
  await store.openSession(session('s2', 'bob', '2026-11-28T11:00:00.000Z'));
  const a3 = (evil.prepare(`SELECT seq FROM approvals WHERE id = 'a3'`).get() as { seq: number }).seq;
  // a3 is pending until 12:00: the cut stays below its request, so s1 (open before it, closed
  // after it) is not cut either; nothing is purged.
  const held = await store.purge('2026-11-28T10:30:00.000Z', '2026-11-28T11:30:00.000Z');
  assert.equal(held.cutSeq, 0);
  assert.equal((evil.prepare('SELECT COUNT(*) AS n FROM approvals').get() as { n: number }).n, 3);
  // Once a3 expires the cut goes through, and the settled rows leave with their records.
  assert.equal((await store.approvals.expireDue('2026-11-28T12:00:00.000Z')).length, 1);
  const cut = await store.purge('2026-11-28T10:30:00.000Z', '2026-11-28T12:01:00.000Z');
  assert.ok(cut.cutSeq > a3, JSON.stringify(cut));
  assert.equal((await store.verify()).ok, true);
  // A row put back below the cut (say, a used approval restored as approved) is reported.
  evil.prepare(`INSERT INTO approvals (id, state, requester, requester_groups, requester_auth, tool, connection, canonical_call, call_hash, summary, rule_ids,
      approval_rule, approvals_required, reviewers, confirm, call_id, session_id, created_at, expires_at, seq)
    VALUES ('a1', 'approved', 'ana', '[]', 'oidc', 'query_database', 'shop', '{}', 'h-a1', 's', '[]', 'fixes', 1, '{}', NULL, NULL, NULL, '2026-11-28T10:00:00.000Z', '2099-01-01T00:00:00.000Z', 2)`).run();
  assert.match(await brokenReason(store), /approvals row "a1" lies at or below the retention cut/);
});
