/**
 * A shared PostgreSQL store decides approval expiry by the database's clock, not by the clock of
 * the replica or reviewer CLI that writes: one 10 minutes slow can neither use nor approve a
 * request the database finds expired, the sweep expires by database time whatever time the
 * caller passes, and a correct clock (or a slow one on an unexpired request) still works.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { openPgStore, type PgTranscriptStore } from '../../src/recorder/index.js';
import { dbNow } from '../../src/recorder/pg-clock.js';
import { createApprovalService } from '../../src/approvals/index.js';
import type { Decision } from '../../src/policy/types.js';
import { approvalRequest } from './fixtures.js';

const SKEW = 10 * 60_000;
const iso = (ms: number) => new Date(ms).toISOString();
const slowIso = () => iso(Date.now() - SKEW);
const ana = { subject: 'ana', groups: ['analysts'], claims: {}, authMethod: 'oidc' as const };
const dora = { subject: 'dora', groups: ['dba'], claims: {}, authMethod: 'oidc' as const };
const decisionFor = (expires: number, wait: number) =>
  ({ effect: 'allow', ruleIds: ['fix'], reason: '', trace: [], alternatives: [], approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires, wait, ruleId: 'fix' } }) as unknown as Decision;

let db: TestDatabase;
let s: PgTranscriptStore;
before(async () => {
  db = await createTestDatabase({ prefix: 'pgclock' });
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  s = await openPgStore(db.url, { recoverEveryMs: 60_000 });
});
after(async () => {
  await s?.close().catch(() => undefined);
  await db?.drop();
});

const gateInput = (sql: string, decision: Decision) => ({
  callId: randomUUID(), sessionId: randomUUID(), principal: ana, tool: 'query_database', connection: 'shop',
  canonicalArgs: { sql }, decision, factsSummary: 'update', signal: new AbortController().signal,
});

/** A request approved now that expires (by every clock on this host) about `ms` from now. */
async function approvedSoon(id: string, ms: number): Promise<string> {
  const expiresAt = iso(Date.now() + ms);
  await s.approvals.create(approvalRequest(id, iso(Date.now() - 60_000), { callHash: 'h-clock', expiresAt }));
  await s.approvals.decide(id, { reviewer: 'dora', decision: 'approve', comment: null, auth: 'oidc', at: iso(Date.now()) }, () => undefined);
  return expiresAt;
}

async function untilPast(isoTime: string): Promise<void> {
  while (Date.parse(await dbNow((sql) => db.query(sql))) <= Date.parse(isoTime) + 20) await new Promise((r) => setTimeout(r, 50));
}

test("the database's time reads in Node's exact ISO form", async () => {
  const t = await dbNow((sql) => db.query(sql));
  assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(new Date(t).toISOString(), t);
  assert.ok(Math.abs(Date.parse(t) - Date.now()) < 5_000, `${t} is the server's present`);
});

test('a replica 10 minutes slow cannot use an approval the database finds expired (consume and consumeAll)', async () => {
  await approvedSoon('slow-use-1', 800);
  // Wait past the later of the two expiries (the second is made a few ms after the first).
  await untilPast(await approvedSoon('slow-use-2', 800));
  assert.equal(await s.approvals.consume('slow-use-1', 'call-slow', slowIso()), false);
  const r = await s.approvals.consumeAll(['slow-use-2'], { callId: 'call-slow', callHash: 'h-clock', requester: 'ana' }, slowIso());
  assert.deepEqual([r.used, !r.used && r.state], [false, 'expired']);
  for (const id of ['slow-use-1', 'slow-use-2']) {
    const row = (await s.approvals.get(id))!;
    assert.deepEqual([row.state, row.usedByCall], ['expired', null]);
    const last = (await db.query(`SELECT ts, body FROM records WHERE kind = 'approval_event' AND ref_id = $1 ORDER BY seq DESC LIMIT 1`, [id])).rows[0] as { ts: string; body: string };
    assert.equal(JSON.parse(last.body).event, 'expired');
    assert.ok(last.ts >= row.expiresAt, `the expiry is recorded at the database's time (${last.ts}), not the caller's`);
  }
  assert.equal((await s.verify()).ok, true);
});

test('a correct clock still uses an unexpired approval; a slow one does too while the database finds it unexpired', async () => {
  await approvedSoon('ok-use-1', 60_000);
  await approvedSoon('ok-use-2', 60_000);
  assert.equal(await s.approvals.consume('ok-use-1', 'call-ok', iso(Date.now())), true);
  assert.deepEqual(await s.approvals.consumeAll(['ok-use-2'], { callId: 'call-ok-2', callHash: 'h-clock', requester: 'ana' }, slowIso()), { used: true });
  assert.equal((await s.approvals.get('ok-use-2'))?.usedAt !== null, true);
});

test('a replica 10 minutes slow sees its request expire by the database\'s clock, and a slow reviewer CLI cannot approve it then', async () => {
  const slow = createApprovalService(s.approvals, { now: () => Date.now() - SKEW, pollMs: 50, progressEveryMs: 60_000 });
  // A 1-second expiry: by the slow replica's clock it has 10 minutes left for a long while; the
  // database expires it after 1 second, and the waiting call is refused then.
  const gate = slow.gate(gateInput('UPDATE orders SET total = 101', decisionFor(1_000, 5_000)));
  let id: string | undefined;
  for (let i = 0; i < 100 && !id; i++) {
    id = (await s.approvals.list({ requester: 'ana' })).find((r) => r.canonicalCall.includes('UPDATE orders SET total = 101'))?.id;
    if (!id) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(id, 'the request was made');
  const r = await gate;
  assert.equal(r.granted, false, JSON.stringify(r));
  assert.equal((r as { code: string }).code, 'WARDEN_APPROVAL_EXPIRED', JSON.stringify(r));
  await assert.rejects(slow.approve(id, dora), (e: Error & { code?: string }) => e.code === 'WARDEN_DENIED' && /expired/.test(e.message));
  const row = (await s.approvals.get(id))!;
  assert.deepEqual([row.state, row.decisions.length], ['expired', 0]);
});

test("a replica whose clock is 10 minutes fast or slow makes requests that expire the configured time after the database's now", async () => {
  const TTL = 5 * 60_000;
  for (const [name, skew] of [['fast', SKEW], ['slow', -SKEW]] as const) {
    const replica = createApprovalService(s.approvals, { now: () => Date.now() + skew, pollMs: 50, progressEveryMs: 60_000 });
    const sql = `UPDATE orders SET total = 303 -- ${name}`;
    const before = Date.parse(await dbNow((q) => db.query(q)));
    const r = await replica.gate(gateInput(sql, decisionFor(TTL, 0)));
    const after = Date.parse(await dbNow((q) => db.query(q)));
    assert.equal((r as { code: string }).code, 'WARDEN_APPROVAL_PENDING', `${name}: ${JSON.stringify(r)}`);
    const row = (await s.approvals.list({ requester: 'ana' })).find((x) => x.canonicalCall.includes(sql))!;
    assert.ok(row, `${name}: the request was made`);
    const created = Date.parse(row.createdAt);
    const expires = Date.parse(row.expiresAt);
    assert.equal(new Date(expires).toISOString(), row.expiresAt, 'expires_at keeps the ISO text form');
    assert.ok(created >= before - 1000 && created <= after + 1000, `${name}: created_at ${row.createdAt} is the database's now (${iso(before)}..${iso(after)})`);
    assert.ok(expires >= before + TTL - 1000 && expires <= after + TTL + 1000, `${name}: expires_at ${row.expiresAt} is the database's now + 5 minutes`);
    assert.equal(expires - created, TTL);
  }
  assert.equal((await s.verify()).ok, true);
});

test("on PostgreSQL the cooldown after a denial runs on the database's clock (fast replica, slow reviewer)", async () => {
  const fast = createApprovalService(s.approvals, { now: () => Date.now() + SKEW, pollMs: 50, progressEveryMs: 60_000 });
  const slowCli = createApprovalService(s.approvals, { now: () => Date.now() - SKEW });
  const sql = 'UPDATE orders SET total = 404';
  const decision = { ...decisionFor(60 * 60_000, 0) } as Decision;
  (decision.approval as unknown as Record<string, unknown>).deny_cooldown = 5 * 60_000;
  const first = (await fast.gate(gateInput(sql, decision))) as { code: string; approvalId: string };
  assert.equal(first.code, 'WARDEN_APPROVAL_PENDING');
  await slowCli.deny(first.approvalId, dora, 'no');
  const deniedAt = Date.parse(await dbNow((q) => db.query(q)));
  // By the fast replica's clock the slow reviewer denied 20 minutes ago; by the database's, just now.
  const again = (await fast.gate(gateInput(sql, decision))) as { code: string; message: string; approvalId?: string };
  assert.equal(again.code, 'WARDEN_APPROVAL_DENIED', again.message);
  assert.equal(again.approvalId, first.approvalId);
  const retry = Date.parse(/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)/.exec(again.message)?.[1] ?? '');
  assert.ok(Math.abs(retry - (deniedAt + 5 * 60_000)) < 5_000, `may ask again 5 minutes after the database's time of the denial: ${again.message}`);
  assert.equal((await s.approvals.list({ requester: 'ana' })).filter((r) => r.canonicalCall.includes(sql)).length, 1, 'no new request');
});

test('a correct replica with a slow reviewer CLI: an unexpired request is approved and the call runs', async () => {
  const replica = createApprovalService(s.approvals, { pollMs: 50, progressEveryMs: 60_000 });
  const slowCli = createApprovalService(s.approvals, { now: () => Date.now() - SKEW });
  const gate = replica.gate(gateInput('UPDATE orders SET total = 202', decisionFor(60 * 60_000, 20_000)));
  let id: string | undefined;
  for (let i = 0; i < 200 && !id; i++) {
    id = (await slowCli.list({ state: 'pending' })).find((v) => JSON.stringify(v).includes('total = 202'))?.id;
    if (!id) await new Promise((r) => setTimeout(r, 20));
  }
  assert.ok(id, 'the slow CLI sees the pending request');
  await slowCli.approve(id, dora);
  assert.equal((await gate).granted, true);
  assert.equal((await s.approvals.get(id))?.state, 'used');
});

test("the expiry sweep expires by the database's time, whatever time the caller passes", async () => {
  const now = Date.now();
  await s.approvals.create(approvalRequest('sweep-due', iso(now - 6 * 60_000), { expiresAt: iso(now - 60_000) }));
  await s.approvals.create(approvalRequest('sweep-live', iso(now - 60_000), { expiresAt: iso(now + 5 * 60_000) }));
  // A caller 10 minutes slow still sweeps the request the database finds expired...
  assert.ok((await s.approvals.expireDue(iso(now - SKEW))).length >= 1);
  assert.equal((await s.approvals.get('sweep-due'))?.state, 'expired');
  // ...and one 10 minutes fast does not expire a request the database finds live.
  await s.approvals.expireDue(iso(now + SKEW));
  assert.equal((await s.approvals.get('sweep-live'))?.state, 'pending');
  assert.equal((await s.verify()).ok, true);
});
