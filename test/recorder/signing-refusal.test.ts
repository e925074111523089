/**
 * When the key holder refuses to sign (the signed head's record was cut or rewritten by someone
 * without the key), it says so at once: the store exposes the reason, calls its onWarning once
 * (the running server logs it), and `transcripts head` shows the signed head as stale.
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
