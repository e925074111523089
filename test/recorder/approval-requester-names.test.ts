/**
 * The requester's person names on approval requests (approvals/subjects.ts requesterNames):
 * stored (SQLite v15, PostgreSQL v12), recorded in the `requested` event, checked by verify; a
 * store from before the column migrates to NULL (no names: the subject and chain only, as before).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { openPgStore, openSqliteStore, SCHEMA_VERSION } from '../../src/recorder/index.js';
import { PG_SCHEMA_VERSION } from '../../src/recorder/pg-schema.js';
import { approvalRequest, tempDir } from './fixtures.js';
import { AS_V14 } from './signed-head-row.js';

test('SQLite: the names are stored, in the requested record and verified; a changed name breaks verify', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const s = openSqliteStore(path);
  t.after(() => void s.close());
  await s.approvals.create(approvalRequest('n1', undefined, { requester: '00u1abc', requesterNames: ['sam@corp.example'] }));
  await s.approvals.create(approvalRequest('n2', undefined, { requester: 'bob', callHash: 'h-n2' }));
  assert.deepEqual((await s.approvals.get('n1'))?.requesterNames, ['sam@corp.example']);
  assert.deepEqual((await s.approvals.get('n2'))?.requesterNames, []);
  const body = JSON.parse(String(s.db.prepare(`SELECT body FROM records WHERE kind = 'approval_event' AND ref_id = 'n1'`).pluck().get())) as Record<string, unknown>;
  assert.deepEqual(body.requesterNames, ['sam@corp.example']);
  assert.equal((await s.verify()).ok, true);
  s.db.prepare(`UPDATE approvals SET requester_names = ? WHERE id = 'n1'`).run(JSON.stringify(['kim@corp.example']));
  const v = await s.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken?.reason ?? '', /approvals row "n1" differs from its records \(requester_names\)/);
});

test('SQLite v15 migration: an older file gains the column, its requests have no names, verify passes', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const first = openSqliteStore(path);
  await first.approvals.create(approvalRequest('old1'));
  await first.close();
  const raw = new Database(path);
  raw.exec(AS_V14);
  raw.close();
  const s = openSqliteStore(path);
  t.after(() => void s.close());
  assert.equal(SCHEMA_VERSION, 17);
  assert.equal((s.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v, SCHEMA_VERSION);
  assert.equal(s.db.prepare(`SELECT requester_names FROM approvals WHERE id = 'old1'`).pluck().get(), null);
  assert.deepEqual((await s.approvals.get('old1'))?.requesterNames, []);
  assert.equal((await s.verify()).ok, true);
});

const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

test('PostgreSQL: the names are stored and verified; the v12 migration gives older requests none', async () => {
  const db = await createTestDatabase({ prefix: 'apnames' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const s = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  await s.approvals.create(approvalRequest('pg-old'));
  await s.close();
  await db.query(`ALTER TABLE approvals DROP COLUMN requester_names; DELETE FROM schema_version WHERE version >= 12;`);
  const again = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  try {
    assert.equal(PG_SCHEMA_VERSION, 14);
    assert.equal(Number((await db.query('SELECT MAX(version) AS v FROM schema_version')).rows[0]?.v), PG_SCHEMA_VERSION);
    assert.deepEqual((await again.approvals.get('pg-old'))?.requesterNames, []);
    await again.approvals.create(approvalRequest('pg-new', undefined, { requester: '00u1abc', requesterNames: ['sam@corp.example'], callHash: 'h-new' }));
    assert.deepEqual((await again.approvals.get('pg-new'))?.requesterNames, ['sam@corp.example']);
    let v = await again.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    await db.query(`UPDATE approvals SET requester_names = NULL WHERE id = 'pg-new'`);
    v = await again.verify();
    assert.equal(v.ok, false);
    assert.match(v.firstBroken?.reason ?? '', /approvals row "pg-new" differs from its records \(requester_names\)/);
  } finally {
    await again.close();
  }
});
