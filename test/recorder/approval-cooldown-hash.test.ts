/**
 * The deny cooldown's hash of the call as it would run (cooldown_hash: SQLite v9, PostgreSQL v6):
 * stored with the request, recorded in its `requested` event and checked by verify; requests
 * stored before the column keep NULL and still cool the exact call (by call_hash).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { openPgStore, openSqliteStore, SCHEMA_VERSION, type ApprovalStore } from '../../src/recorder/index.js';
import { PG_SCHEMA_VERSION } from '../../src/recorder/pg-schema.js';
import { approvalRequest, tempDir, PG_UNDO_V7 } from './fixtures.js';

// Unexpired by any clock (PostgreSQL judges expiry by the database's).
const LATER = { expiresAt: '2099-01-01T00:00:00.000Z' };
const deny = (s: ApprovalStore, id: string) => s.decide(id, { reviewer: 'dora', decision: 'deny', comment: null, auth: 'oidc', at: '2026-11-28T10:05:00.000Z' }, () => undefined);

test('SQLite: the cooldown hash is stored, found by lastDenied and verified; a changed one breaks verify', async (t) => {
  const s = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void s.close());
  await s.approvals.create(approvalRequest('c1', undefined, { cooldownHash: 'loose-1' }));
  await deny(s.approvals, 'c1');
  assert.equal((await s.approvals.get('c1'))?.cooldownHash, 'loose-1');
  assert.equal((await s.approvals.lastDenied('ana', 'oidc', 'h-other', 'loose-1'))?.id, 'c1', 'by the cooldown hash');
  assert.equal((await s.approvals.lastDenied('ana', 'oidc', 'h-c1', 'loose-x'))?.id, 'c1', 'by the exact hash');
  assert.equal(await s.approvals.lastDenied('ana', 'oidc', 'h-other', 'loose-x'), null);
  assert.equal(await s.approvals.lastDenied('ana', 'stdio', 'h-other', 'loose-1'), null, 'another identity source');
  assert.equal((await s.verify()).ok, true);
  s.db.prepare(`UPDATE approvals SET cooldown_hash = 'loose-2' WHERE id = 'c1'`).run();
  const v = await s.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken?.reason ?? '', /approvals row "c1" differs from its records \(cooldown_hash\)/);
});

test('SQLite v9 migration: a v8 file gains the column, its requests have none and still cool the exact call, verify passes', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const first = openSqliteStore(path);
  await first.approvals.create(approvalRequest('old1'));
  await deny(first.approvals, 'old1');
  await first.close();
  const raw = new Database(path);
  raw.exec(`DROP INDEX approvals_cooldown; ALTER TABLE approvals DROP COLUMN cooldown_hash; DELETE FROM schema_version WHERE version >= 9;`);
  assert.equal((raw.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v, 8);
  raw.close();
  const s = openSqliteStore(path);
  t.after(() => void s.close());
  assert.equal(SCHEMA_VERSION, 17);
  assert.equal((s.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v, SCHEMA_VERSION);
  assert.equal((await s.approvals.get('old1'))?.cooldownHash, null);
  assert.equal((await s.approvals.lastDenied('ana', 'oidc', 'h-old1', 'loose-new'))?.id, 'old1', 'an old denial cools its exact call');
  assert.equal(await s.approvals.lastDenied('ana', 'oidc', 'h-new', 'h-old1'), null, 'NULL is not a wildcard');
  await s.approvals.create(approvalRequest('new1', undefined, { cooldownHash: 'loose-new' }));
  assert.equal((await s.approvals.get('new1'))?.cooldownHash, 'loose-new');
  assert.equal((await s.verify()).ok, true);
});

const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

test('PostgreSQL: the cooldown hash is stored and verified; the v6 migration gives older requests none', async () => {
  const db = await createTestDatabase({ prefix: 'apcool' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const s = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  await s.approvals.create(approvalRequest('pg-old', undefined, LATER));
  await deny(s.approvals, 'pg-old');
  await s.close();
  await db.query(`DROP INDEX approvals_cooldown; ALTER TABLE approvals DROP COLUMN cooldown_hash; DELETE FROM schema_version WHERE version >= 6; ${PG_UNDO_V7}`);
  const again = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  try {
    assert.equal(PG_SCHEMA_VERSION, 14);
    assert.equal(Number((await db.query('SELECT MAX(version) AS v FROM schema_version')).rows[0]?.v), PG_SCHEMA_VERSION);
    assert.equal((await again.approvals.get('pg-old'))?.cooldownHash, null);
    assert.equal((await again.approvals.lastDenied('ana', 'oidc', 'h-pg-old', 'loose-x'))?.id, 'pg-old');
    await again.approvals.create(approvalRequest('pg-new', undefined, { ...LATER, cooldownHash: 'loose-new' }));
    await deny(again.approvals, 'pg-new');
    assert.equal((await again.approvals.lastDenied('ana', 'oidc', 'h-other', 'loose-new'))?.id, 'pg-new');
    let v = await again.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    await db.query(`UPDATE approvals SET cooldown_hash = 'loose-forged' WHERE id = 'pg-new'`);
    v = await again.verify();
    assert.equal(v.ok, false);
    assert.match(v.firstBroken?.reason ?? '', /cooldown_hash/);
  } finally {
    await again.close();
  }
});
