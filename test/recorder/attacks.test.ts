/**
 * Attacks on the SQLite transcript found in review: each is something an attacker with write
 * access to the store file (but not the signing key) could do, and verify must report it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import { canonicalJson } from '../../src/recorder/canonical-json.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { approvalRequest, intent, outcome, session, tempDir } from './fixtures.js';

function keyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

test('with signing, approval events at the tail are covered by the signed head (a used approval cannot be rolled back)', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = openSqliteStore(path, { signer: createChainSigner(keyPem()) });
  t.after(() => store.close());
  await store.openSession(session('s1'));
  await store.recordIntent(intent('c1', 's1'));
  await store.recordOutcome('c1', outcome());
  await store.approvals.create(approvalRequest('a1', '2026-11-28T10:00:00.000Z'));
  await store.approvals.decide('a1', { reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc', at: '2026-11-28T10:01:00.000Z' }, () => undefined);
  assert.equal(await store.approvals.consume('a1', 'call-x', '2026-11-28T10:02:00.000Z'), true);
  const before = await store.verify();
  assert.equal(before.ok, true);
  assert.equal(before.unsignedTail, 0, 'every committed approval event is under the signed head');
  // Roll the single-use approval back to `approved`: drop its `used` record and reset the row.
  const evil = new Database(path);
  t.after(() => evil.close());
  const used = evil.prepare(`SELECT MAX(seq) AS s FROM records`).get() as { s: number };
  evil.exec('DROP TRIGGER records_append_only_delete');
  evil.prepare('DELETE FROM records WHERE seq = ?').run(used.s);
  evil.prepare(`UPDATE approvals SET state = 'approved', used_at = NULL, used_by_call = NULL WHERE id = 'a1'`).run();
  const v = await store.verify();
  assert.equal(v.ok, false);
});

test('canonical JSON of a sparse array is valid JSON, the same as JSON.stringify', () => {
  const sparse: unknown[] = [{ a: 1 }];
  sparse[2] = 3;
  assert.equal(canonicalJson(sparse), JSON.stringify(sparse));
  assert.doesNotThrow(() => JSON.parse(canonicalJson({ x: sparse })));
});

test('with a writer thread and signing, both connections sign the head without clobbering each other', async (t) => {
  const { openWorkerBackedStore } = await import('../../src/recorder/index.js');
  const path = join(tempDir(t), 'w.db');
  const store = await openWorkerBackedStore(path, { signingPem: keyPem() });
  t.after(() => store.close());
  await store.openSession(session('s1'));
  const writes: Promise<unknown>[] = [];
  for (let i = 0; i < 150; i++) {
    writes.push(store.recordIntent(intent(`c${i}`, 's1')).then(() => store.recordOutcome(`c${i}`, outcome())));
    writes.push(store.approvals.create(approvalRequest(`a${i}`, '2026-11-28T10:00:00.000Z')));
  }
  const settled = await Promise.allSettled(writes);
  assert.deepEqual(settled.filter((s) => s.status === 'rejected').map((s) => String((s as PromiseRejectedResult).reason)), []);
  const v = await store.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  assert.equal(v.unsignedTail, 0, 'the signed head never moves back');
});

test('a call removed from the free-text index, or an index mark moved past the calls, is reported', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = openSqliteStore(path);
  t.after(() => store.close());
  await store.openSession(session('s1'));
  await store.recordIntent(intent('c1', 's1'));
  await store.recordOutcome('c1', outcome());
  assert.deepEqual((await store.searchSessions({ text: 'users' })).sessions.map((s) => s.id), ['s1']);
  assert.equal((await store.verify()).ok, true);
  const evil = new Database(path);
  t.after(() => evil.close());
  // Hide the session from "every session whose SQL mentions users".
  evil.prepare(`DELETE FROM calls_fts WHERE rowid = (SELECT seq FROM calls WHERE id = 'c1')`).run();
  assert.deepEqual((await store.searchSessions({ text: 'users' })).sessions, []);
  const v = await store.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken?.reason ?? '', /free-text index/);
  // Put it back, then stop every later call from being indexed at all.
  evil.prepare(`INSERT INTO calls_fts (rowid, text) VALUES ((SELECT seq FROM calls WHERE id = 'c1'), 'query_database analytics SELECT users(id, email) x')`).run();
  evil.prepare('UPDATE fts_progress SET call_rowid = 1000000 WHERE id = 1').run();
  await store.recordIntent(intent('c2', 's1', 'ssh_run', '2026-11-27T10:00:02.000Z'));
  const w = await store.verify();
  assert.equal(w.ok, false);
  assert.match(w.firstBroken?.reason ?? '', /free-text index/);
});

test('bidirectional overrides in agent text are made visible in the terminal views', async () => {
  const { clean } = await import('../../src/cli/transcripts-format.js');
  // "DROP TABLE users" shown as something else by a right-to-left override and isolates.
  // Zero-width and soft-hyphen characters too: the same set the approval views escape.
  for (const ch of ['\u202e', '\u202a', '\u2066', '\u2069', '\u200f', '\u061c', '\u200b', '\u00ad', '\ufeff']) {
    assert.equal(clean(`a${ch}b`), `a\\u{${ch.charCodeAt(0).toString(16)}}b`);
  }
});

test('the free-text check runs on both verify threads: a missing entry in either span, an extra entry and one past the chain are reported', async (t) => {
  const { setParallelVerifyThreshold } = await import('../../src/recorder/verify-parallel.js');
  const before = setParallelVerifyThreshold(1);
  t.after(() => setParallelVerifyThreshold(before));
  const path = join(tempDir(t), 'w.db');
  const store = openSqliteStore(path);
  t.after(() => store.close());
  await store.openSession(session('s1'));
  for (let i = 0; i < 40; i++) {
    await store.recordIntent(intent(`c${i}`, 's1'));
    await store.recordOutcome(`c${i}`, outcome());
  }
  await store.searchSessions({ text: 'users' }); // indexes everything written so far
  assert.equal((await store.verify()).ok, true, 'an untouched store verifies on two threads');
  const evil = new Database(path);
  t.after(() => evil.close());
  const seqOf = (id: string) => evil.prepare('SELECT seq FROM calls WHERE id = ?').pluck().get(id) as number;
  const textOf = (seq: number) => `query_database analytics SELECT users x ${seq}`;
  const expectBroken = async (what: string, seq: number) => {
    const v = await store.verify();
    assert.equal(v.ok, false, what);
    assert.match(v.firstBroken?.reason ?? '', /free-text index/, what);
    assert.equal(v.firstBroken?.seq, seq, what);
  };
  for (const id of ['c2', 'c38']) {
    // c2 lies in the main thread's span, c38 in the worker's.
    const seq = seqOf(id);
    evil.prepare('DELETE FROM calls_fts WHERE rowid = ?').run(seq);
    await expectBroken(`${id} removed from the index`, seq);
    evil.prepare('INSERT INTO calls_fts (rowid, text) VALUES (?, ?)').run(seq, textOf(seq));
    assert.equal((await store.verify()).ok, true, `${id} put back`);
  }
  // An entry under an outcome's seq (no call), and one past the end of the chain.
  const outcomeSeq = evil.prepare("SELECT outcome_seq FROM calls WHERE id = 'c30'").pluck().get() as number;
  evil.prepare('INSERT INTO calls_fts (rowid, text) VALUES (?, ?)').run(outcomeSeq, textOf(outcomeSeq));
  await expectBroken('an extra entry inside the chain', outcomeSeq);
  evil.prepare('DELETE FROM calls_fts WHERE rowid = ?').run(outcomeSeq);
  evil.prepare('INSERT INTO calls_fts (rowid, text) VALUES (?, ?)').run(1_000_000, textOf(1_000_000));
  await expectBroken('an extra entry past the chain', 1_000_000);
});
