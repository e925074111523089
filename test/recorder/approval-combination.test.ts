/**
 * The approval stores (SQLite and a real PostgreSQL) use up a combination of approval requests
 * in one transaction or not at all, and keep the link between the requests of a combination: a
 * `combination_id` column written with the `requested` (or a later `combined`) record, replayed
 * by verify, added to older stores by a migration (legacy requests keep NULL).
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { openPgStore, openSqliteStore, SCHEMA_VERSION, type ApprovalStore } from '../../src/recorder/index.js';
import { PG_SCHEMA_VERSION } from '../../src/recorder/pg-schema.js';
import { approvalRequest, tempDir, PG_UNDO_V7 } from './fixtures.js';

interface Store {
  approvals: ApprovalStore;
  verify(): Promise<{ ok: boolean; firstBroken?: { reason: string } | null }>;
}

const at = (min: number) => new Date(Date.parse('2026-11-28T10:00:00.000Z') + min * 60_000).toISOString();
const bind = (callId: string) => ({ callId, callHash: 'h-call', requester: 'ana' });

/**
 * The times a store's checks run at: `at(min)` minutes after the first request, and a short
 * expiry `soon` that has passed once `pass` resolves. SQLite judges expiry by the caller's time,
 * so fixed times do; PostgreSQL by the database's (pg-clock.ts), so its times are the present's.
 */
interface Times {
  at(min: number): string;
  soon(): string;
  pass(expiresAt: string): Promise<void>;
}
const fixedTimes: Times = { at, soon: () => at(5), pass: async () => undefined };
const presentTimes = (): Times => {
  const base = Date.now() - 60_000;
  return {
    at: (min) => new Date(base + min * 60_000).toISOString(),
    soon: () => new Date(Date.now() + 800).toISOString(),
    pass: async (e) => {
      while (Date.now() <= Date.parse(e) + 50) await new Promise((r) => setTimeout(r, 50));
    },
  };
};

/** Two approved requests of one combination for call hash h-call: `a` expires at at(120), `b` at `bExpires`. */
async function approvedPair(s: Store, tag: string, t: Times, bExpires = t.at(120)): Promise<[string, string]> {
  const [a, b] = [`${tag}-a`, `${tag}-b`];
  await s.approvals.create(approvalRequest(a, t.at(0), { callHash: 'h-call', combinationId: `combo-${tag}`, expiresAt: t.at(120) }));
  await s.approvals.create(approvalRequest(b, t.at(0), { callHash: 'h-call', approvalRule: 'second', combinationId: `combo-${tag}`, expiresAt: bExpires }));
  for (const id of [a, b]) await s.approvals.decide(id, { reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc', at: t.at(1) }, () => undefined);
  return [a, b];
}

const stateOf = async (s: Store, id: string) => {
  const r = await s.approvals.get(id);
  return [r?.state, r?.usedByCall];
};

/** The same checks on either store. */
async function atomicUse(s: Store, t: Times = fixedTimes): Promise<void> {
  const at = t.at;
  // b expired at the moment of use: nothing is used, a stays approved.
  const bExpires = t.soon();
  const [a1, b1] = await approvedPair(s, 'exp', t, bExpires);
  await t.pass(bExpires);
  const r1 = await s.approvals.consumeAll([a1, b1], bind('call-1'), at(6));
  assert.deepEqual([r1.used, !r1.used && r1.id], [false, b1]);
  assert.deepEqual(await stateOf(s, a1), ['approved', null], 'the unexpired request was not spent');
  assert.deepEqual(await stateOf(s, b1), ['expired', null]);

  // b used by another call first: nothing is used, a stays approved.
  const [a2, b2] = await approvedPair(s, 'used', t);
  assert.equal(await s.approvals.consume(b2, 'other-call', at(2)), true);
  const r2 = await s.approvals.consumeAll([a2, b2], bind('call-2'), at(3));
  assert.deepEqual([r2.used, !r2.used && r2.state], [false, 'used']);
  assert.deepEqual(await stateOf(s, a2), ['approved', null]);

  // Bound to the exact call: another call hash or requester uses nothing; a request listed twice neither.
  const [a3, b3] = await approvedPair(s, 'bind', t);
  assert.equal((await s.approvals.consumeAll([a3, b3], { ...bind('call-3'), callHash: 'h-other' }, at(3))).used, false);
  assert.equal((await s.approvals.consumeAll([a3, b3], { ...bind('call-3'), requester: 'eve' }, at(3))).used, false);
  assert.equal((await s.approvals.consumeAll([a3, a3], bind('call-3'), at(3))).used, false);
  assert.deepEqual(await stateOf(s, a3), ['approved', null]);

  // A whole combination is used once: both by this call, and a second use is refused.
  assert.deepEqual(await s.approvals.consumeAll([a3, b3], bind('call-3'), at(3)), { used: true });
  assert.deepEqual([await stateOf(s, a3), await stateOf(s, b3)], [['used', 'call-3'], ['used', 'call-3']]);
  const again = await s.approvals.consumeAll([a3, b3], bind('call-4'), at(4));
  assert.deepEqual([again.used, !again.used && again.state], [false, 'used']);

  // The requester's confirmation of the call joins the combination only when the binding names
  // it and it was given for this very call id; then all are used together.
  const [a4, b4] = await approvedPair(s, 'conf', t);
  await s.approvals.create(approvalRequest('conf-c', t.at(0), { callHash: 'h-call', approvalRule: 'confirm-rule', reviewers: { subjects: ['ana'] }, confirm: 'requester', callId: 'call-5', expiresAt: t.at(120) }));
  await s.approvals.decide('conf-c', { reviewer: 'ana', decision: 'approve', comment: null, auth: 'elicitation', at: t.at(1) }, () => undefined, true);
  assert.equal((await s.approvals.consumeAll([a4, b4, 'conf-c'], bind('call-5'), at(3))).used, false, 'a confirmation not named by the binding');
  assert.equal((await s.approvals.consumeAll([a4, b4, 'conf-c'], { ...bind('call-6'), confirmation: 'conf-c' }, at(3))).used, false, 'a confirmation given for another call');
  assert.deepEqual(await stateOf(s, 'conf-c'), ['approved', null]);
  assert.deepEqual(await s.approvals.consumeAll([a4, b4, 'conf-c'], { ...bind('call-5'), confirmation: 'conf-c' }, at(3)), { used: true });
  assert.deepEqual([await stateOf(s, a4), await stateOf(s, b4), await stateOf(s, 'conf-c')], [['used', 'call-5'], ['used', 'call-5'], ['used', 'call-5']]);
  const v = await s.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
}

/** Linked requests read back as one combination; relinking is recorded and verified. */
async function linkKept(s: Store): Promise<void> {
  await s.approvals.create(approvalRequest('l1', at(0), { callHash: 'h-link', combinationId: 'combo-x' }));
  await s.approvals.create(approvalRequest('l2', at(0), { callHash: 'h-link', approvalRule: 'second', combinationId: 'combo-x' }));
  await s.approvals.create(approvalRequest('l3', at(0), { callHash: 'h-link', approvalRule: 'third' }));
  assert.deepEqual((await s.approvals.combination('combo-x', at(1))).map((r) => r.id), ['l1', 'l2']);
  assert.equal((await s.approvals.get('l3'))?.combinationId, null, 'a request made without a link has none');
  await s.approvals.link(['l2', 'l3'], 'combo-y', 'call-l', at(2));
  assert.deepEqual((await s.approvals.combination('combo-y', at(3))).map((r) => r.id), ['l2', 'l3']);
  assert.deepEqual((await s.approvals.combination('combo-x', at(3))).map((r) => r.id), ['l1']);
  assert.deepEqual((await s.approvals.combination('combo-y', at(121))).map((r) => r.id), [], 'expired members are not open');
  const v = await s.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
}

test('SQLite: a combination is used up in one transaction or not at all', async (t) => {
  const s = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void s.close());
  await atomicUse(s);
});

test('SQLite: the combination link is stored, relinked with a record, and a rewritten link fails verify', async (t) => {
  const s = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void s.close());
  await linkKept(s);
  s.db.prepare(`UPDATE approvals SET combination_id = 'combo-x' WHERE id = 'l3'`).run();
  const v = await s.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken?.reason ?? '', /approvals row "l3" differs from its records \(combination_id\)/);
});

test('SQLite v7 migration: an older file gains the link column, its requests keep none, verify passes', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const first = openSqliteStore(path);
  await first.approvals.create(approvalRequest('old1', at(0)));
  await first.close();
  // Back to the v6 shape: no combination_id column (nor any later one).
  const raw = new Database(path);
  raw.exec(`DROP INDEX approvals_combination; ALTER TABLE approvals DROP COLUMN combination_id; ALTER TABLE approvals DROP COLUMN requester_actors; DROP INDEX approvals_cooldown; ALTER TABLE approvals DROP COLUMN cooldown_hash; DELETE FROM schema_version WHERE version >= 7;`);
  raw.close();
  const s = openSqliteStore(path);
  t.after(() => void s.close());
  assert.equal((s.db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number }).v, SCHEMA_VERSION);
  assert.equal((await s.approvals.get('old1'))?.combinationId, null);
  assert.equal((await s.verify()).ok, true);
  await linkKept(s);
});

const dbs: TestDatabase[] = [];
const pgStores: { close(): Promise<void> }[] = [];
const openPg = async (db: TestDatabase) => {
  const s = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  pgStores.push(s);
  return s;
};
const newDb = async () => {
  const db = await createTestDatabase({ prefix: 'apcombo' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  return db;
};
after(async () => {
  for (const s of pgStores) await s.close().catch(() => undefined);
  for (const db of dbs) await db.drop();
});

test('PostgreSQL: a combination is used up in one transaction or not at all; the link is kept and verified', async () => {
  const s = await openPg(await newDb());
  await atomicUse(s, presentTimes());
  await linkKept(s);
});

test('PostgreSQL v4 migration: an older database gains the link column, its requests keep none', async () => {
  const db = await newDb();
  const s = await openPg(db);
  await s.approvals.create(approvalRequest('pg-old', at(0)));
  await s.close();
  // Back to the v3 shape: no combination_id column (nor any later one).
  await db.query(`DROP INDEX approvals_combination; ALTER TABLE approvals DROP COLUMN combination_id; ALTER TABLE approvals DROP COLUMN requester_actors; DROP INDEX approvals_cooldown; ALTER TABLE approvals DROP COLUMN cooldown_hash; DELETE FROM schema_version WHERE version >= 4; ${PG_UNDO_V7}`);
  const again = await openPg(db);
  assert.equal(Number((await db.query('SELECT MAX(version) AS v FROM schema_version')).rows[0]?.v), PG_SCHEMA_VERSION);
  assert.equal((await again.approvals.get('pg-old'))?.combinationId, null);
  const v = await again.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  await linkKept(again);
});
