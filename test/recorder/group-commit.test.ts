/**
 * Group commit: concurrent writes share one transaction (one fsync), a logical refusal fails
 * alone, and a read-only call's intent (durable: false) is committed and visible at once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import { approvalRequest, intent, outcome, session, tempDir } from './fixtures.js';

test('200 concurrent writes all land, and the chain verifies', async (t) => {
  const path = join(tempDir(t), 'g.db');
  const store = openSqliteStore(path);
  t.after(() => store.close());
  await store.openSession(session('s1'));
  await Promise.all(Array.from({ length: 200 }, (_, i) => store.recordIntent(intent(`c${i}`, 's1'))));
  await Promise.all(Array.from({ length: 200 }, (_, i) => store.recordOutcome(`c${i}`, outcome())));
  const v = await store.verify();
  assert.equal(v.ok, true);
  assert.equal(v.records, 1 + 400);
  const got = await store.getSession('s1');
  assert.equal(got?.calls.length, 200);
  assert.ok(got?.calls.every((c) => c.outcome?.status === 'ok'));
});

test('one refused write in a batch fails alone', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'g.db'));
  t.after(() => store.close());
  await store.openSession(session('s1'));
  const results = await Promise.allSettled([
    store.recordIntent(intent('a', 's1')),
    store.recordIntent(intent('b', 'no-such-session')),
    store.recordIntent(intent('c', 's1')),
  ]);
  assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
  assert.match(String((results[1] as PromiseRejectedResult).reason.message), /unknown session/);
  assert.equal((await store.verify()).ok, true);
  assert.equal((await store.getSession('s1'))?.calls.length, 2);
});

test('a non-durable intent is committed and visible to another connection at once', async (t) => {
  const path = join(tempDir(t), 'g.db');
  const store = openSqliteStore(path);
  t.after(() => store.close());
  await store.openSession(session('s1'));
  await store.recordIntent(intent('r1', 's1'), { durable: false });
  const other = new Database(path, { readonly: true });
  t.after(() => other.close());
  assert.equal((other.prepare('SELECT count(*) AS n FROM calls WHERE id = ?').get('r1') as { n: number }).n, 1);
  assert.equal(String(store.db.pragma('synchronous', { simple: true })), '2', 'the connection is back to FULL');
});

test('the writer-thread store (transcripts.writer: thread) records, refuses and verifies the same way', async (t) => {
  const { openWorkerBackedStore } = await import('../../src/recorder/index.js');
  const path = join(tempDir(t), 'w.db');
  const store = await openWorkerBackedStore(path);
  await store.openSession(session('s1'));
  const results = await Promise.allSettled([
    ...Array.from({ length: 50 }, (_, i) => store.recordIntent(intent(`c${i}`, 's1'), { durable: i % 2 === 0 })),
    store.recordIntent(intent('x', 'no-such-session')),
  ]);
  assert.equal(results.filter((r) => r.status === 'fulfilled').length, 50);
  assert.match(String((results[50] as PromiseRejectedResult).reason.message), /unknown session/);
  await Promise.all(Array.from({ length: 50 }, (_, i) => store.recordOutcome(`c${i}`, outcome())));
  await store.closeSession('s1', new Date().toISOString());
  const v = await store.verify();
  assert.equal(v.ok, true);
  assert.equal(v.records, 1 + 100 + 1);
  await store.close();
  const again = openSqliteStore(path);
  t.after(() => again.close());
  assert.equal((await again.getSession('s1'))?.calls.filter((c) => c.outcome?.status === 'ok').length, 50);
});

test('writer-thread store: an approval request waits for the writes queued before it (chain order kept)', async (t) => {
  const { openWorkerBackedStore } = await import('../../src/recorder/index.js');
  const store = await openWorkerBackedStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  const opening = store.openSession(session('s1')); // queued on the writer thread, as a call's session open is
  await store.approvals.create(approvalRequest('a1'));
  await opening;
  assert.deepEqual(store.db.prepare('SELECT kind FROM records ORDER BY seq').pluck().all(), ['session_open', 'approval_event']);
  assert.equal((await store.verify()).ok, true);
});

test('session open and close commit without their own fsync; an outcome commits with one', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 's.db'));
  t.after(() => store.close());
  // The group commit prepares its two PRAGMA statements on first use: watch what they run.
  const seen: string[] = [];
  const prepare = store.db.prepare.bind(store.db);
  (store.db as unknown as { prepare: typeof prepare }).prepare = ((source: string) => {
    const st = prepare(source);
    if (!/^PRAGMA synchronous/i.test(source)) return st;
    const run = st.run.bind(st);
    (st as unknown as { run: typeof run }).run = ((...a: unknown[]) => (seen.push(source.replace(/^PRAGMA /i, '')), run(...(a as []))) ) as typeof run;
    return st;
  }) as typeof prepare;
  const relaxed = async (write: () => Promise<void>) => {
    seen.length = 0;
    await write();
    return seen.includes('synchronous = NORMAL');
  };
  assert.equal(await relaxed(() => store.openSession(session('s1'))), true, 'open: no fsync of its own');
  assert.equal(await relaxed(() => store.recordIntent(intent('c1', 's1'))), false, 'a durable intent waits for its fsync');
  assert.equal(await relaxed(() => store.recordOutcome('c1', outcome())), false, 'an outcome waits for its fsync');
  assert.equal(await relaxed(() => store.closeSession('s1', '2026-11-27T11:00:00.000Z')), true, 'close: no fsync of its own');
  assert.equal((await store.verify()).ok, true);
});
