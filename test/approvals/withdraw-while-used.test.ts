/**
 * Red-team: a reviewer seen out of the group while the call that used her approval had not started.
 * Found: the withdrawal sweep (withdraw.ts) read pending and approved requests only, so an approval
 * `used` by a call still waiting to start (an SSH session slot, a pool session) kept it; the agent
 * cancelled that call, the give-back (give-back.ts) set the request approved again, and the
 * identical call ran on the approval of a reviewer Warden had just seen was no longer one. Now a
 * request used by a call recorded without its outcome yet is open to the sweep (the decision
 * withdrawn, the state left `used`), and a give-back short of the count returns it pending. A use
 * whose call has ended is history: withdrawn from nothing. Real SQLite and PostgreSQL stores, the
 * service as the pipeline and the reviewer paths use it; `verify` replays every record.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openPgStore, openSqliteStore, type WardenStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import type { Principal } from '../../src/tool-api.js';
import type { Decision } from '../../src/policy/types.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { intent, outcome, session, tempDir } from '../recorder/fixtures.js';
import { ApprovalTransitions } from '../../src/recorder/approval-transitions.js';
import { UNRECORDED_USE_MS } from '../../src/recorder/approval-rules.js';

const sam: Principal = { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'local' };
const iss = 'https://idp.example';
const dana: Principal = { subject: 'dana', groups: ['dba'], claims: { iss }, authMethod: 'oidc' };
const danaOut: Principal = { ...dana, groups: ['sre'] };
const omar: Principal = { subject: 'omar', groups: ['dba'], claims: {}, authMethod: 'local' };
const decision: Decision = {
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 3_600_000, wait: 0, ruleId: 'fix' },
};
const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

type Scenario = (store: WardenStore) => Promise<void>;

async function onSqlite(t: { after(fn: () => void): void }, run: Scenario): Promise<void> {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void store.close());
  await run(store);
  const v = await store.verify();
  assert.equal(v.ok, true, JSON.stringify(v));
}

async function onPg(run: Scenario): Promise<void> {
  const db = await createTestDatabase({ prefix: 'apwdused' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const store = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  try {
    await run(store);
    const v = await store.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  } finally {
    await store.close();
  }
}

const gateOf = (store: WardenStore) => {
  const svc = createApprovalService(store.approvals, { pollMs: 5 });
  const gate = (callId: string, sql: string) =>
    svc.gate({ callId, sessionId: 's1', principal: sam, tool: 'query_database', connection: 'db', canonicalArgs: { connection: 'db', sql }, decision, factsSummary: 'update', signal: new AbortController().signal });
  return { svc, gate };
};

/** The approval withdrawn while used is not given back approved: the call it was given back to asks again. */
const withdrawnWhileUsed: Scenario = async (store) => {
  const { svc, gate } = gateOf(store);
  const sql = 'UPDATE t SET a = 1';
  const id = ((await gate('c0', sql)) as { approvalId: string }).approvalId;
  await svc.approve(id, dana);
  // c1 is recorded (its intent, as the pipeline writes it before execute) and uses the approval.
  await store.openSession(session('s1'));
  await store.recordIntent(intent('c1', 's1'));
  const used = await gate('c1', sql);
  assert.equal(used.granted, true, JSON.stringify(used));
  // dana signs in with a token that no longer carries dba while c1 waits to start.
  assert.deepEqual(await svc.withdrawIneligible!(danaOut), [id], 'the approval c1 holds but has not started on is withdrawn');
  let row = await store.approvals.get(id);
  assert.equal(row?.state, 'used', 'the use itself stands until its call gives it back or ends');
  assert.deepEqual(row?.decisions, []);
  // c1 is cancelled before it started: given back, short of its count, pending; not approved again.
  assert.deepEqual(await svc.giveBack('c1', [id]), []);
  row = await store.approvals.get(id);
  assert.equal(row?.state, 'pending');
  assert.equal(row?.usedByCall, null);
  const retry = await gate('c2', sql);
  assert.equal(retry.granted, false, `the identical call does not run on the withdrawn approval: ${JSON.stringify(retry)}`);
  assert.equal((retry as { code: string }).code, 'WARDEN_APPROVAL_PENDING');
  assert.equal((retry as { approvalId: string }).approvalId, id);
  // Another reviewer of dba approves it: it runs once.
  assert.equal((await svc.approve(id, omar)).state, 'approved');
  assert.deepEqual(await gate('c3', sql), { granted: true, approvalId: id, spent: [id] });
};

/**
 * A use whose call is not recorded yet: the pipeline writes the intent just after the use, and a
 * withdrawal in between took it for history. Now it is open to the sweep; UNRECORDED_USE_MS after
 * the use, a call still unrecorded (its process gone) is history.
 */
const unrecordedUse: Scenario = async (store) => {
  const { svc, gate } = gateOf(store);
  const sql = 'UPDATE t SET a = 3';
  const id = ((await gate('e0', sql)) as { approvalId: string }).approvalId;
  await svc.approve(id, dana);
  assert.equal((await gate('e1', sql)).granted, true, 'e1 uses it; its intent is not recorded yet');
  const usedAt = (await store.approvals.get(id))!.usedAt!;
  const later = new Date(Date.parse(usedAt) + UNRECORDED_USE_MS + 60_000).toISOString();
  assert.equal(await store.approvals.withdraw(id, 'dana', 'test', later), null, 'past UNRECORDED_USE_MS an unrecorded use is history');
  assert.deepEqual((await store.approvals.openWithApprovals()).map((r) => r.id), [id], 'open to the sweep');
  assert.deepEqual(await svc.withdrawIneligible!(danaOut), [id], 'the approval an unrecorded call used is withdrawn');
  const row = await store.approvals.get(id);
  assert.equal(row?.state, 'used');
  assert.deepEqual(row?.decisions, []);
  // Cancelled before it started: given back short of its count, pending.
  assert.deepEqual(await svc.giveBack('e1', [id]), []);
  assert.equal((await store.approvals.get(id))?.state, 'pending');
};

/** Neighbours: a qualifying token withdraws nothing and the give-back is approved again; an ended call's use is history. */
const neighbours: Scenario = async (store) => {
  const { svc, gate } = gateOf(store);
  const sql = 'UPDATE t SET a = 2';
  const id = ((await gate('d0', sql)) as { approvalId: string }).approvalId;
  await svc.approve(id, dana);
  assert.equal((await gate('d1', sql)).granted, true);
  assert.deepEqual(await svc.withdrawIneligible!(dana), [], 'a token that still qualifies withdraws nothing');
  assert.deepEqual(await svc.giveBack('d1', [id]), [id], 'given back approved, for one call');
  assert.equal((await store.approvals.get(id))?.state, 'approved');
  // The call that uses it now runs and ends (its outcome recorded): that use is history.
  await store.openSession(session('s1'));
  await store.recordIntent(intent('d2', 's1'));
  assert.equal((await gate('d2', sql)).granted, true);
  await store.recordOutcome('d2', outcome());
  assert.deepEqual(await svc.withdrawIneligible!(danaOut), [], 'a use whose call ended is not withdrawn from');
  const row = await store.approvals.get(id);
  assert.equal(row?.state, 'used');
  assert.deepEqual(row?.decisions.map((d) => d.reviewer), ['dana']);
};

test('SQLite: an approval withdrawn while its call had not started is not given back approved', (t) => onSqlite(t, withdrawnWhileUsed));
test('SQLite: a qualifying token withdraws nothing; an ended call\'s use is history', (t) => onSqlite(t, neighbours));
test('PostgreSQL: an approval withdrawn while its call had not started is not given back approved', () => onPg(withdrawnWhileUsed));
test('PostgreSQL: a qualifying token withdraws nothing; an ended call\'s use is history', () => onPg(neighbours));

test('SQLite: a use whose call is not recorded yet is withdrawn from; one unrecorded past UNRECORDED_USE_MS is history', (t) => onSqlite(t, unrecordedUse));
test('PostgreSQL: a use whose call is not recorded yet is withdrawn from; one unrecorded past UNRECORDED_USE_MS is history', () => onPg(unrecordedUse));

test('verify: a give-back after a withdrawal while used returns pending; one recorded approved short of its count is reported', () => {
  const replay = (to: string | undefined): (string | null)[] => {
    const t = new ApprovalTransitions();
    const at = '2026-12-01T10:00:00.000Z';
    return [
      t.apply('r1', { event: 'requested', requester: 'sam', approvalsRequired: 1, expiresAt: '2026-12-01T11:00:00.000Z', confirm: null }, at),
      t.apply('r1', { event: 'decision', reviewer: 'dana', decision: 'approve', reviewerNames: [] }, at),
      t.apply('r1', { event: 'approved', from: 'pending' }, at),
      t.apply('r1', { event: 'used', from: 'approved', callId: 'c1' }, at),
      t.apply('r1', { event: 'withdrawn', from: 'used', reviewer: 'dana', reopened: false }, at),
      t.apply('r1', { event: 'returned', from: 'used', callId: 'c1', ...(to ? { to } : {}) }, at),
      // Pending again: a reviewer may decide it; approved, a decision cannot follow.
      t.apply('r1', { event: 'decision', reviewer: 'omar', decision: 'approve', reviewerNames: [] }, at),
    ];
  };
  assert.deepEqual(replay('pending'), [null, null, null, null, null, null, null]);
  for (const to of ['approved', undefined]) {
    const r = replay(to);
    assert.deepEqual(r.slice(0, 5), [null, null, null, null, null]);
    assert.match(String(r[5]), /given back approved with 0 of 1 required approvals/);
  }
});
