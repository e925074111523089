/**
 * Red-team (transcript integrity): records appended to a signed SQLite store while no Warden holds
 * it, with a correct hash chain, by someone with file access but without the key. Before, the
 * store signed its head after each commit into a file beside it, and `serve` signed whatever lay
 * beyond that head when it started (a crash between commit and signature looked the same), so the
 * forgery was laundered: signed, and `verify` passed. Now the head is signed in the same commit as
 * the records it covers (a `signed_head` row), so a tail beyond it is never a crash: the key holder
 * refuses to write over it, naming `adopt-head --expect-head`, and verify reports it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { openSqliteStore } from '../../src/recorder/index.js';
import { SCHEMA_VERSION } from '../../src/recorder/sqlite-schema.js';
import { canonicalParts, joinParts } from '../../src/recorder/canonical-json.js';
import { sessionOpenColumns } from '../../src/recorder/columns.js';
import { recordHash } from '../../src/recorder/hash-chain.js';
import { createChainSigner, headPath } from '../../src/recorder/signing.js';
import { WardenError } from '../../src/errors.js';
import { session, tempDir } from './fixtures.js';
import { keyPem, oneSession } from './rollback-fixture.js';
import { asV12Store } from './signed-head-row.js';

/** Append a session_open record (and its row) with a plain connection: a valid link of the chain, no key. */
export function forgeSessionOpen(path: string, id: string): { seq: number; hash: string } {
  const db = new Database(path);
  try {
    const parts = canonicalParts(session(id, 'mallory', '2026-01-01T11:00:00.000Z'));
    const cols = sessionOpenColumns(parts);
    const body = joinParts(parts);
    const head = db.prepare('SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
    const seq = head.seq + 1;
    const hash = recordHash(head.hash, 'session_open', id, String(cols.started_at), body);
    db.transaction(() => {
      db.prepare('INSERT INTO records (seq, kind, ref_id, ts, body, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)').run(seq, 'session_open', id, cols.started_at, body, head.hash, hash);
      const keys = Object.keys(cols);
      db.prepare(`INSERT INTO sessions (${keys.join(', ')}, open_seq) VALUES (${keys.map((k) => '@' + k).join(', ')}, @open_seq)`).run({ ...cols, open_seq: seq });
    })();
    return { seq, hash };
  } finally {
    db.close();
  }
}

async function verifyCli(path: string, pem: string, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const store = openSqliteStore(path, { readonly: true, signer: createChainSigner(pem) });
  const out: string[] = [];
  const err: string[] = [];
  try {
    const code = await runTranscriptsCommand(['verify', ...args], { store, json: false, out: (o) => out.push(o), err: (e) => err.push(e) });
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    await store.close();
  }
}

test('a valid-chained record appended while Warden is stopped is not signed at the next start: serve refuses, verify reports it, adopt-head --expect-head signs it', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const pem = keyPem();
  const first = openSqliteStore(path, { signer: createChainSigner(pem) });
  await oneSession(first, 's1', 'c1', '2026-01-01');
  await first.close();
  const forged = forgeSessionOpen(path, 'forged');
  assert.equal(forged.seq, 5);
  // Warden starts as `serve` opens the store: the tail beyond the signed head is refused, coded.
  const warnings: string[] = [];
  let refused: unknown;
  try {
    const s = openSqliteStore(path, { signer: createChainSigner(pem), recoverInterrupted: true, onWarning: (m) => warnings.push(m) });
    await s.close();
  } catch (e) {
    refused = e;
  }
  assert.ok(refused instanceof WardenError, `serve signed the forged tail (warnings: ${JSON.stringify(warnings)})`);
  assert.equal(refused.code, 'WARDEN_TRANSCRIPT_UNAVAILABLE');
  assert.equal(refused.details.reason, 'unsigned tail');
  assert.match(refused.message, /cannot open for writing: records 5-5 are newer than the signed head 4/);
  assert.match(refused.message, /warden transcripts adopt-head.*--expect-head/);
  // verify (without --strict) reports it.
  const v = await verifyCli(path, pem);
  assert.equal(v.code, 1, v.out);
  assert.match(v.err, /broken at record 5: records 5-5 are newer than the signed head 4/);
  // The operator looks at record 5 and vouches for the head by naming it: adopt-head signs it.
  const adopting = openSqliteStore(path, { signer: createChainSigner(pem), adoptingHead: true });
  const out: string[] = [];
  const err: string[] = [];
  const io = { store: adopting, json: false, out: (o: string) => out.push(o), err: (e: string) => err.push(e) };
  assert.equal(await runTranscriptsCommand(['adopt-head'], io), 1, 'a tail is not adopted without --expect-head at the head');
  assert.match(err.join('\n'), /--expect-head 5:/);
  assert.equal(await runTranscriptsCommand(['adopt-head', '--expect-head', '4:' + 'a'.repeat(64)], io), 1);
  assert.equal(await runTranscriptsCommand(['adopt-head', '--expect-head', `${forged.seq}:${forged.hash}`], io), 0, err.join('\n'));
  await adopting.close();
  assert.equal((await verifyCli(path, pem, '--strict')).code, 0);
  const serve = openSqliteStore(path, { signer: createChainSigner(pem), recoverInterrupted: true });
  t.after(() => serve.close());
  await serve.openSession(session('s2', 'bob', '2026-01-02T10:00:00.000Z'));
  const after = await serve.verify(); // 6: the forged session closed by recovery, 7: s2
  assert.deepEqual([after.ok, after.signedHead?.seq, after.unsignedTail], [true, 7, 0]);
});

test('a record appended while Warden runs is not signed over: the next write is refused, coded, and nothing more lands', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const pem = keyPem();
  const store = openSqliteStore(path, { signer: createChainSigner(pem) });
  t.after(() => store.close());
  await oneSession(store, 's1', 'c1', '2026-01-01');
  forgeSessionOpen(path, 'forged');
  await assert.rejects(store.openSession(session('s2', 'bob', '2026-01-02T10:00:00.000Z')), (e: unknown) =>
    e instanceof WardenError && e.details.reason === 'unsigned tail' && /adopt-head/.test(e.message));
  assert.equal(await store.headSeq(), 5, 'the refused write rolled back');
  const v = await store.verify();
  assert.equal(v.ok, false);
  assert.deepEqual([v.firstBroken?.seq, v.signedHead?.seq, v.unsignedTail], [5, 4, 1]);
});

test('the signed head is in the store, written in the commit of the records it covers (no file beside it)', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const pem = keyPem();
  const store = openSqliteStore(path, { signer: createChainSigner(pem) });
  t.after(() => store.close());
  await oneSession(store, 's1', 'c1', '2026-01-01');
  const row = store.db.prepare('SELECT seq, hash FROM signed_head WHERE id = 1').get() as { seq: number; hash: string };
  const head = await store.chainHead();
  assert.deepEqual(row, head.head);
  assert.equal(head.signatureValid, true);
});

test('a v12 store upgrades: its head file becomes the signed_head row (and is removed), and signing goes on; a v12 tail left by a crash is refused, then adopted', async (t) => {
  const pem = keyPem();
  const dir = tempDir(t);
  // A clean v12 store: the head file names its last record.
  const clean = join(dir, 'clean.db');
  const a = openSqliteStore(clean, { signer: createChainSigner(pem) });
  await oneSession(a, 's1', 'c1', '2026-01-01');
  await a.close();
  asV12Store(clean);
  assert.ok(existsSync(headPath(clean)));
  const up = openSqliteStore(clean, { signer: createChainSigner(pem), recoverInterrupted: true });
  assert.equal(existsSync(headPath(clean)), false, 'the head file is removed once copied in');
  assert.equal((up.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v, SCHEMA_VERSION);
  await up.openSession(session('s2', 'bob', '2026-01-02T10:00:00.000Z'));
  const v = await up.verify();
  assert.deepEqual([v.ok, v.signedHead?.seq, v.unsignedTail], [true, 5, 0]);
  await up.close();
  // A v12 store whose last record a crash left unsigned (signed after the commit, before v13).
  const crashed = join(dir, 'crashed.db');
  const b = openSqliteStore(crashed, { signer: createChainSigner(pem) });
  await oneSession(b, 's1', 'c1', '2026-01-01');
  await b.close();
  const tail = forgeSessionOpen(crashed, 'late');
  asV12Store(crashed);
  assert.throws(() => openSqliteStore(crashed, { signer: createChainSigner(pem), recoverInterrupted: true }), (e: unknown) =>
    e instanceof WardenError && e.details.reason === 'unsigned tail');
  const adopting = openSqliteStore(crashed, { signer: createChainSigner(pem), adoptingHead: true });
  const err: string[] = [];
  assert.equal(await runTranscriptsCommand(['adopt-head', '--expect-head', `${tail.seq}:${tail.hash}`], { store: adopting, json: false, out: () => {}, err: (e) => err.push(e) }), 0, err.join('\n'));
  await adopting.close();
  const after = openSqliteStore(crashed, { signer: createChainSigner(pem), recoverInterrupted: true });
  t.after(() => after.close());
  assert.equal((await after.verify()).ok, true);
  // A v12 store with no head file at all: refused, and adopt-head (no --expect-head needed) signs it, as before.
  const bare = join(dir, 'bare.db');
  const c = openSqliteStore(bare, { signer: createChainSigner(pem) });
  await oneSession(c, 's1', 'c1', '2026-01-01');
  await c.close();
  asV12Store(bare);
  rmSync(headPath(bare));
  assert.throws(() => openSqliteStore(bare, { signer: createChainSigner(pem) }), /no signed head in the store/);
  const adopt2 = openSqliteStore(bare, { signer: createChainSigner(pem), adoptingHead: true });
  assert.equal(await runTranscriptsCommand(['adopt-head'], { store: adopt2, json: false, out: () => {}, err: () => {} }), 0);
  await adopt2.close();
  openSqliteStore(bare, { signer: createChainSigner(pem) }).close();
});
