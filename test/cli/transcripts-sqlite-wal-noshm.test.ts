/**
 * A SQLite store whose writer died (its records still in the `-wal`) copied to a read-only folder
 * without the `-shm`: SQLite itself cannot open it there (it would have to create the -shm), so
 * the read commands apply the WAL's committed frames to an in-memory copy (wal-replay.ts). What
 * they show must be what SQLite shows for the same files in a writable folder, a torn or corrupt
 * tail included (ignored as SQLite ignores it); a `-wal` whose header cannot be read is a coded
 * error that says to copy the folder somewhere writable, never a read without its records.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { WARDEN_BIN } from '../support/repo.js';
import { findExecutable, isRoot } from '../support/system-deps.js';
import { approvalRequest, intent, outcome, session, tempDir } from '../recorder/fixtures.js';

type Run = { code: number; out: string; err: string };

function warden(config: string, args: string[], wrap: string[] = []): Promise<Run> {
  const argv = [...wrap, process.execPath, WARDEN_BIN, ...args, '--config', config];
  return new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }, (e, out, err) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, out, err });
    });
  });
}

/** The main file and the -wal of a store whose writer still holds it open (two sessions, calls, approvals: several commits). */
async function liveFiles(dir: string): Promise<{ db: Buffer; wal: Buffer }> {
  mkdirSync(join(dir, 'live'));
  const store = openSqliteStore(join(dir, 'live', 'w.db'));
  try {
    const call = JSON.stringify({ tool: 'query_database', connection: 'shop', args: { sql: 'UPDATE orders SET total = 1' } });
    await store.openSession(session('s1'));
    await store.recordIntent(intent('c1', 's1'));
    await store.recordOutcome('c1', outcome());
    await store.approvals.create(approvalRequest('a-open', new Date().toISOString(), { expiresAt: '2999-01-01T00:00:00.000Z', canonicalCall: call }));
    await store.openSession(session('s2', 'bob', '2026-11-27T12:00:00.000Z'));
    await store.recordIntent(intent('c2', 's2', 'kubectl_exec', '2026-11-27T12:00:01.000Z'));
    const wal = readFileSync(join(dir, 'live', 'w.db-wal'));
    assert.ok(wal.length > 4096, 'the records are in the WAL');
    return { db: readFileSync(join(dir, 'live', 'w.db')), wal };
  } finally {
    await store.close();
  }
}

/** The files in folder `name` (read-only: 0555, files 0444) and a config naming them. */
function place(dir: string, name: string, files: { db: Buffer; wal: Buffer }, readOnly: boolean): string {
  const folder = join(dir, name);
  mkdirSync(folder);
  writeFileSync(join(folder, 'w.db'), files.db);
  writeFileSync(join(folder, 'w.db-wal'), files.wal);
  const config = join(dir, `${name}.yaml`);
  writeFileSync(config, `transcripts: { store: ${JSON.stringify(`sqlite:${join(folder, 'w.db')}`)} }\nconnections: {}\npolicies: []\n`, { mode: 0o644 });
  if (readOnly) {
    chmodSync(join(folder, 'w.db'), 0o444);
    chmodSync(join(folder, 'w.db-wal'), 0o444);
    chmodSync(folder, 0o555);
  }
  return config;
}

const READS: string[][] = [
  ['transcripts', 'verify'], ['transcripts', 'list', '--json'], ['transcripts', 'show', 's2', '--json'], ['transcripts', 'export'], ['approvals', 'list', '--json'],
];
/** For the damaged tails: the chain and every record (each command opens the store the same way, openReadonly). */
const TAIL_READS: string[][] = [['transcripts', 'verify'], ['transcripts', 'export']];

/** Root reads as uid 65534, for whom the folder is read-only. */
function asNobody(t: { skip: (m: string) => void }): string[] | null {
  const setpriv = findExecutable('setpriv');
  if (!isRoot() || !setpriv) {
    t.skip('needs root and setpriv (a reader for whom the folder is read-only)');
    return null;
  }
  return [setpriv, '--reuid=65534', '--regid=65534', '--clear-groups', '--'];
}

test('a read-only folder with a dead writer\'s -wal and no -shm is read in place, as SQLite reads those files in a writable folder (torn or corrupt tails too)', async (t) => {
  const nobody = asNobody(t);
  if (!nobody) return;
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const files = await liveFiles(dir);
  const frame = 24 + files.wal.readUInt32BE(8); // frame header + page (the WAL header's page size)
  const frames = (files.wal.length - 32) / frame;
  const flipped = Buffer.from(files.wal);
  flipped[32 + (frames - 1) * frame + 24 + 100]! ^= 0xff; // the last frame's page: its checksum no longer holds
  const variants: Record<string, Buffer> = {
    intact: files.wal,
    'torn tail': Buffer.concat([files.wal, Buffer.alloc(1000, 7)]),
    'last frame corrupt': flipped,
    'half a frame': files.wal.subarray(0, files.wal.length - 2000),
  };
  let sawAll = false;
  for (const [name, wal] of Object.entries(variants)) {
    const slug = name.replace(/ /g, '-');
    const reference = place(dir, `${slug}-rw`, { db: files.db, wal }, false);
    const readOnly = place(dir, `${slug}-ro`, { db: files.db, wal }, true);
    for (const args of name === 'intact' ? READS : TAIL_READS) {
      const [want, got]: [Run, Run] = await Promise.all([warden(reference, args), warden(readOnly, args, nobody)]);
      assert.equal(got.code, 0, `${name}: ${args.join(' ')}\n${got.err}`);
      assert.equal(want.code, 0, `${name} (writable): ${args.join(' ')}\n${want.err}`);
      assert.equal(got.out, want.out, `${name}: ${args.join(' ')} shows what SQLite shows`);
    }
    const v = (await warden(readOnly, ['transcripts', 'verify'], nobody)).out;
    if (name === 'intact') {
      // Every record of the WAL: s1 open, c1 intent and outcome, the approval event, s2 open, c2 intent.
      assert.match(v, /^transcript chain intact: 6 records/, v);
      sawAll = true;
    } else assert.match(v, /^transcript chain intact: [56] records/, `${name}: ${v}`);
    assert.ok(readFileSync(join(dir, `${slug}-ro`, 'w.db-wal')).equals(wal), `${name}: the -wal is unchanged`);
  }
  assert.ok(sawAll);
});

test('a read-only folder with a -wal whose header cannot be read and no -shm is a coded error saying to copy the folder, never a read without it', async (t) => {
  const nobody = asNobody(t);
  if (!nobody) return;
  const dir = tempDir(t);
  chmodSync(dir, 0o755);
  const files = await liveFiles(dir);
  const wal = Buffer.from(files.wal);
  wal[3]! ^= 0x55; // the magic number
  const config = place(dir, 'ro', { db: files.db, wal }, true);
  for (const args of [READS[0]!, READS[4]!]) {
    const r = await warden(config, args, nobody);
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}`);
    assert.match(r.err, /WARDEN_TRANSCRIPT_UNAVAILABLE/, args.join(' '));
    assert.match(r.err, /-wal.*cannot be read in place.*copy the folder .*somewhere writable/, `${args.join(' ')}: ${r.err}`);
    assert.equal(r.out, '', args.join(' '));
  }
});
