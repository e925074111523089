/**
 * Retention erases: after `purge`, the text of the purged calls (arguments, results, the words
 * of the free-text index) is gone from the SQLite store's files, not only from its tables.
 * SQLite leaves deleted cells and freed pages as they were (and the WAL keeps the pages as they
 * were before), so a purged call's arguments and result stayed readable in the file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import { intent, outcome, session, tempDir } from './fixtures.js';

const OLD_ARG = 'quokkapurgedargument';
const OLD_RESULT = 'wombatpurgedresult';
const OLD_COMMENT = 'dingopurgedclient';
const KEPT = 'keptnumbatword';

/** The store's files (database and WAL) whose bytes hold `needle`. */
function filesHolding(path: string, needle: string): string[] {
  return [path, `${path}-wal`].filter((f) => existsSync(f) && readFileSync(f).includes(Buffer.from(needle, 'utf8')));
}

async function storeWithOldAndNew(path: string) {
  const store = openSqliteStore(path);
  await store.openSession({ ...session('old', 'alice', '2026-01-01T00:00:00.000Z'), client: { name: OLD_COMMENT, version: '1' } });
  await store.recordIntent({ ...intent('c1', 'old', 'query_database', '2026-01-01T00:00:01.000Z'), args: { sql: `SELECT ${OLD_ARG}` } });
  await store.recordOutcome('c1', { ...outcome('2026-01-01T00:00:02.000Z'), result: { rows: [[OLD_RESULT]] } });
  await store.closeSession('old', '2026-01-01T00:00:03.000Z');
  assert.equal((await store.searchSessions({ text: OLD_ARG })).sessions.length, 1, 'the old call is in the free-text index');
  await store.openSession(session('new', 'alice', '2026-11-27T10:00:00.000Z'));
  await store.recordIntent({ ...intent('c2', 'new'), args: { sql: `SELECT ${KEPT}` } });
  await store.recordOutcome('c2', outcome());
  return store;
}

test('purge erases the purged calls arguments, result and index words from the database file and the WAL', async (t) => {
  const path = join(tempDir(t), 't.db');
  const store = await storeWithOldAndNew(path);
  t.after(() => void store.close());
  const r = await store.purge('2026-06-01T00:00:00.000Z', '2026-11-27T11:00:00.000Z');
  assert.equal(r.calls, 1);
  assert.equal(r.erased, undefined, 'erased: no reader held the WAL');
  for (const secret of [OLD_ARG, OLD_RESULT, OLD_COMMENT]) assert.deepEqual(filesHolding(path, secret), [], `${secret} is gone from the files after purge`);
  await store.close();
  for (const secret of [OLD_ARG, OLD_RESULT, OLD_COMMENT]) assert.deepEqual(filesHolding(path, secret), [], `${secret} is gone from the files after close`);
});

test('the session a purge keeps stays whole: searchable, shown and verifiable, and new calls are indexed', async (t) => {
  const path = join(tempDir(t), 't.db');
  const store = await storeWithOldAndNew(path);
  t.after(() => void store.close());
  await store.purge('2026-06-01T00:00:00.000Z', '2026-11-27T11:00:00.000Z');
  assert.deepEqual((await store.searchSessions({ text: KEPT })).sessions.map((s) => s.id), ['new']);
  assert.deepEqual((await store.searchSessions({ text: OLD_ARG })).sessions, []);
  assert.deepEqual(((await store.getSession('new'))?.calls[0]?.args as { sql?: string } | undefined)?.sql, `SELECT ${KEPT}`);
  await store.recordIntent({ ...intent('c3', 'new', 'query_database', '2026-11-27T10:00:05.000Z'), args: { sql: 'SELECT laterword' } });
  await store.recordOutcome('c3', outcome('2026-11-27T10:00:06.000Z'));
  assert.deepEqual((await store.searchSessions({ text: 'laterword' })).sessions.map((s) => s.id), ['new']);
  assert.equal((await store.verify()).firstBroken, undefined);
  assert.equal(Number(store.db.pragma('secure_delete', { simple: true })), 0, 'secure_delete is back off for the calls that follow');
});

test('a purge while another connection reads says the WAL could not be emptied yet (erased: false), and the next checkpoint erases it', async (t) => {
  const path = join(tempDir(t), 't.db');
  const first = await storeWithOldAndNew(path);
  await first.close();
  const store = openSqliteStore(path, { busyTimeoutMs: 50 });
  t.after(() => void store.close());
  const reader = new Database(path, { readonly: true });
  t.after(() => void (reader.open && reader.close()));
  reader.exec('BEGIN');
  reader.prepare('SELECT COUNT(*) FROM records').get(); // holds a snapshot: the WAL cannot be emptied
  const r = await store.purge('2026-06-01T00:00:00.000Z', '2026-11-27T11:00:00.000Z');
  assert.equal(r.calls, 1);
  assert.equal(r.erased, false);
  reader.exec('COMMIT');
  reader.close();
  await store.close();
  for (const secret of [OLD_ARG, OLD_RESULT]) assert.deepEqual(filesHolding(path, secret), [], `${secret} is gone once the store closed (its checkpoint)`);
});
