/**
 * The requester's delegation (actor) chain on approval requests: stored (SQLite v8, PostgreSQL
 * v5), recorded in the `requested` event, checked by verify, and older stores migrate to [].
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { openPgStore, openSqliteStore, SCHEMA_VERSION } from '../../src/recorder/index.js';
import { PG_SCHEMA_VERSION } from '../../src/recorder/pg-schema.js';
import { approvalRequest, tempDir, PG_UNDO_V7 } from './fixtures.js';

test('SQLite: the actor chain is stored and verified; a changed chain breaks verify', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const s = openSqliteStore(path);
  t.after(() => void s.close());
  await s.approvals.create(approvalRequest('a1', undefined, { requester: 'alice', requesterActors: ['agent-x', 'broker'] }));
  await s.approvals.create(approvalRequest('a2', undefined, { requester: 'bob', callHash: 'h-a2' }));
  assert.deepEqual((await s.approvals.get('a1'))?.requesterActors, ['agent-x', 'broker']);
  assert.deepEqual((await s.approvals.get('a2'))?.requesterActors, []);
  // list() narrows by the exact chain ([] is a principal acting directly) before its limit.
  assert.deepEqual((await s.approvals.list({ requesterActors: ['agent-x', 'broker'] })).map((r) => r.id), ['a1']);
  assert.deepEqual((await s.approvals.list({ requesterActors: [] })).map((r) => r.id), ['a2']);
  assert.deepEqual((await s.approvals.list({ requesterActors: ['agent-x'] })).map((r) => r.id), []);
  assert.equal((await s.verify()).ok, true);
  // The row says only agent-x acted: the records say otherwise.
  s.db.prepare(`UPDATE approvals SET requester_actors = ? WHERE id = 'a1'`).run(JSON.stringify(['agent-x']));
  const v = await s.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken?.reason ?? '', /approvals row "a1" differs from its records \(requester_actors\)/);
});

test('SQLite v8 migration: an older file gains the actors column, its requests have none, verify passes', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const first = openSqliteStore(path);
  await first.approvals.create(approvalRequest('old1'));
  await first.close();
  const raw = new Database(path);
  raw.exec(`ALTER TABLE approvals DROP COLUMN requester_actors; DROP INDEX approvals_cooldown; ALTER TABLE approvals DROP COLUMN cooldown_hash; DELETE FROM schema_version WHERE version >= 8;`);
  raw.close();
  const s = openSqliteStore(path);
  t.after(() => void s.close());
  assert.equal((s.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v, SCHEMA_VERSION);
  assert.deepEqual((await s.approvals.get('old1'))?.requesterActors, []);
  assert.equal((await s.verify()).ok, true);
});

const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

test('PostgreSQL: the chain is stored and verified; the v5 migration gives older requests none', async () => {
  const db = await createTestDatabase({ prefix: 'apactors' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const s = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  await s.approvals.create(approvalRequest('pg-old'));
  await s.close();
  await db.query(`ALTER TABLE approvals DROP COLUMN requester_actors; DROP INDEX approvals_cooldown; ALTER TABLE approvals DROP COLUMN cooldown_hash; DELETE FROM schema_version WHERE version >= 5; ${PG_UNDO_V7}`);
  const again = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  try {
    assert.equal(Number((await db.query('SELECT MAX(version) AS v FROM schema_version')).rows[0]?.v), PG_SCHEMA_VERSION);
    assert.deepEqual((await again.approvals.get('pg-old'))?.requesterActors, []);
    await again.approvals.create(approvalRequest('pg-new', undefined, { requester: 'alice', requesterActors: ['agent-x'], callHash: 'h-new' }));
    assert.deepEqual((await again.approvals.get('pg-new'))?.requesterActors, ['agent-x']);
    // list() narrows by the exact chain; a request from before the column matches an empty one.
    assert.deepEqual((await again.approvals.list({ requesterActors: ['agent-x'] })).map((r) => r.id), ['pg-new']);
    assert.deepEqual((await again.approvals.list({ requesterActors: [] })).map((r) => r.id), ['pg-old']);
    assert.deepEqual((await again.approvals.list({ requester: 'alice', requesterAuth: 'stdio', requesterActors: ['agent-x'] })).map((r) => r.id), []);
    const v = await again.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  } finally {
    await again.close();
  }
});
