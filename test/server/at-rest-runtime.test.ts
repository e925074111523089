/**
 * What serve keeps beside the transcripts: masking.key (the hashing key when masking.hash_key is
 * not configured) is created 0600 in a 0700 folder whatever the umask, exclusively (a symbolic
 * link planted at its name is never written through, nor read), and a key file others may read
 * is warned about. A `file:` secret others may read is read (Kubernetes mounts secrets 0644
 * through `..data` links) but warned about in the log, as `policy check` does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRuntime } from '../../src/server/runtime.js';
import { families } from '../../tools/index.js';
import { writeWardenDir } from '../support/warden-process.js';

const CONFIG = 'transcripts: { store: sqlite:recordings/warden.db }\npolicies: [policies/*.yaml]\n';
const POLICY = { 'a.yaml': 'rules: []\n' };
const octal = (p: string): string => (statSync(p).mode & 0o7777).toString(8).padStart(4, '0');

/** Run `fn` with stderr captured and the umask set; why: the log goes to stderr. */
async function capture<T>(mask: number, fn: () => Promise<T>): Promise<{ value?: T; error?: unknown; stderr: string }> {
  const was = process.umask(mask);
  const write = process.stderr.write.bind(process.stderr);
  let stderr = '';
  process.stderr.write = ((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  }) as typeof process.stderr.write;
  try {
    return { value: await fn(), stderr };
  } catch (error) {
    return { error, stderr };
  } finally {
    process.stderr.write = write;
    process.umask(was);
  }
}

test('umask 022: masking.key, the store and its folder are for the user Warden runs as only', async () => {
  const dir = writeWardenDir(CONFIG, POLICY);
  try {
    const r = await capture(0o022, () => startRuntime(dir.configPath, families));
    assert.ok(r.value, String(r.error));
    await r.value.close();
    const rec = join(dir.dir, 'recordings');
    assert.equal(octal(rec), '0700');
    for (const f of ['masking.key', 'warden.db']) assert.equal(octal(join(rec, f)), '0600', f);
  } finally {
    dir.cleanup();
  }
});

test('a dangling symbolic link at masking.key is refused: no key is written where it points', async () => {
  const dir = writeWardenDir(CONFIG, POLICY);
  try {
    mkdirSync(join(dir.dir, 'recordings'), { mode: 0o700 });
    const target = join(dir.dir, 'attacker-reads-this');
    symlinkSync(target, join(dir.dir, 'recordings', 'masking.key'));
    const r = await capture(0o022, () => startRuntime(dir.configPath, families));
    if (r.value) await r.value.close();
    assert.equal(existsSync(target), false, 'nothing written through the link');
    assert.ok(r.error, 'refused');
    assert.equal((r.error as { code?: string }).code, 'WARDEN_CONFIG');
    assert.match((r.error as Error).message, /masking\.key.*symbolic link/);
  } finally {
    dir.cleanup();
  }
});

test('a symbolic link at masking.key to a key someone else chose is refused, not read', async () => {
  const dir = writeWardenDir(CONFIG, POLICY);
  try {
    mkdirSync(join(dir.dir, 'recordings'), { mode: 0o700 });
    const theirs = join(dir.dir, 'known-key');
    writeFileSync(theirs, 'a'.repeat(64) + '\n', { mode: 0o600 });
    symlinkSync(theirs, join(dir.dir, 'recordings', 'masking.key'));
    const r = await capture(0o022, () => startRuntime(dir.configPath, families));
    if (r.value) await r.value.close();
    assert.equal((r.error as { code?: string } | undefined)?.code, 'WARDEN_CONFIG');
    assert.match((r.error as Error).message, /masking\.key.*symbolic link/);
  } finally {
    dir.cleanup();
  }
});

test('a masking.key other users may read is used but warned about; an empty one is refused', async () => {
  const dir = writeWardenDir(CONFIG, POLICY);
  try {
    const key = join(dir.dir, 'recordings', 'masking.key');
    mkdirSync(join(dir.dir, 'recordings'), { mode: 0o700 });
    writeFileSync(key, 'b'.repeat(64) + '\n');
    chmodSync(key, 0o644);
    const r = await capture(0o022, () => startRuntime(dir.configPath, families));
    assert.ok(r.value, String(r.error));
    await r.value.close();
    assert.match(r.stderr, /masking\.key.*readable by other users/);
    assert.doesNotMatch(r.stderr, /bbbbbbbb/);
    writeFileSync(key, '\n');
    chmodSync(key, 0o600);
    const empty = await capture(0o022, () => startRuntime(dir.configPath, families));
    if (empty.value) await empty.value.close();
    assert.equal((empty.error as { code?: string } | undefined)?.code, 'WARDEN_CONFIG');
    assert.match((empty.error as Error).message, /masking\.key.*empty/);
  } finally {
    dir.cleanup();
  }
});

test('a masking.key owned by another user is refused (root only: a normal user cannot give files away)', { skip: process.geteuid?.() !== 0 && 'needs root to chown' }, async () => {
  const dir = writeWardenDir(CONFIG, POLICY);
  try {
    const key = join(dir.dir, 'recordings', 'masking.key');
    mkdirSync(join(dir.dir, 'recordings'), { mode: 0o700 });
    writeFileSync(key, 'c'.repeat(64) + '\n', { mode: 0o600 });
    chownSync(key, 4242, 4242);
    const r = await capture(0o022, () => startRuntime(dir.configPath, families));
    if (r.value) await r.value.close();
    assert.equal((r.error as { code?: string } | undefined)?.code, 'WARDEN_CONFIG');
    assert.match((r.error as Error).message, /masking\.key.*owned by uid 4242/);
  } finally {
    dir.cleanup();
  }
});

test('a file: secret other users may read is read, and warned about in the log (Kubernetes ..data layout too)', async () => {
  const dir = writeWardenDir('transcripts: { store: sqlite:recordings/warden.db }\nmasking: { hash_key: file:secrets/hash_key }\npolicies: [policies/*.yaml]\n', POLICY);
  try {
    // As the kubelet mounts a Secret: the file is a link through ..data to a 0644 file.
    const secrets = join(dir.dir, 'secrets');
    mkdirSync(join(secrets, '..2026_11_29'), { recursive: true, mode: 0o755 });
    writeFileSync(join(secrets, '..2026_11_29', 'hash_key'), 'd'.repeat(64) + '\n', { mode: 0o644 });
    chmodSync(join(secrets, '..2026_11_29', 'hash_key'), 0o644);
    symlinkSync('..2026_11_29', join(secrets, '..data'));
    symlinkSync('..data/hash_key', join(secrets, 'hash_key'));
    const r = await capture(0o022, () => startRuntime(dir.configPath, families));
    assert.ok(r.value, String(r.error));
    await r.value.close();
    assert.match(r.stderr, /file:secrets\/hash_key is readable by other users/);
    assert.doesNotMatch(r.stderr, /dddddddd/);
    assert.equal(existsSync(join(dir.dir, 'recordings', 'masking.key')), false, 'the configured key is used');
    assert.equal(readFileSync(join(secrets, 'hash_key'), 'utf8').trim(), 'd'.repeat(64));
  } finally {
    dir.cleanup();
  }
});
