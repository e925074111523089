/**
 * The SQLite transcript store on a real 4 MB tmpfs mount (root only: `mount -t tmpfs`): when the
 * disk is full, calls are refused with WARDEN_TRANSCRIPT_UNAVAILABLE and the write they asked
 * for never reaches the target; when space returns, the same server resumes, and the chain still
 * verifies. (A live `remount,ro` is refused by the kernel while the store is open: "busy".)
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from '../support/warden-process.js';
import { configText, POLICY, SEED, wardenCli } from './support.js';

let target: TestDatabase;
let dir: WardenDir;
let mnt: string;
let mounted = false;
const ENV = { WARDEN_TEST_HASH_KEY: 'k' };

before(async () => {
  assert.equal(process.getuid?.(), 0, 'this test mounts a tmpfs and needs root');
  target = await createTestDatabase({ prefix: 'full' });
  await target.query(SEED);
  await target.query(`GRANT SELECT, INSERT ON items TO ${target.role}; GRANT USAGE ON SEQUENCE items_id_seq TO ${target.role}`);
  dir = writeWardenDir(configText({ store: 'sqlite:rec/warden.db' }), { 'base.yaml': POLICY });
  mnt = join(dir.dir, 'rec');
  mkdirSync(mnt);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]);
  mounted = true;
});

after(async () => {
  if (mounted) execFileSync('umount', ['-l', mnt]);
  await target?.drop();
  dir?.cleanup();
});

const code = (text: string) => /^(WARDEN_[A-Z_]+):/.exec(text)?.[1] ?? 'ok';

function fill(file: string): number {
  const fd = openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  let n = 0;
  try {
    for (;;) n += writeSync(fd, chunk);
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
  return n;
}

async function resumes(w: WardenSession, sql: string): Promise<void> {
  for (let i = 0; i < 40; i++) {
    if (code((await w.call('query_database', { connection: 'target', sql })).text) === 'ok') return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the server did not resume');
}

test('disk full: refused, nothing executed, resumes when space returns', async () => {
  const w = await connectWarden(dir.configPath, { ...ENV, TARGET_DATABASE_URL: target.url });
  const inserted = async (tag: string) => Number((await target.query('SELECT count(*) AS n FROM items WHERE name = $1', [tag])).rows[0]?.n);
  const insert = (tag: string) => w.call('query_database', { connection: 'target', sql: `INSERT INTO items (name, n) VALUES ('${tag}', 1)` });
  try {
    assert.equal(code((await w.call('query_database', { connection: 'target', sql: 'SELECT name FROM items WHERE id = 1' })).text), 'ok');

    // Disk full.
    const filler = join(mnt, 'filler');
    fill(filler);
    let refusals = 0;
    for (let i = 0; i < 20; i++) {
      const r = await insert('disk-full');
      if (code(r.text) === 'ok') continue; // a page already allocated may still take a small write
      assert.equal(code(r.text), 'WARDEN_TRANSCRIPT_UNAVAILABLE', r.text);
      refusals++;
    }
    assert.ok(refusals >= 10, `refused ${refusals} of 20`);
    const ranWhileFull = await inserted('disk-full');
    assert.equal(ranWhileFull, 20 - refusals, 'only calls whose intent was recorded ran');
    rmSync(filler);
    await resumes(w, `INSERT INTO items (name, n) VALUES ('after-full', 1)`);

  } finally {
    await w.close();
  }
  const v = await wardenCli(['transcripts', 'verify', '--config', dir.configPath], ENV);
  assert.equal(v.code, 0, v.out + v.err);
});
