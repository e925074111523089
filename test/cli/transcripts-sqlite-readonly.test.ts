/**
 * Reviewers and auditors read a SQLite transcript store without writing it: the real `warden
 * transcripts list|show|replay|verify|head|export` and `warden approvals list|show`, as child
 * processes. A missing store is a coded error naming the path that creates nothing (no file, no
 * folder); a store left with a dead writer's WAL keeps its bytes (no checkpoint, no recovery, no
 * expiry settled); an older schema is refused ("migrate with `warden serve` first") and left as
 * it was; a store on a read-only mount, or 0440 files read by another user, can be read.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import { migrate } from '../../src/recorder/sqlite-schema.js';
import { limiter, mapLimit, SPAWN_LIMIT } from '../support/limit.js';
import { WARDEN_BIN } from '../support/repo.js';
import { findExecutable, isRoot } from '../support/system-deps.js';
import { approvalRequest, intent, outcome, session, tempDir } from '../recorder/fixtures.js';

type Run = { code: number; out: string; err: string };

/** At most SPAWN_LIMIT `warden` children at once across this file's tests (they run side by side). */
const spawnGate = limiter(SPAWN_LIMIT);

/** `warden ARGS --config CONFIG`, optionally wrapped (a mount namespace, another user). */
function warden(config: string, args: string[], wrap: string[] = []): Promise<Run> {
  const argv = [...wrap, process.execPath, WARDEN_BIN, ...args, '--config', config];
  return spawnGate(() => new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }, (e, out, err) => {
      resolve({ code: e ? (typeof e.code === 'number' ? e.code : -1) : 0, out, err });
    });
  }));
}

/** Every READS command, side by side (each checked as it ends by `check`, which sees the store as every read so far left it). */
function eachRead(run: (args: string[]) => Promise<void>): Promise<void[]> {
  return mapLimit(READS, READS.length, run);
}

const CALL = JSON.stringify({ tool: 'query_database', connection: 'shop', args: { sql: 'UPDATE orders SET total = 1' } });

/** Every read command (transcripts and approvals) on a store holding session s1 and approvals a-due, a-open. */
const READS: string[][] = [
  ['transcripts', 'list'], ['transcripts', 'show', 's1'], ['transcripts', 'replay', 's1'], ['transcripts', 'verify'],
  ['transcripts', 'head'], ['transcripts', 'export'], ['approvals', 'list'], ['approvals', 'show', 'a-due'],
  ['approvals', 'list', '--state', 'expired'],
];

/**
 * A store as a writer that died left it: session s1 with a call, an approval past its expiry
 * (a-due, still `pending` in its row) and an open one, all of it in the WAL (the main file holds
 * only what the last checkpoint put there, and its -shm). Copied while the writer still held it open.
 */
async function crashedStore(dir: string): Promise<string> {
  const live = join(dir, 'live');
  mkdirSync(live);
  const store = openSqliteStore(join(live, 'w.db'));
  try {
    await store.openSession(session('s1'));
    await store.recordIntent(intent('c1', 's1'));
    await store.recordOutcome('c1', outcome());
    await store.approvals.create(approvalRequest('a-due', '2026-01-01T10:00:00.000Z', { expiresAt: '2026-01-01T11:00:00.000Z', canonicalCall: CALL }));
    await store.approvals.create(approvalRequest('a-open', new Date().toISOString(), { expiresAt: '2999-01-01T00:00:00.000Z', canonicalCall: CALL }));
    const path = join(dir, 'store', 'w.db');
    mkdirSync(join(dir, 'store'), { mode: 0o755 });
    assert.ok(readFileSync(join(live, 'w.db-wal')).length > 0, 'the records are in the WAL');
    copyFileSync(join(live, 'w.db'), path);
    copyFileSync(join(live, 'w.db-wal'), `${path}-wal`);
    copyFileSync(join(live, 'w.db-shm'), `${path}-shm`);
    return path;
  } finally {
    await store.close();
  }
}

function configFor(dir: string, store: string): string {
  const config = join(dir, 'warden.yaml');
  writeFileSync(config, `transcripts: { store: ${JSON.stringify(store)} }\nconnections: {}\npolicies: []\n`);
  return config;
}

/**
 * The store's files and their bytes' digests. The -shm file is left out: it is SQLite's shared
 * wal-index (no data; any reader of a WAL database maps and updates it). A -wal the reader had to
 * open where none was is recorded as empty, as SQLite makes it (no record in it).
 */
function fingerprint(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const suffix of ['', '-wal', '-journal']) {
    if (!existsSync(path + suffix)) continue;
    const bytes = readFileSync(path + suffix);
    if (suffix === '-wal' && bytes.length === 0) continue;
    out[`w.db${suffix}`] = createHash('sha256').update(bytes).digest('hex');
  }
  return out;
}

/** Rows per table, read through a copy (reading the store itself is what is under test). */
function rowCounts(path: string, dir: string): Record<string, number> {
  const copy = join(dir, `count-${Date.now()}-${Math.random().toString(36).slice(2)}.db`);
  copyFileSync(path, copy);
  if (existsSync(`${path}-wal`)) copyFileSync(`${path}-wal`, `${copy}-wal`);
  const db = new Database(copy, { readonly: true });
  try {
    const tables = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '%text_index%' ORDER BY name`).all() as { name: string }[];
    return Object.fromEntries(tables.map((t) => [t.name, (db.prepare(`SELECT count(*) AS n FROM "${t.name}"`).get() as { n: number }).n]));
  } finally {
    db.close();
  }
}

// Four independent stores in their own temp folders: the tests run side by side (warden() gates the children).
describe('read-only SQLite transcript store', { concurrency: true }, () => {
  test('a read command on a missing SQLite store creates nothing and names the path', async (t) => {
    const dir = tempDir(t);
    const missing = join(dir, 'no-such-folder', 'warden.db');
    const config = configFor(dir, `sqlite:${missing}`);
    const before = readdirSync(dir).sort();
    await eachRead(async (args) => {
      const r = await warden(config, args);
      assert.equal(r.code, 1, `${args.join(' ')}: fails\n${r.err}`);
      assert.match(r.err, /WARDEN_TRANSCRIPT/, `${args.join(' ')}: a coded error`);
      assert.ok(r.err.includes(missing), `${args.join(' ')}: names the path\n${r.err}`);
      assert.match(r.err, /warden serve/, `${args.join(' ')}: says what creates a store`);
      assert.deepEqual(readdirSync(dir).sort(), before, `${args.join(' ')}: no file, no folder`);
    });
    assert.deepEqual(readdirSync(dir).sort(), before, 'every read done: no file, no folder');
  });

  test('read commands leave a store with a dead writer\'s WAL byte for byte (no checkpoint, recovery or expiry)', async (t) => {
    const dir = tempDir(t);
    const path = await crashedStore(dir);
    const config = configFor(dir, `sqlite:${path}`);
    const bytes = fingerprint(path);
    const rows = rowCounts(path, dir);
    await eachRead(async (args) => {
      const r = await warden(config, args);
      assert.equal(r.code, 0, `${args.join(' ')}\n${r.err}`);
      assert.deepEqual(fingerprint(path), bytes, `${args.join(' ')}: the store's and its WAL's bytes are unchanged`);
      assert.deepEqual(rowCounts(path, dir), rows, `${args.join(' ')}: row counts unchanged`);
    });
    assert.deepEqual(rowCounts(path, dir), rows, 'every read done: row counts unchanged');
    // What the reads showed: the whole chain (in the WAL), and the due request as expired without settling it.
    const [verified, all, due, open, shown] = await Promise.all([
      ['transcripts', 'verify'], ['approvals', 'list', '--json'], ['approvals', 'list', '--state', 'expired', '--json'],
      ['approvals', 'list', '--state', 'pending', '--json'], ['approvals', 'show', 'a-due', '--json'],
    ].map((args) => warden(config, args)));
    assert.match(verified!.out, /^transcript chain intact: 5 records/, 'the records in the WAL are read');
    const list = JSON.parse(all!.out) as { id: string; state: string }[];
    assert.deepEqual(list.map((a) => [a.id, a.state]).sort(), [['a-due', 'expired'], ['a-open', 'pending']]);
    const expired = JSON.parse(due!.out) as { id: string }[];
    assert.deepEqual(expired.map((a) => a.id), ['a-due'], '--state expired counts a request past its expiry');
    const pending = JSON.parse(open!.out) as { id: string }[];
    assert.deepEqual(pending.map((a) => a.id), ['a-open'], '--state pending leaves it out');
    assert.equal((JSON.parse(shown!.out) as { state: string }).state, 'expired');
    assert.deepEqual(fingerprint(path), bytes, 'still unchanged');
  });

  test('an older SQLite schema is refused by read commands ("migrate with `warden serve` first"), not migrated', async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'old.db');
    const db = new Database(path);
    db.pragma('journal_mode = WAL');
    migrate(db, 5);
    db.close();
    const config = configFor(dir, `sqlite:${path}`);
    const bytes = readFileSync(path);
    await eachRead(async (args) => {
      const r = await warden(config, args);
      assert.equal(r.code, 1, `${args.join(' ')}: refused\n${r.out}`);
      assert.match(r.err, /WARDEN_TRANSCRIPT_UNAVAILABLE/, `${args.join(' ')}: coded\n${r.err}`);
      assert.match(r.err, /schema version 5, older than the version \d+ this Warden reads: migrate with `warden serve` first/, `${args.join(' ')}\n${r.err}`);
      assert.ok(readFileSync(path).equals(bytes), `${args.join(' ')}: not migrated`);
    });
  });

  test('read commands work on a store on a read-only mount and on 0440 files read by another user', async (t) => {
    if (!isRoot()) return t.skip('needs root (a mount namespace, another user)');
    const dir = tempDir(t);
    chmodSync(dir, 0o755);
    const path = await crashedStore(dir);
    const config = configFor(dir, `sqlite:${path}`);
    chmodSync(config, 0o644);
    // The reads below all need the WAL: checkpoint it into a copy first would hide what a live store looks like,
    // so the WAL stays and the -shm beside it is the writer's (a store read while serve runs, or after it died).
    const bytes = fingerprint(path);
    const rows = rowCounts(path, dir);
    const unshare = findExecutable('unshare');
    const mounted = unshare !== null && spawnSync(unshare, ['-m', 'sh', '-c', `mount --bind -o ro ${JSON.stringify(join(dir, 'store'))} ${JSON.stringify(join(dir, 'store'))}`]).status === 0;
    if (mounted) {
      // A private mount namespace: the store's folder is read-only for this child alone (nothing to unmount).
      const ro = ['unshare', '-m', 'sh', '-c', `mount --bind -o ro "$0" "$0" && exec "$@"`, join(dir, 'store')];
      await eachRead(async (args) => {
        const r = await warden(config, args, ro);
        assert.equal(r.code, 0, `read-only mount: ${args.join(' ')}\n${r.err}`);
      });
      assert.deepEqual(fingerprint(path), bytes, 'read-only mount: bytes unchanged');
    } else t.diagnostic('no read-only bind mount here: the mount case did not run');
    const setpriv = findExecutable('setpriv');
    if (!setpriv) return t.skip('no setpriv: the other-user case did not run');
    // 0440 files of root's, group nogroup (65534), in a folder that user may read but not write.
    for (const f of readdirSync(join(dir, 'store'))) {
      chownSync(join(dir, 'store', f), 0, 65534);
      chmodSync(join(dir, 'store', f), 0o440);
    }
    chownSync(join(dir, 'store'), 0, 65534);
    chmodSync(join(dir, 'store'), 0o750);
    const nobody = [setpriv, '--reuid=65534', '--regid=65534', '--clear-groups', '--'];
    await eachRead(async (args) => {
      const r = await warden(config, args, nobody);
      assert.equal(r.code, 0, `0440 as uid 65534: ${args.join(' ')}\n${r.err}`);
    });
    assert.deepEqual(fingerprint(path), bytes, '0440: bytes unchanged');
    assert.deepEqual(rowCounts(path, dir), rows, '0440: row counts unchanged');
  });
});
