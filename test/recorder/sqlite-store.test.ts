import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ErrorCode, WardenError } from '../../src/errors.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { GENESIS_HASH, recordHash } from '../../src/recorder/hash-chain.js';
import { canonicalJson } from '../../src/recorder/canonical-json.js';
import { approvalRequest, intent, outcome, session, tempDir } from './fixtures.js';

test('writes a session, reads it back, chain verifies', async (t) => {
  const path = join(tempDir(t), 'nested', 'dir', 'warden.db');
  const store = openSqliteStore(path);
  t.after(() => store.close());
  assert.ok(existsSync(path), 'creates the parent directory and the file');
  await store.openSession(session('s1'));
  await store.recordIntent(intent('c1', 's1'));
  await store.recordOutcome('c1', outcome());
  await store.recordIntent(intent('c2', 's1', 'describe_database', '2026-11-27T10:00:02.000Z'));
  await store.recordOutcome('c2', { ...outcome('2026-11-27T10:00:02.010Z'), status: 'denied', errorCode: 'WARDEN_DENIED', result: null });
  await store.closeSession('s1', '2026-11-27T10:05:00.000Z');

  const got = await store.getSession('s1');
  assert.ok(got);
  assert.equal(got.session.callCount, 2);
  assert.equal(got.session.endedAt, '2026-11-27T10:05:00.000Z');
  assert.deepEqual(got.session.principal, session('s1').principal);
  assert.deepEqual(got.calls.map((c) => c.id), ['c1', 'c2']);
  assert.deepEqual(got.calls[0]?.args, intent('c1', 's1').args);
  assert.deepEqual(got.calls[0]?.outcome, outcome());
  assert.equal(got.calls[1]?.outcome?.status, 'denied');
  assert.equal(await store.getSession('nope'), null);

  const v = await store.verify();
  assert.equal(v.ok, true);
  assert.equal(v.records, 6);
  assert.equal(v.head?.seq, 6);
  assert.deepEqual(await store.verifyRange(3, 5), { ok: true, records: 3, head: v.head && { seq: 5, hash: (await store.readRecords(5, 1))[0]?.hash ?? '' } });
});

test('records are canonical JSON and hashed as documented', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  await store.openSession(session('s1'));
  await store.recordIntent(intent('c1', 's1'));
  const [r1, r2] = await store.readRecords(1, 10);
  assert.ok(r1 && r2);
  assert.equal(r1.prevHash, GENESIS_HASH);
  assert.equal(r1.body, canonicalJson(session('s1')));
  assert.match(r2.body, /"options":\{"a":\[3,\{"b":1,"y":2\}\],"z":1\}/);
  assert.equal(r2.prevHash, r1.hash);
  assert.equal(r2.hash, recordHash(r1.hash, 'call_intent', 'c1', r2.ts, r2.body));
  assert.equal(canonicalJson({ b: undefined, a: NaN, c: [undefined] }), '{"a":null,"c":[null]}');
});

test('lists sessions newest first with subject/tool filters and limit; lists calls', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  await store.openSession(session('s1', 'alice', '2026-11-27T09:00:00.000Z'));
  await store.openSession(session('s2', 'bob', '2026-11-27T10:00:00.000Z'));
  await store.openSession(session('s3', 'alice', '2026-11-27T11:00:00.000Z'));
  await store.recordIntent(intent('c1', 's1', 'ssh_run'));
  await store.recordIntent(intent('c2', 's2', 'query_database'));
  assert.deepEqual((await store.listSessions()).map((s) => s.id), ['s3', 's2', 's1']);
  assert.deepEqual((await store.listSessions({ subject: 'alice' })).map((s) => s.id), ['s3', 's1']);
  assert.deepEqual((await store.listSessions({ tool: 'ssh_run' })).map((s) => s.id), ['s1']);
  assert.deepEqual((await store.listSessions({ limit: 1 })).map((s) => s.id), ['s3']);
  assert.deepEqual((await store.listCalls({ subject: 'bob' })).map((c) => c.id), ['c2']);
  assert.equal((await store.listCalls({ tool: 'ssh_run' }))[0]?.outcome, null);
});

test('a write that cannot be recorded throws TRANSCRIPT and is refused', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  await assert.rejects(store.recordIntent(intent('c1', 'no-such-session')), isTranscriptError(/unknown session/));
  await store.openSession(session('s1'));
  await assert.rejects(store.openSession(session('s1')), isTranscriptError(/duplicate id/));
  await assert.rejects(store.recordOutcome('nope', outcome()), isTranscriptError(/unknown call/));
  const cyclic: Record<string, unknown> = {};
  cyclic.self = cyclic;
  await assert.rejects(store.recordIntent({ ...intent('c1', 's1'), args: cyclic }), isTranscriptError(/cyclic/));
  assert.deepEqual(await store.verify(), { ok: true, records: 1, head: (await store.verify()).head });
});

test('read-only store: reads work, writes throw TRANSCRIPT, chain stays intact', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const writer = openSqliteStore(path);
  await writer.openSession(session('s1'));
  await writer.recordIntent(intent('c1', 's1'));
  await writer.close();
  const ro = openSqliteStore(path, { readonly: true });
  t.after(() => ro.close());
  assert.equal(ro.readonly, true);
  assert.equal((await ro.listSessions()).length, 1);
  await assert.rejects(ro.recordOutcome('c1', outcome()), isTranscriptError(/read-only/));
  await assert.rejects(ro.openSession(session('s2')), isTranscriptError(/read-only/));
  assert.equal((await ro.verify()).ok, true);
  assert.equal((await ro.verify()).records, 2);
  assert.throws(() => openSqliteStore(join(tempDir(t), 'missing.db'), { readonly: true }), isTranscriptError(/no transcript store at .*missing\.db/));
});

test('disk full mid-write leaves no half-written record', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => store.close());
  await store.openSession(session('s1'));
  await store.recordIntent(intent('c1', 's1'));
  const pages = Number(store.db.pragma('page_count', { simple: true }));
  store.db.pragma(`max_page_count = ${pages + 1}`);
  const huge = { ...outcome(), result: { rows: Array.from({ length: 5000 }, (_, i) => ['x'.repeat(40), i]) } };
  await assert.rejects(store.recordOutcome('c1', huge), isTranscriptError(/disk full/));
  const got = await store.getSession('s1');
  assert.equal(got?.calls[0]?.outcome, null, 'the calls row was not updated');
  assert.equal((await store.verify()).records, 2);
  assert.equal((await store.verify()).ok, true);
  store.db.pragma('max_page_count = 1073741823');
  await store.recordOutcome('c1', outcome());
  assert.equal((await store.verify()).ok, true);
});

test('a locked database fails the write after busy_timeout', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = openSqliteStore(path, { busyTimeoutMs: 50 });
  t.after(() => store.close());
  await store.openSession(session('s1'));
  const other = new Database(path);
  t.after(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  await assert.rejects(store.recordIntent(intent('c1', 's1')), isTranscriptError(/locked/));
  other.exec('ROLLBACK');
  await store.recordIntent(intent('c1', 's1'));
  assert.equal((await store.verify()).ok, true);
});

test('markInterrupted closes what a dead process left, not live sessions', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const dead = openSqliteStore(path);
  await dead.openSession(session('s1'));
  await dead.recordIntent(intent('c1', 's1'));
  await dead.recordIntent(intent('c2', 's1'));
  await dead.recordOutcome('c2', outcome());
  const live = openSqliteStore(path);
  t.after(() => live.close());
  await live.openSession(session('s2'));
  await live.recordIntent(intent('c3', 's2'));
  await dead.close(); // its process "died": the instance is no longer live
  const again = openSqliteStore(path, { recoverInterrupted: true });
  t.after(() => again.close());
  const s1 = await again.getSession('s1');
  assert.equal(s1?.calls[0]?.outcome?.status, 'interrupted');
  assert.equal(s1?.calls[1]?.outcome?.status, 'ok');
  assert.ok(s1?.session.endedAt);
  const s2 = await again.getSession('s2');
  assert.equal(s2?.calls[0]?.outcome, null, 'a live store keeps its in-flight call');
  assert.equal(s2?.session.endedAt, null);
  assert.deepEqual(await again.markInterrupted(), { interruptedCalls: 0, closedSessions: 0 });
  assert.equal((await again.verify()).ok, true);
});

test('synchronous NORMAL and reopening keep appending to one chain', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const a = openSqliteStore(path, { synchronous: 'NORMAL' });
  await a.openSession(session('s1'));
  await a.close();
  await assert.rejects(a.openSession(session('s2')), isTranscriptError(/closed/));
  const b = openSqliteStore(path);
  t.after(() => b.close());
  await b.openSession(session('s2'));
  const v = await b.verify();
  assert.deepEqual([v.ok, v.records], [true, 2]);
});

function isTranscriptError(message: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof WardenError, `expected WardenError, got ${String(e)}`);
    assert.equal(e.code, ErrorCode.TRANSCRIPT);
    assert.equal(e.code, 'WARDEN_TRANSCRIPT_UNAVAILABLE');
    assert.match(e.message, /^transcript store cannot (write|open|open read-only|read): /);
    assert.match(e.message, message);
    return true;
  };
}

test('an approval write commits queued writes first, so a session open queued before it stays before it in the chain', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void store.close());
  const opening = store.openSession(session('s1')); // queued, as a call's session open is
  await store.approvals.create(approvalRequest('a1'));
  await opening;
  assert.deepEqual(store.db.prepare('SELECT kind FROM records ORDER BY seq').pluck().all(), ['session_open', 'approval_event']);
  assert.equal((await store.verify()).ok, true);
});
