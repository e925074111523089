/**
 * `file:` secrets: a file every user may write is refused (anyone could swap the credential),
 * and so is anything but a regular file (`/dev/null` gave an empty secret, `/dev/zero` never
 * ended); the errors name the reference, never the value.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
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

test('a secret under a folder every user may write without the sticky bit is refused; with it (as /tmp) it is read', async () => {
  const open = join(mkdtempSync(join(tmpdir(), 'warden-secret-parent-')), 'srv');
  mkdirSync(join(open, 'warden'), { recursive: true, mode: 0o755 });
  chmodSync(open, 0o777);
  writeFileSync(join(open, 'warden', 'token'), 's3cr3t-value\n', { mode: 0o600 });
  const r = createSecretResolver(join(open, 'warden'), {});
  await assert.rejects(r.resolve('file:token'), (e: Error & { code?: string }) => e.code === 'WARDEN_SECRET' && e.message.includes(`file:token is refused: the folder ${open} above it is writable by every user on this host without the sticky bit`) && !e.message.includes('s3cr3t'));
  chmodSync(open, 0o1777);
  assert.equal(await r.resolve('file:token'), 's3cr3t-value');
});

test('a secret in a folder every user may write is refused, sticky bit or not (anyone could put a file at its name while it is absent)', async () => {
  const open = join(mkdtempSync(join(tmpdir(), 'warden-secret-folder-')), 'shared');
  mkdirSync(open);
  writeFileSync(join(open, 'token'), 's3cr3t-value\n', { mode: 0o600 });
  const r = createSecretResolver(open, {});
  for (const mode of [0o777, 0o1777]) {
    chmodSync(open, mode);
    await assert.rejects(r.resolve('file:token'), (e: Error) => e.message.includes(`file:token is refused: its folder ${open} is writable by every user`));
  }
  chmodSync(open, 0o700);
  assert.equal(await r.resolve('file:token'), 's3cr3t-value');
});
