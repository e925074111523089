/**
 * Red-team: records appended after the signed head by someone without the key (a second outcome
 * for an earlier call, which replaces what every reader shows for it) must not be signed over by
 * the key holder's next write. Before, the next write signed the new head, so the forged record
 * passed `verify --strict` and showed in no check at all. A crash between a commit and its
 * signature leaves such records too: `serve` signs them when it starts, with a warning.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { openSqliteStore, openWorkerBackedStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { intent, outcome, session, tempDir } from './fixtures.js';
import { keyPem } from './rollback-fixture.js';

type Warning = { message: string; fields: Record<string, unknown> };

/** Records 1-3 (open s1, intent c1, outcome c1 `ok`), signed. */
async function oneCall(store: SqliteTranscriptStore): Promise<void> {
  await store.openSession(session('s1', 'alice', '2026-05-01T10:00:00.000Z'));
  await store.recordIntent(intent('c1', 's1', 'query_database', '2026-05-01T10:00:01.000Z'));
  await store.recordOutcome('c1', outcome('2026-05-01T10:00:01.100Z'));
}

/** Someone with write access to the file (no key) appends a second outcome for c1: record 4. */
async function forgeOutcome(path: string): Promise<void> {
  const forger = openSqliteStore(path);
  await forger.recordOutcome('c1', { ...outcome('2026-05-01T10:00:02.000Z'), status: 'error', errorCode: 'WARDEN_BACKEND', result: { note: 'nothing was read' }, masking: null });
  await forger.close();
}

async function strict(store: SqliteTranscriptStore): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const code = await runTranscriptsCommand(['verify', '--strict'], { store, json: false, out: () => {}, err: (e) => err.push(e) });
  return { code, err: err.join('\n') };
}

for (const writer of ['main', 'thread'] as const) {
  test(`a forged record appended after the signed head is not signed over by the next write (${writer})`, async (t) => {
    const path = join(tempDir(t), 'w.db');
    const pem = keyPem();
    const warnings: Warning[] = [];
    const onWarning = (message: string, fields: Record<string, unknown>) => warnings.push({ message, fields });
    const store = writer === 'main'
      ? openSqliteStore(path, { signer: createChainSigner(pem), onWarning })
      : await openWorkerBackedStore(path, { signingPem: pem, onWarning });
    t.after(() => store.close());
    await oneCall(store);
    assert.equal((await store.verify()).signedHead?.seq, 3);
    await forgeOutcome(path);
    // What every reader now shows for c1 is the forged outcome, and the chain is intact.
    assert.equal((await store.getCall('c1'))?.outcome?.status, 'error');
    const window = await store.verify();
    assert.equal(window.ok, true, JSON.stringify(window.firstBroken));
    assert.equal(window.unsignedTail, 1);
    // The key holder writes on: its signature must not cover record 4, which it did not write.
    await store.openSession(session('s2', 'bob', '2026-05-02T10:00:00.000Z'));
    await store.closeSession('s2', '2026-05-02T10:05:00.000Z');
    await store.openSession(session('s3', 'bob', '2026-05-03T10:00:00.000Z'));
    const v = await store.verify();
    assert.equal(v.signedHead?.seq, 3, 'the signed head stays on the last record before the forged one');
    assert.equal(v.unsignedTail, 4);
    const s = await strict(store);
    assert.equal(s.code, 1);
    assert.match(s.err, /records 4-7 are newer than the signed head 3/);
    // The key holder says so once, naming the records it will not sign over.
    assert.match(store.signingRefused ?? '', /record 4, after the signed head 3, was not signed by a key holder/);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(String(warnings[0]!.fields.reason), /record 4, after the signed head 3/);
  });
}

test('records a crash left unsigned are signed when serve starts, with a warning; later writes sign on', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const pem = keyPem();
  const first = openSqliteStore(path, { signer: createChainSigner(pem) });
  await oneCall(first);
  await first.close();
  // The same records a crash between commit and signature leaves: committed, not signed.
  await forgeOutcome(path);
  const warnings: Warning[] = [];
  const store = openSqliteStore(path, { signer: createChainSigner(pem), recoverInterrupted: true, onWarning: (message, fields) => warnings.push({ message, fields }) });
  t.after(() => store.close());
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0]!.message, /newer than the signed head/);
  assert.deepEqual([warnings[0]!.fields.from, warnings[0]!.fields.to, warnings[0]!.fields.found], [4, 4, 'startup']);
  assert.equal(await store.checkHead(), null);
  await store.openSession(session('s2', 'bob', '2026-05-02T10:00:00.000Z'));
  const v = await store.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  assert.equal(v.unsignedTail, 0);
  assert.equal(store.signingRefused, null);
  assert.equal(warnings.length, 1);
});

test('two key holders on one file (another process approving) still sign each other\'s records', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const pem = keyPem();
  const a = openSqliteStore(path, { signer: createChainSigner(pem) });
  const b = openSqliteStore(path, { signer: createChainSigner(pem) });
  t.after(async () => { await a.close(); await b.close(); });
  await oneCall(a);
  for (let i = 0; i < 5; i++) {
    await b.openSession(session(`b${i}`, 'bob', `2026-05-0${i + 2}T10:00:00.000Z`));
    await a.openSession(session(`a${i}`, 'carol', `2026-05-0${i + 2}T11:00:00.000Z`));
  }
  const v = await a.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  assert.equal(v.unsignedTail, 0);
  assert.equal(a.signingRefused, null);
  assert.equal(b.signingRefused, null);
});
