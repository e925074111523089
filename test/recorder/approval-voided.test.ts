/**
 * The `voided` approval state (SQLite v10, PostgreSQL v9): a request whose waiting call a policy
 * reload refused (approvals/gate.ts, confirm.ts) ends voided, with the refusal as its reason
 * (`voided_reason`, and the `voided` approval_event). Both stores alike: a voided request is
 * never used, decided or taken up again, its reason survives a reopen, and verify checks it.
 * Older files and databases gain the state by migration, their rows and decisions intact.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { openPgStore, openSqliteStore, SCHEMA_VERSION, type ApprovalStore } from '../../src/recorder/index.js';
import { PG_SCHEMA_VERSION } from '../../src/recorder/pg-schema.js';
import { approvalRequest, tempDir } from './fixtures.js';

// Unexpired by any clock (PostgreSQL judges expiry by the database's).
const LATER = { expiresAt: '2099-01-01T00:00:00.000Z' };
const AT = '2026-11-28T10:05:00.000Z';
const REASON = { code: 'WARDEN_DENIED', message: 'the policy was reloaded (version 2) while the call waited for approval, and now denies it: freeze', ruleIds: ['freeze'] };
const approve = (s: ApprovalStore, id: string) => s.decide(id, { reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc', at: AT }, () => undefined);

/** What both stores must do with voided requests (`s` holds none yet). */
async function voidedBehaviour(s: ApprovalStore): Promise<void> {
  await s.create(approvalRequest('v1', undefined, LATER));
  await s.create(approvalRequest('v2', undefined, { ...LATER, callHash: 'h-v1' }));
  await s.create(approvalRequest('u1', undefined, LATER));
  await approve(s, 'v1');
  await approve(s, 'u1');
  assert.equal(await s.consume('u1', 'call-u1', AT), true);
  const decidedAt = (await s.get('v1'))!.decidedAt;
  // v1 approved and v2 pending are voided; u1 (used) and a missing id are left alone.
  assert.deepEqual((await s.voidAll(['v1', 'v2', 'u1', 'nope'], REASON, AT)).map((v) => v.id).sort(), ['v1', 'v2']);
  const v1 = (await s.get('v1'))!;
  assert.equal(v1.state, 'voided');
  assert.deepEqual(v1.voided, REASON);
  assert.equal(v1.decidedAt, decidedAt, 'decided_at stays the approval time');
  assert.equal((await s.get('v2'))!.state, 'voided');
  assert.equal((await s.get('u1'))!.state, 'used');
  assert.equal((await s.get('u1'))!.voided, null);
  // Never used, decided, taken up again or voided twice.
  assert.equal(await s.consume('v1', 'call-v1', AT), false);
  const all = await s.consumeAll(['v1'], { callId: 'call-v1', callHash: 'h-v1', requester: 'ana' }, AT);
  assert.equal(all.used, false);
  assert.match((all as { reason: string }).reason, /voided/);
  assert.deepEqual(await s.openFor('ana', 'h-v1', AT), []);
  await assert.rejects(s.decide('v2', { reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc', at: AT }, () => undefined), /already voided/);
  assert.deepEqual(await s.voidAll(['v1'], { ...REASON, message: 'again' }, AT), []);
  assert.equal((await s.get('v1'))!.voided?.message, REASON.message);
  // Listed by state; not a reviewer's denial (no deny cooldown).
  assert.deepEqual((await s.list({ state: 'voided' })).map((r) => r.id).filter((id) => /^[vu]\d$/.test(id)).sort(), ['v1', 'v2']);
  assert.equal(await s.lastDenied('ana', 'oidc', 'h-v1'), null);
}

test('SQLite: a voided request keeps its reason, is never used again, and verify checks it', async (t) => {
  const s = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void s.close());
  await voidedBehaviour(s.approvals);
  assert.equal((await s.verify()).ok, true);
  s.db.prepare(`UPDATE approvals SET voided_reason = '{"code":"WARDEN_DENIED","message":"forged","ruleIds":[]}' WHERE id = 'v1'`).run();
  let v = await s.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken?.reason ?? '', /approvals row "v1" differs from its records \(voided_reason\)/);
  s.db.prepare(`UPDATE approvals SET voided_reason = ?, state = 'approved' WHERE id = 'v1'`).run(JSON.stringify(REASON));
  v = await s.verify();
  assert.equal(v.ok, false, 'a voided request set back to approved');
  assert.match(v.firstBroken?.reason ?? '', /approvals row "v1" differs from its records \(state\)/);
});

/** The approvals table as SQLite schema v9 had it (before `voided`). */
const SQLITE_V9_APPROVALS = `
  CREATE TABLE approvals_v9 (
    id TEXT PRIMARY KEY, state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'used')),
    requester TEXT NOT NULL, requester_groups TEXT NOT NULL, requester_auth TEXT NOT NULL, tool TEXT NOT NULL, connection TEXT,
    canonical_call TEXT NOT NULL, call_hash TEXT NOT NULL, summary TEXT NOT NULL, rule_ids TEXT NOT NULL, approval_rule TEXT NOT NULL,
    approvals_required INTEGER NOT NULL, reviewers TEXT NOT NULL, confirm TEXT, call_id TEXT, session_id TEXT, used_by_call TEXT,
    created_at TEXT NOT NULL, expires_at TEXT NOT NULL, decided_at TEXT, used_at TEXT, seq INTEGER NOT NULL,
    combination_id TEXT, requester_actors TEXT, cooldown_hash TEXT);
  INSERT INTO approvals_v9 SELECT id, state, requester, requester_groups, requester_auth, tool, connection, canonical_call, call_hash, summary, rule_ids,
    approval_rule, approvals_required, reviewers, confirm, call_id, session_id, used_by_call, created_at, expires_at, decided_at, used_at, seq,
    combination_id, requester_actors, cooldown_hash FROM approvals;
  DROP TABLE approvals;
  ALTER TABLE approvals_v9 RENAME TO approvals;
  CREATE INDEX approvals_lookup ON approvals (requester, call_hash, state);
  CREATE INDEX approvals_state ON approvals (state, created_at);
  CREATE INDEX approvals_combination ON approvals (combination_id) WHERE combination_id IS NOT NULL;
  CREATE INDEX approvals_cooldown ON approvals (requester, cooldown_hash, state);
  DELETE FROM schema_version WHERE version >= 10;
`;

test('SQLite v10 migration: a v9 file gains the voided state and reason, its rows, decisions and foreign key intact', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const first = openSqliteStore(path);
  await first.approvals.create(approvalRequest('old1', undefined, LATER));
  await approve(first.approvals, 'old1');
  await first.approvals.create(approvalRequest('old2', undefined, LATER));
  await first.close();
  const raw = new Database(path);
  raw.pragma('foreign_keys = OFF');
  raw.exec(SQLITE_V9_APPROVALS);
  assert.equal((raw.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v, 9);
  assert.throws(() => raw.prepare(`UPDATE approvals SET state = 'voided' WHERE id = 'old2'`).run(), /CHECK constraint/);
  raw.close();
  const s = openSqliteStore(path);
  t.after(() => void s.close());
  assert.equal(SCHEMA_VERSION, 17);
  assert.equal((s.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v, SCHEMA_VERSION);
  const old1 = (await s.approvals.get('old1'))!;
  assert.equal(old1.state, 'approved');
  assert.equal(old1.voided, null);
  assert.deepEqual(old1.decisions.map((d) => [d.reviewer, d.decision]), [['dora', 'approve']]);
  assert.deepEqual((await s.approvals.voidAll(['old1', 'old2'], REASON, AT)).map((v) => v.id), ['old1', 'old2']);
  assert.deepEqual((await s.approvals.get('old2'))!.voided, REASON);
  // The decisions still reference approvals (the rebuilt table), and the indexes are back.
  assert.deepEqual(s.db.prepare('PRAGMA foreign_key_check').all(), []);
  assert.throws(
    () => s.db.prepare(`INSERT INTO approval_decisions (approval_id, reviewer, decision, comment, at, auth, seq) VALUES ('missing', 'x', 'approve', NULL, ?, 'local', 1)`).run(AT),
    /FOREIGN KEY/,
  );
  const indexes = (s.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'approvals' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
  assert.deepEqual(indexes, ['approvals_combination', 'approvals_cooldown', 'approvals_lookup', 'approvals_pending', 'approvals_session', 'approvals_state']);
  const v = await s.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
});

const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

test('PostgreSQL: voided requests as in SQLite; the v9 migration adds the state and reason to an older database', async () => {
  const db = await createTestDatabase({ prefix: 'apvoid' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const s = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  await s.approvals.create(approvalRequest('pg-old', undefined, LATER));
  await approve(s.approvals, 'pg-old');
  await s.close();
  await db.query(`ALTER TABLE approvals DROP COLUMN voided_reason; ALTER TABLE approvals DROP CONSTRAINT approvals_state_check;
    ALTER TABLE approvals ADD CONSTRAINT approvals_state_check CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'used'));
    DELETE FROM schema_version WHERE version >= 9;`);
  const again = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  try {
    assert.equal(PG_SCHEMA_VERSION, 14);
    assert.equal(Number((await db.query('SELECT MAX(version) AS v FROM schema_version')).rows[0]?.v), PG_SCHEMA_VERSION);
    assert.equal((await again.approvals.get('pg-old'))?.voided, null);
    assert.deepEqual((await again.approvals.voidAll(['pg-old'], REASON, AT)).map((v) => v.id), ['pg-old']);
    assert.deepEqual((await again.approvals.get('pg-old'))?.voided, REASON);
    await voidedBehaviour(again.approvals);
    let v = await again.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    await db.query(`UPDATE approvals SET state = 'approved' WHERE id = 'v1'`);
    v = await again.verify();
    assert.equal(v.ok, false);
    assert.match(v.firstBroken?.reason ?? '', /approvals row "v1" differs from its records \(state\)/);
  } finally {
    await again.close();
  }
});
