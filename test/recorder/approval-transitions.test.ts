/**
 * verify checks that the approval state changes recorded in the chain are legal, not only that
 * the approval tables agree with them. Whoever can write the store can append approval_event
 * records that hash cleanly onto the chain (with Warden's own writer, none of its checks) and
 * set the rows to what they imply: a second `used` of a request, an `approved` after a deny, a
 * request approved by its own requester. Before, the replay applied any event to any state and
 * verify passed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { approvalRequest, session, tempDir } from './fixtures.js';

type EventWriter = (refId: string, ts: string, body: Record<string, unknown>) => number;

// a1: approved by dora, then used; a2: denied by dora; a3: pending (requester ana).
async function seeded(t: { after: (fn: () => void) => void }): Promise<{ store: SqliteTranscriptStore; evil: Database.Database; forge: (fn: (event: EventWriter) => void) => void }> {
  const path = join(tempDir(t), 'w.db');
  const store = openSqliteStore(path);
  await store.openSession(session('s1'));
  const ok = () => undefined;
  await store.approvals.create(approvalRequest('a1', '2026-11-28T10:00:00.000Z'));
  await store.approvals.decide('a1', { reviewer: 'dora', decision: 'approve', comment: 'fine', auth: 'oidc', at: '2026-11-28T10:01:00.000Z' }, ok);
  assert.equal(await store.approvals.consume('a1', 'call-a1-retry', '2026-11-28T10:02:00.000Z'), true);
  await store.approvals.create(approvalRequest('a2', '2026-11-28T10:03:00.000Z'));
  await store.approvals.decide('a2', { reviewer: 'dora', decision: 'deny', comment: 'no', auth: 'oidc', at: '2026-11-28T10:04:00.000Z' }, ok);
  await store.approvals.create(approvalRequest('a3', '2026-11-28T10:05:00.000Z'));
  const v = await store.verify();
  assert.deepEqual([v.ok, v.firstBroken], [true, undefined]);
  const evil = new Database(path);
  t.after(() => {
    evil.close();
    void store.close();
  });
  // The store's own append (hash chain, seq) without any of the approval checks: what a forger with write access can do.
  const forge = (fn: (event: EventWriter) => void) => (store as unknown as { approvalWrite: (f: (event: EventWriter) => void) => void }).approvalWrite(fn);
  return { store, evil, forge };
}

async function broken(store: SqliteTranscriptStore): Promise<{ seq: number; reason: string }> {
  const v = await store.verify();
  assert.equal(v.ok, false, 'verify must fail');
  return v.firstBroken!;
}

test('a request used a second time (rows set to match) is reported', async (t) => {
  const { store, evil, forge } = await seeded(t);
  let seq = 0;
  forge((event) => void (seq = event('a1', '2026-11-28T10:06:00.000Z', { approvalId: 'a1', event: 'used', callId: 'call-other', from: 'approved' })));
  evil.prepare(`UPDATE approvals SET used_at = '2026-11-28T10:06:00.000Z', used_by_call = 'call-other' WHERE id = 'a1'`).run();
  const b = await broken(store);
  assert.equal(b.seq, seq);
  assert.match(b.reason, /approval request "a1" is used: a `used` event cannot follow/);
  // The CLI names the record like any other broken one, and exits 1.
  const err: string[] = [];
  assert.equal(await runTranscriptsCommand(['verify'], { store, json: false, out: () => {}, err: (e) => err.push(e) }), 1);
  assert.match(err.join('\n'), new RegExp(`transcript chain broken at record ${seq}: approval request "a1" is used`));
});

test('a denied request approved afterwards is reported', async (t) => {
  const { store, evil, forge } = await seeded(t);
  let seq = 0;
  forge((event) => void (seq = event('a2', '2026-11-28T10:06:00.000Z', { approvalId: 'a2', event: 'approved', callId: 'call-a2', from: 'pending' })));
  evil.prepare(`UPDATE approvals SET state = 'approved' WHERE id = 'a2'`).run();
  const b = await broken(store);
  assert.equal(b.seq, seq);
  assert.match(b.reason, /approval request "a2" is denied: an `approved` event cannot follow/);
});

test('a decision by the requester itself, and an approval short of its count, are reported', async (t) => {
  const self = await seeded(t);
  let seq = 0;
  self.forge((event) => {
    seq = event('a3', '2026-11-28T10:06:00.000Z', { approvalId: 'a3', event: 'decision', callId: 'call-a3', reviewer: 'ana', decision: 'approve', comment: null, auth: 'oidc' });
    event('a3', '2026-11-28T10:06:00.000Z', { approvalId: 'a3', event: 'approved', callId: 'call-a3', from: 'pending' });
  });
  self.evil.prepare(`INSERT INTO approval_decisions (approval_id, reviewer, decision, comment, at, auth, seq) VALUES ('a3', 'ana', 'approve', NULL, '2026-11-28T10:06:00.000Z', 'oidc', ?)`).run(seq);
  self.evil.prepare(`UPDATE approvals SET state = 'approved', decided_at = '2026-11-28T10:06:00.000Z' WHERE id = 'a3'`).run();
  const b = await broken(self.store);
  assert.equal(b.seq, seq);
  assert.match(b.reason, /approval request "a3" is decided by its requester ana/);

  const short = await seeded(t);
  short.forge((event) => void (seq = event('a3', '2026-11-28T10:06:00.000Z', { approvalId: 'a3', event: 'approved', callId: 'call-a3', from: 'pending' })));
  short.evil.prepare(`UPDATE approvals SET state = 'approved', decided_at = '2026-11-28T10:06:00.000Z' WHERE id = 'a3'`).run();
  const s = await broken(short.store);
  assert.equal(s.seq, seq);
  assert.match(s.reason, /approval request "a3" is approved with 0 of 1 required approvals/);
});

test('a decision on an expired request is reported', async (t) => {
  const { store, evil, forge } = await seeded(t);
  let seq = 0;
  forge((event) => {
    event('a3', '2026-11-28T12:00:00.000Z', { approvalId: 'a3', event: 'expired', callId: 'call-a3', from: 'pending' });
    seq = event('a3', '2026-11-28T12:01:00.000Z', { approvalId: 'a3', event: 'decision', callId: 'call-a3', reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc' });
  });
  evil.prepare(`INSERT INTO approval_decisions (approval_id, reviewer, decision, comment, at, auth, seq) VALUES ('a3', 'dora', 'approve', NULL, '2026-11-28T12:01:00.000Z', 'oidc', ?)`).run(seq);
  evil.prepare(`UPDATE approvals SET state = 'expired', decided_at = '2026-11-28T12:00:00.000Z' WHERE id = 'a3'`).run();
  const b = await broken(store);
  assert.equal(b.seq, seq);
  assert.match(b.reason, /approval request "a3" is expired: a `decision` event cannot follow/);
});

test('the legal histories the stores write (withdrawal, re-decision, void, expiry of an approved request) pass', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = openSqliteStore(path);
  t.after(() => store.close());
  await store.openSession(session('s1'));
  const ok = () => undefined;
  await store.approvals.create(approvalRequest('b1', '2026-11-28T10:00:00.000Z', { approvalsRequired: 2 }));
  await store.approvals.decide('b1', { reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc', at: '2026-11-28T10:01:00.000Z' }, ok);
  await store.approvals.decide('b1', { reviewer: 'eve', decision: 'approve', comment: null, auth: 'oidc', at: '2026-11-28T10:02:00.000Z' }, ok);
  assert.notEqual(await store.approvals.withdraw('b1', 'eve', 'no longer a reviewer', '2026-11-28T10:03:00.000Z'), null);
  await store.approvals.decide('b1', { reviewer: 'eve', decision: 'approve', comment: 'again', auth: 'oidc', at: '2026-11-28T10:04:00.000Z' }, ok);
  assert.equal(await store.approvals.consume('b1', 'call-b1', '2026-11-28T10:05:00.000Z'), true);
  await store.approvals.create(approvalRequest('b2', '2026-11-28T10:06:00.000Z'));
  await store.approvals.voidAll(['b2'], { code: 'WARDEN_DENIED', message: 'policy changed', ruleIds: [] }, '2026-11-28T10:07:00.000Z');
  await store.approvals.create(approvalRequest('b3', '2026-11-28T10:08:00.000Z'));
  await store.approvals.decide('b3', { reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc', at: '2026-11-28T10:09:00.000Z' }, ok);
  assert.equal(await store.approvals.consume('b3', 'call-b3', '2026-11-28T12:00:00.000Z'), false, 'expired when used');
  // A confirmation is answered by its own requester, and only by it.
  await store.approvals.create(approvalRequest('b4', '2026-11-28T10:10:00.000Z', { confirm: 'requester', reviewers: {} }));
  await store.approvals.decide('b4', { reviewer: 'ana', decision: 'approve', comment: null, auth: 'oidc', at: '2026-11-28T10:11:00.000Z' }, ok, true);
  assert.equal((await store.approvals.get('b4'))?.state, 'approved');
  const v = await store.verify();
  assert.deepEqual([v.ok, v.firstBroken], [true, undefined]);
});
