/**
 * calls_session_outcome holds a call only once its outcome exists (schema v14): a call's intent
 * commit leaves the index alone, the session's records are still read through it (replay,
 * --follow, the session page), and a v13 store upgrades with its index rebuilt and verify passing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import { SCHEMA_VERSION } from '../../src/recorder/sqlite-schema.js';
import { intent, outcome, session, tempDir } from './fixtures.js';
import { AS_V13 } from './signed-head-row.js';

const indexed = (db: Database.Database) => db.prepare('SELECT count(*) FROM calls INDEXED BY calls_session_outcome WHERE outcome_seq IS NOT NULL').pluck().get() as number;
const indexSql = (db: Database.Database) => db.prepare(`SELECT sql FROM sqlite_master WHERE name = 'calls_session_outcome'`).pluck().get() as string;

async function twoCalls(store: ReturnType<typeof openSqliteStore>) {
  await store.openSession(session('s1'));
  await store.recordIntent(intent('done', 's1'));
  await store.recordOutcome('done', outcome());
  await store.recordIntent(intent('running', 's1', 'query_database', '2026-11-27T10:00:02.000Z'));
}

test('a call is in calls_session_outcome only once its outcome is recorded, and the session\'s records are read through it', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void store.close());
  await twoCalls(store);
  assert.match(indexSql(store.db), /WHERE outcome_seq IS NOT NULL/);
  assert.equal(indexed(store.db), 1, 'the running call (intent only) is not in the index');
  const kinds = (await store.sessionRecords!('s1', 0, 100)).map((r) => `${r.kind}:${r.refId}`);
  assert.deepEqual(kinds, ['session_open:s1', 'call_intent:done', 'call_outcome:done', 'call_intent:running']);
  await store.recordOutcome('running', outcome('2026-11-27T10:00:03.000Z'));
  assert.equal(indexed(store.db), 2);
  const after = (await store.sessionRecords!('s1', 3, 100)).map((r) => `${r.kind}:${r.refId}`);
  assert.deepEqual(after, ['call_intent:running', 'call_outcome:running'], 'read by its seqs after the page before');
  // The plans the readers use (session-records-sql.ts, sqlite-search.ts) still seek the index.
  const plan = (sql: string) => (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all({ id: 's1', after: 0 }) as { detail: string }[]).map((r) => r.detail).join('; ');
  assert.match(plan('SELECT outcome_seq FROM calls WHERE session_id = @id AND outcome_seq > @after ORDER BY outcome_seq'), /calls_session_outcome/);
  assert.match(plan('SELECT MAX(outcome_seq) FROM calls WHERE session_id = @id AND outcome_seq IS NOT NULL'), /calls_session_outcome/);
});

test('a v13 store upgrades to v14: the index is rebuilt partial, its calls and verify intact', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const first = openSqliteStore(path);
  await twoCalls(first);
  await first.close();
  const raw = new Database(path);
  raw.exec(AS_V13);
  assert.doesNotMatch(indexSql(raw), /WHERE/);
  assert.equal(raw.prepare('SELECT count(*) FROM calls INDEXED BY calls_session_outcome').pluck().get(), 2, 'v13 indexed the running call too');
  raw.close();
  const up = openSqliteStore(path);
  t.after(() => void up.close());
  assert.equal(up.db.prepare('SELECT MAX(version) FROM schema_version').pluck().get(), SCHEMA_VERSION);
  assert.match(indexSql(up.db), /WHERE outcome_seq IS NOT NULL/);
  assert.equal(indexed(up.db), 1);
  const v = await up.verify();
  assert.equal(v.ok, true, JSON.stringify(v));
  await up.recordOutcome('running', outcome('2026-11-27T10:00:03.000Z'));
  assert.equal(indexed(up.db), 2);
  assert.equal((await up.verify()).ok, true);
});
