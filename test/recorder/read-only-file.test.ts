import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqliteStore } from '../../src/recorder/index.js';
import { intent, session, tempDir } from './fixtures.js';

const index = fileURLToPath(new URL('../../src/recorder/index.js', import.meta.url));

// Real file permissions: a 0444 file in a 0555 directory. Root ignores permissions, so as root
// the reader runs as `nobody` through setpriv (skipped when that is not possible).
test('a read-only file in a read-only directory opens for reading; writes throw', async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const dbDir = join(dir, 'db');
  const path = join(dbDir, 'w.db');
  const w = openSqliteStore(path);
  await w.openSession(session('s1'));
  await w.recordIntent(intent('c1', 's1'));
  await w.close();
  const script = join(dir, 'reader.mjs');
  writeFileSync(
    script,
    `import { openSqliteStore } from ${JSON.stringify(index)};
     const s = openSqliteStore(${JSON.stringify(path)});
     const out = { readonly: s.readonly, sessions: (await s.listSessions()).length, verify: await s.verify() };
     try { await s.closeSession('s1', '2026-11-27T11:00:00Z'); } catch (e) { out.code = e.code; out.message = e.message; }
     await s.close();
     console.log(JSON.stringify(out));`,
  );
  chmodSync(path, 0o444);
  chmodSync(dbDir, 0o555);
  try {
    await readAsOther(t, script);
  } finally {
    chmodSync(dbDir, 0o755); // so that the temp dir can be removed
  }
});

async function readAsOther(t: { skip: (m: string) => void }, script: string): Promise<void> {
  let argv = [process.execPath, script];
  if (process.getuid?.() === 0) {
    const probe = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', '0']);
    if (probe.status !== 0) return t.skip('running as root without setpriv: cannot drop privileges');
    argv = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', ...argv];
  }
  const out = JSON.parse(execFileSync(argv[0] as string, argv.slice(1), { encoding: 'utf8' }));
  assert.equal(out.readonly, true);
  assert.equal(out.sessions, 1);
  assert.deepEqual([out.verify.ok, out.verify.records], [true, 2]);
  assert.equal(out.code, 'WARDEN_TRANSCRIPT_UNAVAILABLE');
  assert.equal(out.message, 'transcript store cannot write: read-only');
}
