/**
 * Red-team: a key holder must never sign a non-empty chain that has no signed head. Before, a
 * store whose head file (SQLite) or `signed_head` row (PostgreSQL) was missing was signed by the
 * next key-holding write (trust on first use): whoever could write the store but had no key
 * deleted the head, appended or rewrote records, and the next write vouched for them. Now opening
 * such a store for writing is refused with the command that fixes it, a write that finds the head
 * gone leaves the chain unsigned, and `warden transcripts adopt-head [--expect-head SEQ:HASH]`
 * verifies the whole chain and only then signs its head.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { openPgStore, openSqliteStore, type TranscriptStore } from '../../src/recorder/index.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { createTestDatabase } from '../support/pg-cluster.js';
import { intent, outcome, session, tempDir } from './fixtures.js';
import { keyPem } from './rollback-fixture.js';
import { deleteSignedHead, hasSignedHead } from './signed-head-row.js';

async function oneCall(store: TranscriptStore): Promise<void> {
  await store.openSession(session('s1', 'alice', '2026-05-01T10:00:00.000Z'));
  await store.recordIntent(intent('c1', 's1', 'query_database', '2026-05-01T10:00:01.000Z'));
  await store.recordOutcome('c1', outcome('2026-05-01T10:00:01.100Z'));
}

const forged = { ...outcome('2026-05-01T10:00:02.000Z'), status: 'error' as const, errorCode: 'WARDEN_BACKEND', result: { note: 'nothing was read' }, masking: null };

async function run(store: TranscriptStore, args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTranscriptsCommand(args, { store, json: false, out: (s) => out.push(s), err: (s) => err.push(s) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

function refusesUnsigned(e: unknown): boolean {
  const w = e as { code?: string; message?: string; details?: { reason?: string } };
  assert.equal(w.code, 'WARDEN_TRANSCRIPT_UNAVAILABLE');
  assert.equal(w.details?.reason, 'no signed head');
  assert.match(w.message ?? '', /holds \d+ records but no signed head/);
  assert.match(w.message ?? '', /warden transcripts adopt-head/);
  return true;
}

test('SQLite: head file deleted and a record forged without the key: a key holder refuses to open it for writing; adopt-head checks --expect-head, then signs', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const signer = createChainSigner(keyPem());
  const s = openSqliteStore(path, { signer });
  await oneCall(s);
  const kept = (await s.verify()).head!; // an anchor copied off the host: record 3
  await s.close();
  deleteSignedHead(path);
  const forger = openSqliteStore(path);
  await forger.recordOutcome('c1', forged); // record 4, no key
  await forger.close();
  assert.throws(() => openSqliteStore(path, { signer, recoverInterrupted: true }), refusesUnsigned);
  assert.equal(hasSignedHead(path), false, 'nothing signed');

  const a = openSqliteStore(path, { signer, adoptingHead: true });
  t.after(() => a.close());
  const wrong = await run(a, ['adopt-head', '--expect-head', `3:${'0'.repeat(64)}`]);
  assert.equal(wrong.code, 1, wrong.out);
  assert.match(wrong.err, /record 3 is not the expected head/);
  assert.match(wrong.err, /nothing was signed/);
  const missing = await run(a, ['adopt-head', '--expect-head', `9:${kept.hash}`]);
  assert.equal(missing.code, 1);
  assert.equal(hasSignedHead(path), false, 'a wrong anchor signs nothing');
  const ok = await run(a, ['adopt-head', '--expect-head', `3:${kept.hash}`]);
  assert.equal(ok.code, 0, ok.err);
  const head = (await a.verify()).head!;
  assert.match(ok.out, new RegExp(`^anchor 4:${head.hash}$`, 'm'));
  assert.match(ok.out, /every record up to 4 is now trusted/);
  const v = await a.verify();
  assert.deepEqual([v.ok, v.signedHead?.seq], [true, 4]);
  const again = await run(a, ['adopt-head']);
  assert.equal(again.code, 1);
  assert.match(again.err, /already has a signed head/);
  // Signed now: a key holder opens and writes on.
  const w = openSqliteStore(path, { signer, recoverInterrupted: true });
  await w.openSession(session('s2', 'bob', '2026-05-02T10:00:00.000Z'));
  const after = await w.verify();
  assert.deepEqual([after.ok, after.signedHead?.seq], [true, after.head?.seq]);
  assert.equal(w.signingRefused, null);
  await w.close();
});

test('SQLite: a store written without a key is refused when a key is newly configured; an empty one is signed from its first record', async (t) => {
  const dir = tempDir(t);
  const signer = createChainSigner(keyPem());
  const old = openSqliteStore(join(dir, 'old.db'));
  await oneCall(old);
  await old.openSession(session('s2', 'bob', '2026-05-02T10:00:00.000Z'));
  await old.close();
  assert.throws(() => openSqliteStore(join(dir, 'old.db'), { signer }), refusesUnsigned);
  const fresh = openSqliteStore(join(dir, 'new.db'), { signer });
  t.after(() => fresh.close());
  await oneCall(fresh);
  assert.equal((await fresh.verify()).signedHead?.seq, 3);
});

test('SQLite: the head file deleted while Warden runs: the next write signs nothing', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const s = openSqliteStore(path, { signer: createChainSigner(keyPem()) });
  t.after(() => s.close());
  await oneCall(s);
  deleteSignedHead(path);
  const forger = openSqliteStore(path);
  await forger.recordOutcome('c1', forged);
  await forger.close();
  await s.openSession(session('s2', 'bob', '2026-05-02T10:00:00.000Z'));
  assert.equal(hasSignedHead(path), false, 'the forged chain was signed');
  assert.match(s.signingRefused ?? '', /no signed head/);
});

test('PostgreSQL: signed_head row deleted and a record forged without the key: refused at open, adopt-head checks --expect-head, then signs', async () => {
  const own = await createTestDatabase({ prefix: 'pgadopt' });
  await own.query(`GRANT ALL ON SCHEMA public TO ${own.role}`);
  const signer = createChainSigner(keyPem());
  const stores: TranscriptStore[] = [];
  try {
    const s = await openPgStore(own.url, { recoverEveryMs: 60_000, signer });
    stores.push(s);
    await oneCall(s);
    const kept = (await s.verify()).head!;
    // Deleted while the key holder runs, and record 4 forged: its next write signs nothing.
    await own.query('DELETE FROM signed_head');
    const forger = await openPgStore(own.url, { recoverEveryMs: 60_000 });
    stores.push(forger);
    await forger.recordOutcome('c1', forged);
    await s.openSession(session('s2', 'bob', '2026-05-02T10:00:00.000Z'));
    assert.equal((await own.query('SELECT 1 FROM signed_head')).rowCount, 0, 'the forged chain was signed');
    assert.match(s.signingRefused ?? '', /no signed head/);
    await assert.rejects(openPgStore(own.url, { recoverEveryMs: 60_000, signer, recoverInterrupted: true }), refusesUnsigned);
    const a = await openPgStore(own.url, { recoverEveryMs: 60_000, signer, adoptingHead: true });
    stores.push(a);
    const wrong = await run(a, ['adopt-head', '--expect-head', `3:${'0'.repeat(64)}`]);
    assert.equal(wrong.code, 1, wrong.out);
    assert.match(wrong.err, /record 3 is not the expected head/);
    assert.equal((await own.query('SELECT 1 FROM signed_head')).rowCount, 0, 'a wrong anchor signs nothing');
    const ok = await run(a, ['adopt-head', '--expect-head', `3:${kept.hash}`]);
    assert.equal(ok.code, 0, ok.err);
    assert.match(ok.out, /^anchor 5:[0-9a-f]{64}$/m);
    const v = await a.verify();
    assert.deepEqual([v.ok, v.signedHead?.seq], [true, 5]);
    const w = await openPgStore(own.url, { recoverEveryMs: 60_000, signer });
    stores.push(w);
    await w.openSession(session('s3', 'bob', '2026-05-03T10:00:00.000Z'));
    assert.equal((await w.verify()).signedHead?.seq, 6);
  } finally {
    for (const x of stores.reverse()) await x.close();
    await own.drop();
  }
});
