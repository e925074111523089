/**
 * The approving rule's hash (approvals/rule-terms.ts): stored in approvals.rule_hash (SQLite v17,
 * PostgreSQL v14), recorded in the `requested` event, checked by verify; a store from before the
 * column migrates to NULL (no call takes such a request up: approvals/rule-terms.ts); a stored hash
 * that is not the live rule's is stale.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { openPgStore, openSqliteStore, SCHEMA_VERSION } from '../../src/recorder/index.js';
import { PG_SCHEMA_VERSION } from '../../src/recorder/pg-schema.js';
import { ruleChanged } from '../../src/approvals/live-terms.js';
import type { CompiledPolicy } from '../../src/policy/types.js';
import { approvalRequest, tempDir } from './fixtures.js';
import { AS_V16 } from './signed-head-row.js';

const HASH = `sha256:${'a'.repeat(64)}`;
const LATER = '2099-01-01T00:00:00.000Z';
const live = { rules: [{ id: 'fixes', effect: 'allow', approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 60_000, wait: 0 }, blocks: {} }] } as unknown as CompiledPolicy;

test('SQLite: the rule hash is stored and recorded, verify checks it; the v17 migration gives older requests none, and they are stale', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const first = openSqliteStore(path);
  await first.approvals.create(approvalRequest('old1'));
  await first.close();
  const raw = new Database(path);
  raw.exec(AS_V16);
  raw.close();
  const s = openSqliteStore(path);
  t.after(() => void s.close());
  assert.equal(SCHEMA_VERSION, 17);
  assert.equal((s.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v, SCHEMA_VERSION);
  const old = await s.approvals.get('old1');
  assert.equal(old?.ruleHash, null);
  assert.equal(ruleChanged(old!, live), null, 'no hash: judged by its terms as before (no call takes it up)');
  assert.match(ruleChanged({ ...old!, ruleHash: `sha256:${'c'.repeat(64)}` }, live) ?? '', /rule fixes changed since request/);
  await s.approvals.create(approvalRequest('new1', undefined, { ruleHash: HASH, callHash: 'h-new' }));
  assert.equal((await s.approvals.get('new1'))?.ruleHash, HASH);
  const body = JSON.parse(String(s.db.prepare(`SELECT body FROM records WHERE kind = 'approval_event' AND ref_id = 'new1'`).pluck().get())) as Record<string, unknown>;
  assert.equal(body.ruleHash, HASH);
  assert.equal((await s.verify()).ok, true);
  s.db.prepare(`UPDATE approvals SET rule_hash = ? WHERE id = 'new1'`).run(`sha256:${'b'.repeat(64)}`);
  const v = await s.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken?.reason ?? '', /differs from its records \(rule_hash\)/);
});

const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

test('PostgreSQL: the same; the v14 migration gives older requests none', async () => {
  const db = await createTestDatabase({ prefix: 'rulehash' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const s = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  await s.approvals.create(approvalRequest('pg-old', undefined, { expiresAt: LATER }));
  await s.close();
  await db.query(`ALTER TABLE approvals DROP COLUMN rule_hash; DELETE FROM schema_version WHERE version >= 14;`);
  const again = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  try {
    assert.equal(PG_SCHEMA_VERSION, 14);
    assert.equal(Number((await db.query('SELECT MAX(version) AS v FROM schema_version')).rows[0]?.v), PG_SCHEMA_VERSION);
    assert.equal((await again.approvals.get('pg-old'))?.ruleHash, null);
    await again.approvals.create(approvalRequest('pg-new', undefined, { ruleHash: HASH, callHash: 'h-new', expiresAt: LATER }));
    assert.equal((await again.approvals.get('pg-new'))?.ruleHash, HASH);
    let v = await again.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    await db.query(`UPDATE approvals SET rule_hash = NULL WHERE id = 'pg-new'`);
    v = await again.verify();
    assert.equal(v.ok, false);
    assert.match(v.firstBroken?.reason ?? '', /differs from its records \(rule_hash\)/);
  } finally {
    await again.close();
  }
});
