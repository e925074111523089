/**
 * Free text is indexed behind the hot path: recording a call leaves calls_fts alone, and the
 * catch-up (timer, search, purge, close) makes every recorded call searchable, once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import { TEXT_INDEX_DELAY_MS, withoutOwnFsync } from '../../src/recorder/sqlite-text-index.js';
import { intent, outcome, session, tempDir } from './fixtures.js';

const ftsRows = (db: Database.Database) => (db.prepare('SELECT COUNT(*) AS n FROM calls_fts').get() as { n: number }).n;

async function record(store: ReturnType<typeof openSqliteStore>, callId: string, sessionId: string, sql: string) {
  await store.recordIntent({ ...intent(callId, sessionId), args: { connection: 'analytics', sql } });
  await store.recordOutcome(callId, outcome());
}

test('a recorded call is not indexed on the hot path, and a search still finds it', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 't.db'));
  t.after(() => void store.close());
  await store.openSession(session('s1'));
  await record(store, 'c1', 's1', 'SELECT zebracorn FROM animals');
  assert.equal(ftsRows(store.db), 0, 'the intent commit did not touch the FTS index');
  const page = await store.searchSessions({ text: 'zebracorn' });
  assert.deepEqual(page.sessions.map((s) => s.id), ['s1']);
  assert.equal(ftsRows(store.db), 1);
  assert.deepEqual((await store.searchSessions({ text: 'zebracorn' })).sessions.map((s) => s.id), ['s1'], 'indexed once, found again');
  assert.equal(ftsRows(store.db), 1);
});

test('the catch-up runs by itself shortly after writes, and at close', async (t) => {
  const dir = tempDir(t);
  const store = openSqliteStore(join(dir, 't.db'));
  await store.openSession(session('s1'));
  await record(store, 'c1', 's1', 'SELECT 1');
  await new Promise((r) => setTimeout(r, TEXT_INDEX_DELAY_MS + 300));
  assert.equal(ftsRows(store.db), 1, 'indexed by the timer');
  await record(store, 'c2', 's1', 'SELECT okapiword');
  await store.close();
  const db = new Database(join(dir, 't.db'), { readonly: true });
  t.after(() => db.close());
  assert.equal(ftsRows(db), 2, 'indexed at close');
  const hit = db.prepare(`SELECT rowid FROM calls_fts WHERE calls_fts MATCH '"okapiword"'`).all() as { rowid: number }[];
  const seq = (db.prepare(`SELECT seq FROM calls WHERE id = 'c2'`).get() as { seq: number }).seq;
  assert.deepEqual(hit.map((h) => h.rowid), [seq], 'the index row points at the intent record');
});

test('purge removes index entries of calls not yet indexed, and later calls are indexed', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 't.db'));
  t.after(() => void store.close());
  await store.openSession(session('old', 'alice', '2026-01-01T00:00:00.000Z'));
  await store.recordIntent({ ...intent('c1', 'old', 'query_database', '2026-01-01T00:00:01.000Z'), args: { sql: 'SELECT gnuword' } });
  await store.recordOutcome('c1', { ...outcome(), endedAt: '2026-01-01T00:00:02.000Z' });
  await store.closeSession('old', '2026-01-01T00:00:03.000Z');
  const r = await store.purge('2026-06-01T00:00:00.000Z', '2026-11-27T00:00:00.000Z');
  assert.equal(r.calls, 1);
  assert.equal(ftsRows(store.db), 0, 'no index entry of the purged call is left');
  assert.deepEqual((await store.searchSessions({ text: 'gnuword' })).sessions, []);
  await store.openSession(session('new', 'alice', '2026-11-27T10:00:00.000Z'));
  await record(store, 'c2', 'new', 'SELECT gnuword');
  assert.deepEqual((await store.searchSessions({ text: 'gnuword' })).sessions.map((s) => s.id), ['new']);
  assert.deepEqual((await store.verify()).firstBroken, undefined);
});

test('a catch-up commits without its own fsync (synchronous NORMAL inside), and the store is back at FULL after it, even after a failure', async (t) => {
  const dir = tempDir(t);
  const db = new Database(join(dir, 'plain.db'));
  t.after(() => db.close());
  db.pragma('journal_mode = WAL');
  const level = () => Number(db.pragma('synchronous', { simple: true }));
  db.pragma('synchronous = FULL');
  assert.equal(withoutOwnFsync(db, level), 1, 'NORMAL while the catch-up runs');
  assert.equal(level(), 2, 'FULL again after');
  assert.throws(() => withoutOwnFsync(db, () => { throw new Error('disk full'); }), /disk full/);
  assert.equal(level(), 2, 'FULL again after a failed catch-up');
  db.pragma('synchronous = NORMAL');
  assert.equal(withoutOwnFsync(db, level), 1);
  assert.equal(level(), 1, 'a NORMAL store stays NORMAL');

  const store = openSqliteStore(join(dir, 't.db'));
  t.after(() => void store.close());
  await store.openSession(session('s1'));
  await record(store, 'c1', 's1', 'SELECT quokkaword');
  assert.deepEqual((await store.searchSessions({ text: 'quokkaword' })).sessions.map((s) => s.id), ['s1'], 'the catch-up before a search indexed it');
  assert.equal(Number(store.db.pragma('synchronous', { simple: true })), 2, 'the store writes its next outcome with FULL');
});
