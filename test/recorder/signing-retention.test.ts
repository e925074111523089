import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { hasSignedHead } from './signed-head-row.js';
import { intent, outcome, session, tempDir } from './fixtures.js';
import { keyPem, twoSessions } from './rollback-fixture.js';

// Cut the last session away as someone with file access would: records and the rows they back.
function truncateTail(path: string): void {
  const evil = new Database(path);
  evil.exec(`DROP TRIGGER records_append_only_delete;
    DELETE FROM records WHERE seq >= 5; DELETE FROM calls_fts WHERE rowid = 6;
    DELETE FROM calls WHERE session_id = 's2'; DELETE FROM call_facets WHERE session_id = 's2'; DELETE FROM sessions WHERE id = 's2';`);
  evil.close();
}

test('without signing a cleanly truncated tail verifies (why signing exists)', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = await twoSessions(path);
  t.after(() => store.close());
  truncateTail(path);
  const v = await store.verify();
  assert.equal(v.ok, true);
  assert.equal(v.records, 4);
});

test('with signing, a truncated tail is detected', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const pem = keyPem();
  const store = await twoSessions(path, pem);
  t.after(() => store.close());
  const before = await store.verify();
  assert.equal(before.ok, true);
  assert.equal(before.signedHead?.seq, 8);
  assert.equal(before.unsignedTail, 0);
  assert.ok(hasSignedHead(path));
  truncateTail(path);
  const v = await store.verify();
  assert.equal(v.ok, false);
  assert.equal(v.firstBroken?.seq, 5);
  assert.match(v.firstBroken?.reason ?? '', /tail truncated: the signed head is record 8, the store ends at 4/);
});

test('a signed head from another key, or a deleted one, is refused', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = await twoSessions(path, keyPem());
  await store.close();
  const other = openSqliteStore(path, { signer: createChainSigner(keyPem()) });
  t.after(() => other.close());
  const v = await other.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken?.reason ?? '', /valid signature of the configured key/);
});

test('signing keys must be Ed25519 PEM', () => {
  assert.throws(() => createChainSigner('not a key'), /WARDEN_CONFIG|not a PEM/);
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  assert.throws(() => createChainSigner(rsa), /must be Ed25519/);
});

test('retention purges whole old sessions, leaves a checkpoint, and the chain still verifies', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const pem = keyPem();
  const store = await twoSessions(path, pem);
  t.after(() => store.close());
  const r = await store.purge('2026-02-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z');
  assert.deepEqual({ ...r }, { cutSeq: 4, records: 4, sessions: 1, calls: 1, checkpointSeq: 9 });
  assert.equal(await store.getSession('s1'), null);
  assert.ok(await store.getSession('s2'));
  const v = await store.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  assert.equal(v.records, 5);
  assert.equal(v.checkpoint?.cutSeq, 4);
  assert.equal(v.signedHead?.seq, 9);
  // New writes chain on after the checkpoint.
  await store.openSession(session('s3', 'carol', '2026-04-02T00:00:00.000Z'));
  assert.equal((await store.verify()).ok, true);
  // An open or recent session blocks the cut: nothing more to purge before April.
  assert.equal((await store.purge('2026-03-01T00:00:00.000Z')).cutSeq, 0);
});

test('a purge of the whole chain keeps the numbering: the checkpoint and later records follow the cut', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const pem = keyPem();
  const store = await twoSessions(path, pem);
  t.after(() => store.close());
  // Both sessions ended before April: the cut is the head itself.
  const r = await store.purge('2026-04-01T00:00:00.000Z', '2026-04-02T00:00:00.000Z');
  assert.deepEqual({ ...r }, { cutSeq: 8, records: 8, sessions: 2, calls: 2, checkpointSeq: 9 });
  assert.deepEqual(store.db.prepare('SELECT seq, kind FROM records').all(), [{ seq: 9, kind: 'checkpoint' }]);
  await store.openSession(session('s3', 'carol', '2026-04-03T00:00:00.000Z'));
  await store.recordIntent(intent('c3', 's3', 'query_database', '2026-04-03T00:00:01.000Z'));
  await store.recordOutcome('c3', outcome('2026-04-03T00:00:01.100Z'));
  const v = await store.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  assert.equal(v.records, 4, 'the checkpoint and the three new records are walked');
  assert.equal(v.head?.seq, 12);
  assert.equal(v.signedHead?.seq, 12);
});

test('a record put back at or below the retention cut is reported, with the rows that point at it', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = await twoSessions(path);
  t.after(() => store.close());
  await store.purge('2026-02-01T00:00:00.000Z');
  const evil = new Database(path);
  t.after(() => evil.close());
  evil.prepare(`INSERT INTO records (seq, kind, ref_id, ts, body, prev_hash, hash) VALUES (3, 'call_outcome', 'c9', '2026-01-01T00:00:00.000Z', '{}', 'x', 'y')`).run();
  const v = await store.verify();
  assert.equal(v.ok, false);
  assert.equal(v.firstBroken?.seq, 3);
  assert.match(v.firstBroken?.reason ?? '', /lies at or below the retention cut at 4/);
});

test('after a purge, deleting more of the head of the chain or forging the checkpoint is detected', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = await twoSessions(path, keyPem());
  t.after(() => store.close());
  await store.purge('2026-02-01T00:00:00.000Z');
  const evil = new Database(path);
  t.after(() => evil.close());
  evil.exec('DROP TRIGGER records_append_only_update; DROP TRIGGER records_append_only_delete;');
  evil.prepare('DELETE FROM records WHERE seq = 5').run();
  const v = await store.verify();
  assert.equal(v.ok, false);
  assert.equal(v.firstBroken?.seq, 5);
  assert.match(v.firstBroken?.reason ?? '', /missing/);
});

test('a forged checkpoint without the key is refused when signing is configured', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const pem = keyPem();
  const plain = await twoSessions(path);
  await plain.purge('2026-02-01T00:00:00.000Z'); // written without a key: unsigned checkpoint
  await plain.close();
  // Read-only, as `warden transcripts verify` opens it: a key holder no longer opens a non-empty
  // store without a signed head for writing (head-adopt.test.ts).
  const store = openSqliteStore(path, { signer: createChainSigner(pem), readonly: true });
  t.after(() => store.close());
  const v = await store.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken?.reason ?? '', /checkpoint is not signed/);
  // adopt-head's verify finds it too, so it signs nothing.
  assert.match((await store.verify({ adopting: true })).firstBroken?.reason ?? '', /checkpoint is not signed/);
});

test('verifyRange refuses a range that retention removed', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = await twoSessions(path);
  t.after(() => store.close());
  await store.purge('2026-02-01T00:00:00.000Z');
  assert.match((await store.verifyRange(2, 6)).firstBroken?.reason ?? '', /purged by retention/);
  const ok = await store.verifyRange(5, 9);
  assert.equal(ok.ok, true);
  assert.equal(ok.records, 5);
});
