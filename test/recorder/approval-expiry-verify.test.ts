/**
 * verify judges approval times against the request's stored expiry (approval-transitions.ts),
 * SQLite store and `verify --file` of its export (the PostgreSQL store: pg-approval-expiry.test.ts).
 * Before, times were not judged at all: an `approved` or a `used` recorded after the request had
 * expired (rows set to match), a request whose stored expiry was before its own time, or an
 * `expired` recorded well before the expiry, all verified. The clock tolerance
 * (APPROVAL_CLOCK_TOLERANCE_MS, 5 s) lets records of replicas whose clocks differ slightly pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { ExportVerifier } from '../../src/recorder/export-verify.js';
import { approvalRequest, session, tempDir } from './fixtures.js';

type EventWriter = (refId: string, ts: string, body: Record<string, unknown>) => number;
const ok = () => undefined;

// e1: approved by dora (expires 12:00), not yet used; e2: pending (expires 12:00).
async function seeded(t: { after: (fn: () => void) => void }) {
  const path = join(tempDir(t), 'w.db');
  const store = openSqliteStore(path);
  await store.openSession(session('s1'));
  await store.approvals.create(approvalRequest('e1', '2026-11-28T10:00:00.000Z'));
  await store.approvals.decide('e1', { reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc', at: '2026-11-28T10:01:00.000Z' }, ok);
  await store.approvals.create(approvalRequest('e2', '2026-11-28T10:02:00.000Z'));
  const v = await store.verify();
  assert.deepEqual([v.ok, v.firstBroken], [true, undefined]);
  const evil = new Database(path);
  t.after(() => {
    evil.close();
    void store.close();
  });
  const forge = (fn: (event: EventWriter) => void) => (store as unknown as { approvalWrite: (f: (event: EventWriter) => void) => void }).approvalWrite(fn);
  return { store, evil, forge };
}

async function broken(store: SqliteTranscriptStore): Promise<{ seq: number; reason: string }> {
  const v = await store.verify();
  assert.equal(v.ok, false, 'verify must fail');
  return v.firstBroken!;
}

/** The store's export, checked offline as `verify --file` does. */
async function exportCheck(store: SqliteTranscriptStore) {
  const lines: string[] = [];
  assert.equal(await runTranscriptsCommand(['export'], { store, json: false, out: (l) => lines.push(l), err: () => {} }), 0);
  const v = new ExportVerifier();
  for (const l of lines.join('\n').split('\n')) v.add(l);
  return v.finish();
}

function useAt(ctx: Awaited<ReturnType<typeof seeded>>, at: string): number {
  let seq = 0;
  ctx.forge((event) => void (seq = event('e1', at, { approvalId: 'e1', event: 'used', callId: 'call-e1', from: 'approved' })));
  ctx.evil.prepare(`UPDATE approvals SET state = 'used', used_at = ?, used_by_call = 'call-e1' WHERE id = 'e1'`).run(at);
  return seq;
}

test('a `used` recorded after the request expired is reported, by verify and verify --file', async (t) => {
  const ctx = await seeded(t);
  const seq = useAt(ctx, '2026-11-28T12:10:00.000Z');
  const b = await broken(ctx.store);
  assert.equal(b.seq, seq);
  assert.match(b.reason, /^APPROVAL_USED_AFTER_EXPIRY: approval request "e1" is used at 2026-11-28T12:10:00.000Z, after it expired at 2026-11-28T12:00:00.000Z/);
  const f = await exportCheck(ctx.store);
  assert.equal(f.ok, false);
  assert.equal(f.firstBroken?.seq, seq);
  assert.match(f.firstBroken!.reason, /^APPROVAL_USED_AFTER_EXPIRY: /);
});

test('an approval recorded after the request expired is reported', async (t) => {
  const ctx = await seeded(t);
  let seq = 0;
  let d = 0;
  ctx.forge((event) => {
    d = event('e2', '2026-11-28T11:59:00.000Z', { approvalId: 'e2', event: 'decision', callId: 'call-e2', reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc' });
    seq = event('e2', '2026-11-28T13:00:00.000Z', { approvalId: 'e2', event: 'approved', callId: 'call-e2', from: 'pending' });
  });
  ctx.evil.prepare(`INSERT INTO approval_decisions (approval_id, reviewer, decision, comment, at, auth, seq) VALUES ('e2', 'dora', 'approve', NULL, '2026-11-28T11:59:00.000Z', 'oidc', ?)`).run(d);
  ctx.evil.prepare(`UPDATE approvals SET state = 'approved', decided_at = '2026-11-28T13:00:00.000Z' WHERE id = 'e2'`).run();
  const b = await broken(ctx.store);
  assert.equal(b.seq, seq);
  assert.match(b.reason, /^APPROVAL_APPROVED_AFTER_EXPIRY: approval request "e2" is approved at 2026-11-28T13:00:00.000Z, after it expired at 2026-11-28T12:00:00.000Z/);
});

test('a request whose stored expiry is before its own time, or is no time, is reported (an expiry equal to it, `expires: 0s`, is not)', async (t) => {
  for (const [expiresAt, why] of [['2026-11-28T09:00:00.000Z', /expires at 2026-11-28T09:00:00.000Z, before it was requested at 2026-11-28T10:00:00.000Z/], ['never', /has no valid expiry time \("never"\)/]] as const) {
    const path = join(tempDir(t), 'w.db');
    const store = openSqliteStore(path);
    t.after(() => store.close());
    await store.openSession(session('s1'));
    const r = await store.approvals.create(approvalRequest('x1', '2026-11-28T10:00:00.000Z', { expiresAt }));
    const b = await broken(store);
    assert.equal(b.seq, r.seq);
    assert.match(b.reason, /^APPROVAL_EXPIRY_INVALID: approval request "x1" /);
    assert.match(b.reason, why);
  }
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  await store.openSession(session('s1'));
  await store.approvals.create(approvalRequest('z1', '2026-11-28T10:00:00.000Z', { expiresAt: '2026-11-28T10:00:00.000Z' }));
  const v = await store.verify();
  assert.deepEqual([v.ok, v.firstBroken], [true, undefined]);
});

test('an `expired` recorded before the expiry time is reported', async (t) => {
  const ctx = await seeded(t);
  let seq = 0;
  ctx.forge((event) => void (seq = event('e2', '2026-11-28T11:00:00.000Z', { approvalId: 'e2', event: 'expired', callId: 'call-e2', from: 'pending' })));
  ctx.evil.prepare(`UPDATE approvals SET state = 'expired', decided_at = '2026-11-28T11:00:00.000Z' WHERE id = 'e2'`).run();
  const b = await broken(ctx.store);
  assert.equal(b.seq, seq);
  assert.match(b.reason, /^APPROVAL_EXPIRED_EARLY: approval request "e2" is expired at 2026-11-28T11:00:00.000Z, before its expiry at 2026-11-28T12:00:00.000Z/);
});

test('clock tolerance: a `used` 4 s after expiry and an `expired` 4 s before it (replica clocks) pass; 6 s after does not', async (t) => {
  const near = await seeded(t);
  useAt(near, '2026-11-28T12:00:04.000Z');
  near.forge((event) => void event('e2', '2026-11-28T11:59:56.000Z', { approvalId: 'e2', event: 'expired', callId: 'call-e2', from: 'pending' }));
  near.evil.prepare(`UPDATE approvals SET state = 'expired', decided_at = '2026-11-28T11:59:56.000Z' WHERE id = 'e2'`).run();
  const v = await near.store.verify();
  assert.deepEqual([v.ok, v.firstBroken], [true, undefined]);
  assert.equal((await exportCheck(near.store)).ok, true);

  const far = await seeded(t);
  const seq = useAt(far, '2026-11-28T12:00:06.000Z');
  const b = await broken(far.store);
  assert.equal(b.seq, seq);
  assert.match(b.reason, /^APPROVAL_USED_AFTER_EXPIRY: .*clock tolerance 5 s/);
});
