/**
 * When the key holder refuses to sign (the signed head's record was cut or rewritten by someone
 * without the key), it says so at once: the store exposes the reason, calls its onWarning once
 * (the running server logs it), and `transcripts head` shows the signed head as stale. serve runs
 * the same check when the store opens (checkHead): the warning comes then, and only then.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { openSqliteStore, openWorkerBackedStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { session, tempDir } from './fixtures.js';
import { cutSignedStore, keyPem, oneSession } from './rollback-fixture.js';

type Warning = { message: string; fields: Record<string, unknown> };

async function writeTwice(store: SqliteTranscriptStore): Promise<void> {
  await store.openSession(session('n1', 'carol', '2026-04-01T10:00:00.000Z'));
  await store.openSession(session('n2', 'carol', '2026-04-02T10:00:00.000Z'));
}

function assertOneWarning(warnings: Warning[], pem: string): void {
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  const [w] = warnings;
  assert.match(w!.message, /signed chain head/);
  assert.match(String(w!.fields.reason), /record 8, the signed head, is gone/);
  const text = JSON.stringify(w);
  assert.doesNotMatch(text, /PRIVATE KEY|BEGIN/);
  assert.ok(!text.includes(pem.split('\n')[1]!), 'no key material');
}

test('a refused signature is exposed by the store and warned about once (serving thread)', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const pem = keyPem();
  await cutSignedStore(path, pem);
  const warnings: Warning[] = [];
  const store = openSqliteStore(path, { signer: createChainSigner(pem), onWarning: (message, fields) => warnings.push({ message, fields }) });
  t.after(() => store.close());
  assert.equal(store.signingRefused, null, 'nothing was refused before a write');
  await writeTwice(store);
  assert.match(store.signingRefused ?? '', /record 8, the signed head, is gone/);
  assertOneWarning(warnings, pem);
});

test('a refused signature on the writer thread reaches the store and is warned about once', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const pem = keyPem();
  await cutSignedStore(path, pem);
  const warnings: Warning[] = [];
  const store = await openWorkerBackedStore(path, { signingPem: pem, onWarning: (message, fields) => warnings.push({ message, fields }) });
  t.after(() => store.close());
  await writeTwice(store);
  assert.match(store.signingRefused ?? '', /record 8, the signed head, is gone/);
  // The main connection refuses too (an approval write): still one warning.
  const { approvalRequest } = await import('./fixtures.js');
  await store.approvals.create({ ...approvalRequest('a1', '2026-04-02T11:00:00.000Z'), sessionId: 'n2' });
  assertOneWarning(warnings, pem);
});

test('transcripts head shows a signed head the key holder will not sign over as stale', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const pem = keyPem();
  await cutSignedStore(path, pem);
  const store = openSqliteStore(path, { signer: createChainSigner(pem) });
  t.after(() => store.close());
  await writeTwice(store);
  const info = await store.chainHead();
  assert.match(info.stale ?? '', /record 8, the signed head, is gone/);
  const out: string[] = [];
  const err: string[] = [];
  const io = { store, json: false, out: (s: string) => out.push(s), err: (s: string) => err.push(s) };
  assert.equal(await runTranscriptsCommand(['head'], io), 1);
  assert.match(out.join('\n'), /STALE: record 8, the signed head, is gone/);
  assert.match(err.join('\n'), /new records are not signed/);
  out.length = 0;
  assert.equal(await runTranscriptsCommand(['head', '--json'], io), 1);
  assert.match(JSON.parse(out.join('')).stale, /record 8, the signed head, is gone/);
  // A healthy store: no stale mark.
  const ok = openSqliteStore(join(tempDir(t), 'ok.db'), { signer: createChainSigner(pem) });
  t.after(() => ok.close());
  await oneSession(ok, 's1', 'c1', '2026-01-01');
  assert.equal((await ok.chainHead()).stale, undefined);
  assert.equal(ok.signingRefused, null);
});

for (const writer of ['inline', 'thread'] as const) {
  test(`checkHead at startup reports a cut chain before any write, and the writes add no warning (${writer})`, async (t) => {
    const path = join(tempDir(t), 'w.db');
    const pem = keyPem();
    await cutSignedStore(path, pem);
    const warnings: Warning[] = [];
    const onWarning = (message: string, fields: Record<string, unknown>) => warnings.push({ message, fields });
    const store = writer === 'inline'
      ? openSqliteStore(path, { signer: createChainSigner(pem), onWarning })
      : await openWorkerBackedStore(path, { signingPem: pem, onWarning });
    t.after(() => store.close());
    assert.match((await store.checkHead()) ?? '', /record 8, the signed head, is gone/);
    assert.match(store.signingRefused ?? '', /record 8, the signed head, is gone/);
    assertOneWarning(warnings, pem);
    assert.equal(warnings[0]!.fields.found, 'startup');
    await writeTwice(store);
    assertOneWarning(warnings, pem);
    // Still refused: the signed head was left as it was.
    assert.match((await store.chainHead()).stale ?? '', /record 8, the signed head, is gone/);
  });
}

test('checkHead at startup passes a healthy signed store, a forged head fails it', async (t) => {
  const pem = keyPem();
  const warnings: Warning[] = [];
  const path = join(tempDir(t), 'ok.db');
  const first = openSqliteStore(path, { signer: createChainSigner(pem) });
  await oneSession(first, 's1', 'c1', '2026-01-01');
  await first.close();
  const ok = openSqliteStore(path, { signer: createChainSigner(pem), onWarning: (message, fields) => warnings.push({ message, fields }) });
  t.after(() => ok.close());
  assert.equal(await ok.checkHead(), null);
  assert.equal(ok.signingRefused, null);
  assert.equal(warnings.length, 0);
  // A head file signed by another key (forged): refused at startup, as a write would.
  const other = openSqliteStore(path, { signer: createChainSigner(keyPem()), onWarning: (message, fields) => warnings.push({ message, fields }) });
  t.after(() => other.close());
  assert.match((await other.checkHead()) ?? '', /not carry a valid signature/);
  assert.equal(warnings.length, 1);
  assert.equal(warnings[0]!.fields.found, 'startup');
  // Without a private key nothing is ever signed, so nothing is refused either.
  const { createPublicKey } = await import('node:crypto');
  const pub = createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
  const ro = openSqliteStore(path, { signer: createChainSigner(pub) });
  t.after(() => ro.close());
  assert.equal(await ro.checkHead(), null);
});
