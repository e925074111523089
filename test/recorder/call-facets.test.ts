/**
 * Session filters (tool, connection, decision) probe call_facets: one row per distinct
 * combination in a session, written with the intent, removed with a purge, built by the v6
 * migration from the calls of an older file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { intent, outcome, session, tempDir } from './fixtures.js';

async function seed(store: SqliteTranscriptStore): Promise<void> {
  await store.openSession(session('s1', 'alice', '2026-11-27T10:00:00.000Z'));
  await store.openSession(session('s2', 'bob', '2026-11-27T11:00:00.000Z'));
  const call = async (id: string, sid: string, tool: string, connection: string | null, decision: 'allow' | 'deny') => {
    await store.recordIntent({ ...intent(id, sid, tool), connection, decision });
    await store.recordOutcome(id, outcome());
  };
  await call('c1', 's1', 'query_database', 'shop', 'allow');
  await call('c2', 's1', 'query_database', 'shop', 'allow');
  await call('c3', 's1', 'list_connections', null, 'deny');
  await call('c4', 's2', 'list_connections', 'web', 'allow');
}

async function ids(store: SqliteTranscriptStore, f: Record<string, string>): Promise<string[]> {
  return (await store.searchSessions(f)).sessions.map((s) => s.id).sort();
}

async function checkFilters(store: SqliteTranscriptStore): Promise<void> {
  assert.deepEqual(await ids(store, { tool: 'list_connections', decision: 'deny' }), ['s1'], 'tool and decision of the same call');
  assert.deepEqual(await ids(store, { tool: 'list_connections', decision: 'allow' }), ['s2']);
  assert.deepEqual(await ids(store, { tool: 'query_database', decision: 'deny' }), [], 'not two different calls');
  assert.deepEqual(await ids(store, { connection: 'web' }), ['s2']);
  assert.deepEqual(await ids(store, { decision: 'allow' }), ['s1', 's2']);
  assert.deepEqual((await store.listSessions({ tool: 'query_database' })).map((s) => s.id), ['s1']);
}

test('one facet row per distinct combination; the filters match calls, not sessions', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void store.close());
  await seed(store);
  const rows = store.db.prepare('SELECT session_id, tool, connection, decision FROM call_facets ORDER BY 1, 2').all();
  assert.deepEqual(rows, [
    { session_id: 's1', tool: 'list_connections', connection: '', decision: 'deny' },
    { session_id: 's1', tool: 'query_database', connection: 'shop', decision: 'allow' },
    { session_id: 's2', tool: 'list_connections', connection: 'web', decision: 'allow' },
  ]);
  await checkFilters(store);
});

test('the v6 migration builds the facets of an older file and drops the four call indexes', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const first = openSqliteStore(path);
  await seed(first);
  await first.close();
  // Back to the v5 shape: no facets, the four indexes on calls (and no later migration).
  const raw = new Database(path);
  raw.exec(`DROP TABLE call_facets; DELETE FROM schema_version WHERE version >= 6;
    DROP INDEX approvals_combination; ALTER TABLE approvals DROP COLUMN combination_id; ALTER TABLE approvals DROP COLUMN requester_actors;
    DROP INDEX approvals_cooldown; ALTER TABLE approvals DROP COLUMN cooldown_hash;
    CREATE INDEX calls_session_tool ON calls (session_id, tool); CREATE INDEX calls_tool_session ON calls (tool, session_id);
    CREATE INDEX calls_connection_session ON calls (connection, session_id); CREATE INDEX calls_decision_session ON calls (decision, session_id);`);
  raw.close();
  const store = openSqliteStore(path);
  t.after(() => void store.close());
  assert.equal((store.db.prepare('SELECT COUNT(*) AS n FROM call_facets').get() as { n: number }).n, 3);
  const left = store.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'calls_%_session' OR name = 'calls_session_tool'`).all();
  assert.deepEqual(left, []);
  await checkFilters(store);
  assert.equal((await store.verify()).ok, true);
});

test('a purge removes the facets of the sessions it removes', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void store.close());
  await store.openSession(session('s1', 'alice', '2026-11-27T10:00:00.000Z'));
  await store.recordIntent({ ...intent('c1', 's1'), decision: 'allow' });
  await store.recordOutcome('c1', outcome());
  await store.closeSession('s1', '2026-11-27T10:30:00.000Z');
  await store.openSession(session('s2', 'bob', '2026-11-27T11:00:00.000Z'));
  await store.recordIntent({ ...intent('c2', 's2', 'query_database', '2026-11-27T11:00:01.000Z'), decision: 'allow' });
  const r = await store.purge('2026-11-27T10:45:00.000Z', '2026-11-27T12:00:00.000Z');
  assert.equal(r.sessions, 1);
  assert.deepEqual(store.db.prepare('SELECT DISTINCT session_id FROM call_facets').all(), [{ session_id: 's2' }]);
  assert.deepEqual(await ids(store, { decision: 'allow' }), ['s2']);
  assert.equal((await store.verify()).ok, true, 'the facets left match the calls left');
});

test('verify checks call_facets against the recorded intents, a call with no connection included', async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void store.close());
  await seed(store);
  assert.equal((await store.verify()).ok, true);
  const c3 = (store.db.prepare(`SELECT seq FROM calls WHERE id = 'c3'`).get() as { seq: number }).seq;
  store.db.prepare(`DELETE FROM call_facets WHERE session_id = 's1' AND tool = 'list_connections'`).run();
  const v = await store.verify();
  assert.equal(v.ok, false);
  assert.equal(v.firstBroken?.seq, c3);
  assert.match(v.firstBroken?.reason ?? '', /lacks session s1 \/ tool list_connections \/ connection \(none\) \/ decision deny/);
  // The same combination under another connection is not the same facet.
  store.db.prepare(`INSERT INTO call_facets (session_id, tool, connection, decision) VALUES ('s1', 'list_connections', 'shop', 'deny')`).run();
  assert.match((await store.verify()).firstBroken?.reason ?? '', /lists session s1 \/ tool list_connections \/ connection shop/);
});
