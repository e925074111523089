/**
 * `file:` secrets: a file every user may write is refused (anyone could swap the credential),
 * and so is anything but a regular file (`/dev/null` gave an empty secret, `/dev/zero` never
 * ended); the errors name the reference, never the value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretResolver } from '../../src/config/secrets.js';

const dir = mkdtempSync(join(tmpdir(), 'warden-secret-files-'));

test('a world-writable secret file is refused, naming the reference and not the value', async () => {
  writeFileSync(join(dir, 'kubeconfig'), 'token: s3cr3t-value\n');
  chmodSync(join(dir, 'kubeconfig'), 0o666);
  const r = createSecretResolver(dir, {});
  await assert.rejects(r.resolve('file:kubeconfig'), (e: Error & { code?: string }) => e.code === 'WARDEN_SECRET' && /file:kubeconfig is writable by every user/.test(e.message) && !e.message.includes('s3cr3t'));
  chmodSync(join(dir, 'kubeconfig'), 0o600);
  assert.equal(await r.resolve('file:kubeconfig'), 'token: s3cr3t-value');
});

test('a device, FIFO or folder is not a secret file', async () => {
  const r = createSecretResolver(dir, {});
  await assert.rejects(r.resolve('file:/dev/null'), /file:\/dev\/null is not a regular file/);
  await assert.rejects(r.resolve('file:/dev/zero'), /is not a regular file/);
  await assert.rejects(r.resolve(`file:${dir}`), /(is not a regular file|cannot be read)/);
});
