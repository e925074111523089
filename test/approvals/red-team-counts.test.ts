/**
 * Red-team pass on approvals (counts across reloads, give-back under concurrency, one person under
 * two names at once). Hypotheses that held no bug, kept as guards, on a real SQLite file (two
 * services over one file) and two replicas of one real PostgreSQL store:
 * - a reload that LOWERS a rule's `approvals:` (2 -> 1) does not let a request asked under 2 run
 *   on one approval, neither for a retry nor for a call already waiting on it (the count is the
 *   request's, fixed when reviewers were asked: they saw "1 of 2");
 * - an approval given back by a cancelled call runs exactly one of several identical retries
 *   racing on two processes;
 * - one reviewer approving at the same instant under her IdP token (opaque sub, email) and as
 *   her email (local login / --as) on two processes counts once, by the names recorded under the lock.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { openPgStore, openSqliteStore, type ApprovalStore, type PgTranscriptStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { createApprovalService, type ApprovalService } from '../../src/approvals/index.js';
import type { CompiledPolicy, Decision } from '../../src/policy/types.js';
import type { Principal } from '../../src/tool-api.js';
import { until } from './support.js';

const sam: Principal = { subject: 'sam', groups: ['sre'], claims: {}, authMethod: 'local' };
const dana: Principal = { subject: 'dana', groups: ['dba'], claims: {}, authMethod: 'local' };
const omar: Principal = { subject: 'omar', groups: ['dba'], claims: {}, authMethod: 'local' };
const HOUR = 3_600_000;

const approval = (n: number, wait: number) => ({ reviewers: { groups: ['dba'] }, approvals: n, expires: HOUR, wait, deny_cooldown: 600_000 });
const decision = (n: number, wait = 0): Decision => ({
  effect: 'allow', ruleIds: ['fix'], reason: 'x', trace: [], alternatives: [], approval: { ...approval(n, wait), ruleId: 'fix' },
});
/** The live policy a reload leaves: rule `fix` asking `n` approvals of dba (its scope unchanged). */
const policyOf = (n: number): CompiledPolicy => ({
  version: `v${n}`, files: [], masking: { columns: [], detectors: [], custom: [], onDerived: 'deny' },
  rules: [{ id: 'fix', effect: 'allow', tools: ['query_database'], approval: approval(n, 0), conditions: [], blocks: {}, file: 'p.yaml', line: 1 }],
});
const input = (sql: string, d: Decision, principal = sam) => ({
  callId: randomUUID(), sessionId: randomUUID(), principal, tool: 'query_database', connection: 'shop',
  canonicalArgs: { connection: 'shop', sql }, decision: d, factsSummary: 'update', signal: new AbortController().signal,
});
const idOf = (r: unknown) => (r as { approvalId: string }).approvalId;

let dir: string;
let lite: SqliteTranscriptStore;
let db: TestDatabase;
let pgA: PgTranscriptStore;
let pgB: PgTranscriptStore;
before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'warden-rt-counts-'));
  lite = openSqliteStore(join(dir, 'w.db'));
  db = await createTestDatabase({ prefix: 'aprtcount' });
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

/** Two processes' approval tables (PostgreSQL: two replicas, each its own pool and writer). */
function tablesOf(kind: 'sqlite' | 'pg'): [ApprovalStore, ApprovalStore] {
  return kind === 'sqlite' ? [lite.approvals, lite.approvals] : [pgA.approvals, pgB.approvals];
}

/** Services over both processes' tables, each reading the same live policy. */
function services(kind: 'sqlite' | 'pg', live: () => CompiledPolicy): [ApprovalService, ApprovalService] {
  const [a, b] = tablesOf(kind);
  return [createApprovalService(a, { pollMs: 5, policy: live }), createApprovalService(b, { pollMs: 5, policy: live })];
}

for (const kind of ['sqlite', 'pg'] as const) {
  test(`${kind}: a reload that lowers approvals: 2 to 1 does not run a request asked under 2 on one approval`, async () => {
    let live = policyOf(2);
    const [a, b] = services(kind, () => live);
    const sql = `UPDATE t SET x = 1 WHERE id = 1 -- lowered ${kind}`;
    const id = idOf(await a.gate(input(sql, decision(2))));
    await b.approve(id, dana);
    live = policyOf(1);
    // The retry, decided under the live rule (1 approval), waits on the request asked under 2.
    const retry = await a.gate(input(sql, decision(1)));
    assert.equal(retry.granted, false, JSON.stringify(retry));
    assert.equal(idOf(retry), id, 'the open request is taken up, not a new one');
    assert.match((retry as { message: string }).message, /1 of 2/);
    const row = await a.get(id);
    assert.equal(row?.state, 'pending');
    assert.equal(row?.approvals_required, 2);
    // A call already waiting on it when the count was lowered does not run on one approval either.
    live = policyOf(2);
    const waiting = a.gate(input(sql.replace('id = 1', 'id = 11'), decision(2, 60_000)));
    const waited = await until(async () => (await a.list({ state: 'pending' })).find((v) => v.summary === 'update' && JSON.stringify(v.call).includes('id = 11'))?.id);
    await b.approve(waited, dana);
    live = policyOf(1);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal((await a.get(waited))?.state, 'pending', 'one approval of the two asked does not settle it');
    await b.approve(waited, omar);
    const ran = await waiting;
    assert.equal(ran.granted, true, JSON.stringify(ran));
    assert.equal((await a.get(waited))?.state, 'used');
    // The first request runs once it has its two.
    await b.approve(id, omar);
    assert.deepEqual(await a.gate(input(sql, decision(1))), { granted: true, approvalId: id, spent: [id] });
  });

  test(`${kind}: an approval given back runs exactly one of six identical retries racing on two processes`, async () => {
    const [a, b] = services(kind, () => policyOf(1));
    const sql = `UPDATE t SET x = 2 WHERE id = 2 -- given back ${kind}`;
    const id = idOf(await a.gate(input(sql, decision(1))));
    await b.approve(id, dana);
    const first = input(sql, decision(1));
    const granted = await a.gate(first);
    assert.equal(granted.granted, true, JSON.stringify(granted));
    assert.deepEqual(await a.giveBack(first.callId, [id]), [id]);
    assert.equal((await b.get(id))?.state, 'approved');
    const calls = [a, b, a, b, a, b].map((s) => ({ s, call: input(sql, decision(1)) }));
    const rs = await Promise.all(calls.map(({ s, call }) => s.gate(call)));
    assert.equal(rs.filter((r) => r.granted).length, 1, JSON.stringify(rs));
    const winner = calls[rs.findIndex((r) => r.granted)]!.call.callId;
    const row = await (kind === 'sqlite' ? lite.approvals : pgA.approvals).get(id);
    assert.equal(row?.state, 'used');
    assert.equal(row?.usedByCall, winner, 'used by the one call that ran');
    // The first call gives back nothing more, and neither does a loser.
    assert.deepEqual(await a.giveBack(first.callId, [id]), []);
    for (const { call } of calls) if (call.callId !== winner) assert.deepEqual(await b.giveBack(call.callId, [id]), []);
  });

  test(`${kind}: one reviewer approving at once by her IdP token and as her email counts once`, async () => {
    const [a, b] = services(kind, () => policyOf(2));
    const sql = `UPDATE t SET x = 3 WHERE id = 3 -- two names ${kind}`;
    const id = idOf(await a.gate(input(sql, decision(2))));
    const byToken: Principal = { subject: '00u9dana', groups: ['dba'], claims: { iss: 'https://idp.example', email: 'dana@corp.example' }, authMethod: 'oidc' };
    const byEmail: Principal = { subject: 'Dana@Corp.Example.', groups: ['dba'], claims: {}, authMethod: 'local' };
    const rs = await Promise.allSettled([a.approve(id, byToken), b.approve(id, byEmail), b.approve(id, byToken), a.approve(id, byEmail)]);
    assert.equal(rs.filter((s) => s.status === 'fulfilled').length, 1, JSON.stringify(rs.map((s) => s.status)));
    for (const s of rs) if (s.status === 'rejected') assert.match(String((s.reason as Error).message), /already decided/);
    const row = await a.get(id);
    assert.equal(row?.state, 'pending', 'one person is one approval of the two needed');
    assert.equal(row?.decisions.length, 1);
    assert.equal((await b.approve(id, omar)).state, 'approved');
  });
}
