/**
 * Identical calls of one requester arriving at once (two sessions, two replicas of one PostgreSQL
 * store, or one SQLite file) wait on ONE request: a reviewer's denial refuses every one of them,
 * and no twin request is left for another reviewer to approve. A retry that races the denial is
 * refused by the deny cooldown, not asked anew. Red-team: four concurrent identical calls made
 * four requests; dana denied one, omar approved its twin, and the denied call ran 0.3s later.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { openPgStore, openSqliteStore, type ApprovalStore, type PgTranscriptStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { createApprovalService, type ApprovalService } from '../../src/approvals/index.js';
import type { Decision } from '../../src/policy/types.js';
import type { Principal } from '../../src/tool-api.js';
import { until } from './support.js';

const sam: Principal = { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'local' };
const dana: Principal = { subject: 'dana', groups: ['dba'], claims: {}, authMethod: 'local' };
const omar: Principal = { subject: 'omar', groups: ['dba'], claims: {}, authMethod: 'local' };
const decision = (wait: number): Decision => ({
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [],
  approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 60 * 60_000, wait, ruleId: 'fix', deny_cooldown: 10 * 60_000 },
});
const input = (sql: string, wait: number) => ({
  callId: randomUUID(), sessionId: randomUUID(), principal: sam, tool: 'query_database', connection: 'shop',
  canonicalArgs: { connection: 'shop', sql }, decision: decision(wait), factsSummary: 'update', signal: new AbortController().signal,
});
/** The twins' approval wait: only a bound (the denial ends it), so a loaded machine cannot outlast it. */
const TWIN_WAIT_MS = 120_000;
const idOf = (r: unknown) => (r as { approvalId: string }).approvalId;

let dir: string;
let lite: SqliteTranscriptStore;
let db: TestDatabase;
let pgA: PgTranscriptStore;
let pgB: PgTranscriptStore;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-concurrent-'));
  lite = openSqliteStore(join(dir, 'w.db'));
  db = await createTestDatabase({ prefix: 'apconc' });
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  pgA = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  pgB = await openPgStore(db.url, { recoverEveryMs: 60_000 });
});
after(async () => {
  await lite?.close();
  await pgA?.close().catch(() => undefined);
  await pgB?.close().catch(() => undefined);
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** Two processes' services over the store (PostgreSQL: two replicas, each its own pool and writer). */
function services(kind: 'sqlite' | 'pg'): [ApprovalService, ApprovalService] {
  return kind === 'sqlite'
    ? [createApprovalService(lite.approvals, { pollMs: 5 }), createApprovalService(lite.approvals, { pollMs: 5 })]
    : [createApprovalService(pgA.approvals, { pollMs: 5 }), createApprovalService(pgB.approvals, { pollMs: 5 })];
}

async function openRequests(svc: ApprovalService, marker: string): Promise<string[]> {
  return (await svc.list({})).filter((v) => JSON.stringify(v).includes(marker) && (v.state === 'pending' || v.state === 'approved')).map((v) => v.id);
}

for (const kind of ['sqlite', 'pg'] as const) {
  test(`${kind}: identical calls at once (two sessions, two processes) make one request`, async () => {
    const [a, b] = services(kind);
    const sql = `UPDATE t SET x = 1 WHERE id = 1 -- once ${kind}`;
    const rs = await Promise.all([a.gate(input(sql, 0)), b.gate(input(sql, 0)), a.gate(input(sql, 0)), b.gate(input(sql, 0)), a.gate(input(sql, 0)), b.gate(input(sql, 0))]);
    for (const r of rs) assert.equal(r.granted, false);
    assert.equal(new Set(rs.map(idOf)).size, 1, `every call names the one request: ${rs.map(idOf).join(', ')}`);
    assert.deepEqual(await openRequests(a, `once ${kind}`), [idOf(rs[0])], 'reviewers see the call once');
  });

  test(`${kind}: a denial refuses every waiting twin; no twin is left for another reviewer to approve`, async () => {
    const [a, b] = services(kind);
    const sql = `UPDATE t SET x = 2 WHERE id = 2 -- twin ${kind}`;
    // The calls wait until the denial (a bound far past it: on a loaded machine a 5 s wait ran out
    // before the reviewer acted, and the calls returned PENDING, not DENIED); a denial ends the wait at once.
    const waiting = Promise.all([a.gate(input(sql, TWIN_WAIT_MS)), b.gate(input(sql, TWIN_WAIT_MS))]);
    await until(async () => ((await openRequests(a, `twin ${kind}`)).length ? true : undefined), TWIN_WAIT_MS, 'the call waiting on its request');
    await new Promise((r) => setTimeout(r, 100));
    const open = await openRequests(a, `twin ${kind}`);
    await a.deny(open[0]!, dana, 'no');
    // Another reviewer approves whatever is still asked for this call.
    for (const id of await openRequests(a, `twin ${kind}`)) await b.approve(id, omar, 'ok').catch(() => undefined);
    const rs = await waiting;
    for (const r of rs) assert.equal(r.granted, false, `denied by dana, never run: ${JSON.stringify(r)}`);
    for (const r of rs) assert.equal((r as { code: string }).code, 'WARDEN_APPROVAL_DENIED');
    assert.deepEqual(await openRequests(a, `twin ${kind}`), []);
  });

  test(`${kind}: a retry racing the denial is refused by the cooldown, not asked anew`, async () => {
    const [a] = services(kind);
    const real = kind === 'sqlite' ? lite.approvals : pgA.approvals;
    const sql = `UPDATE t SET x = 3 WHERE id = 3 -- retry ${kind}`;
    const first = await a.gate(input(sql, 0));
    assert.equal((first as { code: string }).code, 'WARDEN_APPROVAL_PENDING');
    // The denial lands right after the retry's early cooldown check read nothing (the real store, one interleaving).
    let denied = false;
    const racing: ApprovalStore = new Proxy(real, {
      get(t, prop, recv) {
        const v = Reflect.get(t, prop, recv) as unknown;
        if (typeof v !== 'function') return v;
        const fn = (v as (...x: unknown[]) => unknown).bind(t);
        if (prop !== 'lastDenied') return fn;
        return async (...x: unknown[]) => {
          const r = await fn(...x);
          if (!denied) (denied = true, await a.deny(idOf(first), dana, 'not now'));
          return r;
        };
      },
    });
    const retry = await createApprovalService(racing, { pollMs: 5 }).gate(input(sql, 0));
    assert.ok(denied);
    assert.equal(retry.granted, false);
    assert.equal((retry as { code: string }).code, 'WARDEN_APPROVAL_DENIED', `refused by the cooldown: ${JSON.stringify(retry)}`);
    assert.match((retry as { message: string }).message, /deny_cooldown/);
    assert.deepEqual(await openRequests(a, `retry ${kind}`), [], 'no new request reached the reviewers');
  });
}

// Hypotheses that held no bug, kept as guards: every approval write takes the store's write lock
// (SQLite IMMEDIATE; PostgreSQL the chain-head row lock of every replica) and checks the rows it read under it.
for (const kind of ['sqlite', 'pg'] as const) {
  test(`${kind}: one approval, six identical calls at once on two processes: exactly one runs`, async () => {
    const [a, b] = services(kind);
    const sql = `UPDATE t SET x = 4 WHERE id = 4 -- spend ${kind}`;
    const id = idOf(await a.gate(input(sql, 0)));
    await b.approve(id, dana, 'ok');
    const rs = await Promise.all([a, b, a, b, a, b].map((s) => s.gate(input(sql, 0))));
    assert.equal(rs.filter((r) => r.granted).length, 1, JSON.stringify(rs));
    for (const r of rs.filter((x) => !x.granted)) assert.match((r as { message: string }).message, /already used by another call/);
    assert.equal((await a.get(id))?.state, 'used');
  });

  test(`${kind}: approve and deny at the same instant on two processes: one wins, the store agrees`, async () => {
    const [a, b] = services(kind);
    for (let i = 0; i < 10; i++) {
      const id = idOf(await a.gate(input(`UPDATE t SET x = ${i} WHERE id = 5 -- duel ${kind}`, 0)));
      const [ok, no] = await Promise.allSettled([a.approve(id, omar, 'yes'), b.deny(id, dana, 'no')]);
      assert.equal([ok, no].filter((s) => s.status === 'fulfilled').length, 1, 'exactly one decision is recorded');
      const row = await a.get(id);
      assert.equal(row?.state, ok.status === 'fulfilled' ? 'approved' : 'denied');
      assert.equal(row?.decisions.length, 1);
    }
  });
}

for (const kind of ['sqlite', 'pg'] as const) {
  test(`${kind}: one reviewer double-submitting under two spellings at once counts once`, async () => {
    const [a, b] = services(kind);
    const two: Decision = { ...decision(0), approval: { ...decision(0).approval!, approvals: 2 } };
    const id = idOf(await a.gate({ ...input(`UPDATE t SET x = 6 WHERE id = 6 -- twice ${kind}`, 0), decision: two }));
    const wide: Principal = { ...dana, subject: 'ＤＡＮＡ', authMethod: 'oidc', claims: { iss: 'https://other.example' } };
    const rs = await Promise.allSettled([a.approve(id, dana), b.approve(id, wide), a.approve(id, dana), b.approve(id, wide)]);
    assert.equal(rs.filter((s) => s.status === 'fulfilled').length, 1);
    assert.equal((await a.get(id))?.state, 'pending', 'one person is one approval of the two needed');
  });
}
