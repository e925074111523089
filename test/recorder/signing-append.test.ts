/**
 * Red-team: records appended after the signed head by someone without the key (a second outcome
 * for an earlier call, which replaces what every reader shows for it) must not be signed over by
 * the key holder's next write. Before, the next write signed the new head, so the forged record
 * passed `verify --strict` and showed in no check at all. Since the head is signed in the commit
 * of its records (schema v13), no crash leaves such records: the key holder refuses to write over
 * them (the write rolls back, coded), and a plain verify reports them (signing-in-commit.test.ts:
 * the same at startup, and adopt-head).
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
    // What every reader now shows for c1 is the forged outcome; verify says it is not signed.
    assert.equal((await store.getCall('c1'))?.outcome?.status, 'error');
    const window = await store.verify();
    assert.equal(window.ok, false);
    assert.deepEqual([window.firstBroken?.seq, window.signedHead?.seq, window.unsignedTail], [4, 3, 1]);
    // The key holder's next write is refused, coded, naming the fix: its signature never covers record 4.
    await assert.rejects(store.openSession(session('s2', 'bob', '2026-05-02T10:00:00.000Z')), (e: unknown) =>
      (e as { code?: string }).code === 'WARDEN_TRANSCRIPT_UNAVAILABLE' && /records 4-4 .*newer than the signed head 3.*adopt-head --expect-head 4:/s.test((e as Error).message));
    assert.equal(await store.headSeq(), 4, 'the refused write rolled back');
    const v = await store.verify();
    assert.equal(v.signedHead?.seq, 3, 'the signed head stays on the last record before the forged one');
    const s = await strict(store);
    assert.equal(s.code, 1);
    assert.match(s.err, /records 4-4 are newer than the signed head 3/);
    assert.deepEqual(warnings, []);
  });
}

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
