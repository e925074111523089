/**
 * What the SQLite store keeps on disk is for the user Warden runs as only, whatever the umask:
 * the store file, its -wal and -shm, the signed head are 0600 and a folder Warden creates for
 * them 0700. A folder the admin made is left as it is, with a warning when others may write it;
 * a store file every user may read is warned about. A symbolic link at the signed head's name
 * is refused with a coded error, never followed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore, openWorkerBackedStore } from '../../src/recorder/index.js';
import { createChainSigner, headPath } from '../../src/recorder/signing.js';
import { asV12Store } from './signed-head-row.js';
import { session, tempDir } from './fixtures.js';
import { keyPem } from './rollback-fixture.js';

const modeOf = (p: string): number => statSync(p).mode & 0o7777;
const octal = (m: number): string => m.toString(8).padStart(4, '0');

/** Run `fn` under `mask`; why: the store's modes must not depend on the process umask. */
async function withUmask<T>(mask: number, fn: () => Promise<T>): Promise<T> {
  const was = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(was);
  }
}

for (const writer of ['main', 'thread'] as const) {
  test(`umask 022 and 002: a new store (${writer} writer), its -wal, -shm and signed head are 0600, the folder Warden creates 0700`, async (t) => {
    for (const mask of [0o022, 0o002]) {
      const dir = join(tempDir(t), 'recordings');
      const path = join(dir, 'warden.db');
      const pem = keyPem();
      await withUmask(mask, async () => {
        const store = writer === 'main' ? openSqliteStore(path, { signer: createChainSigner(pem) }) : await openWorkerBackedStore(path, { signingPem: pem });
        try {
          await store.openSession(session('s1'));
          for (const f of [path, `${path}-wal`, `${path}-shm`]) {
            assert.ok(existsSync(f), `${f} exists`);
            assert.equal(octal(modeOf(f)), '0600', `${f} under umask ${octal(mask)}`);
          }
          assert.equal(octal(modeOf(dir)), '0700', `the recordings folder under umask ${octal(mask)}`);
        } finally {
          await store.close();
        }
      });
    }
  });
}

test('a folder the admin created is not chmodded; group- or world-writable, it is warned about', async (t) => {
  const dir = join(tempDir(t), 'shared');
  mkdirSync(dir);
  chmodSync(dir, 0o777);
  const warnings: string[] = [];
  const store = openSqliteStore(join(dir, 'warden.db'), { onWarning: (m, f) => warnings.push(`${m} ${JSON.stringify(f)}`) });
  try {
    await store.openSession(session('s1'));
    assert.equal(octal(modeOf(dir)), '0777', 'left as the admin made it');
    assert.equal(octal(modeOf(join(dir, 'warden.db'))), '0600', 'the store file is still created 0600');
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]!, /writable by every user/);
    assert.match(warnings[0]!, new RegExp(dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  } finally {
    await store.close();
  }
});

test('an existing store file every user may read is warned about (not chmodded); a 0600 one is not', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'warden.db');
  await openSqliteStore(path).close();
  chmodSync(path, 0o644);
  const warnings: string[] = [];
  const store = openSqliteStore(path, { onWarning: (m, f) => warnings.push(`${m} ${JSON.stringify(f)}`) });
  await store.close();
  assert.equal(octal(modeOf(path)), '0644');
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.match(warnings[0]!, /readable by every user/);
  chmodSync(path, 0o600);
  const quiet: string[] = [];
  await openSqliteStore(path, { onWarning: (m) => quiet.push(m) }).close();
  assert.deepEqual(quiet, []);
});

test('a symbolic link planted at the signed head is refused with a coded error, never followed', async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'warden.db');
  const pem = keyPem();
  const signer = createChainSigner(pem);
  const first = openSqliteStore(path, { signer });
  await first.openSession(session('s1'));
  await first.close();
  asV12Store(path); // only a store before v13 keeps its head in a file (read once, when it migrates)
  // The attacker keeps a copy of the head where they control it, and links it in.
  const theirs = join(dir, 'theirs.json');
  copyFileSync(headPath(path), theirs);
  const before = readFileSync(theirs, 'utf8');
  renameSync(headPath(path), join(dir, 'moved'));
  symlinkSync(theirs, headPath(path));
  const coded = (e: unknown) => (e as { code?: string }).code === 'WARDEN_TRANSCRIPT_UNAVAILABLE' && /symbolic link/.test((e as Error).message);
  assert.throws(() => openSqliteStore(path, { signer }), coded, 'the migration that reads it');
  assert.equal(readFileSync(theirs, 'utf8'), before, 'the link target is untouched');
});

test('a dangling symbolic link at the store path is refused: Warden does not create a file where it points', async (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'elsewhere.db');
  symlinkSync(target, join(dir, 'warden.db'));
  assert.throws(() => openSqliteStore(join(dir, 'warden.db')), (e: Error & { code?: string }) => e.code === 'WARDEN_TRANSCRIPT_UNAVAILABLE' && /symbolic link/.test(e.message));
  assert.equal(existsSync(target), false);
});

test('a symbolic link planted at the -wal or -shm name is refused before SQLite writes through it', async (t) => {
  for (const suffix of ['-wal', '-shm']) {
    const dir = tempDir(t);
    const path = join(dir, 'warden.db');
    await openSqliteStore(path).close();
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'precious\n');
    symlinkSync(victim, `${path}${suffix}`);
    assert.throws(() => openSqliteStore(path), (e: Error & { code?: string }) => e.code === 'WARDEN_TRANSCRIPT_UNAVAILABLE' && /symbolic link/.test(e.message), suffix);
    assert.equal(readFileSync(victim, 'utf8'), 'precious\n', suffix);
  }
});
