/**
 * PostgreSQL: the reviewers' queue in one statement (pg-approval-queue.ts), the same answer as
 * SQLite's walk (approval-queue-sql.ts) for the same requests. Before, the PostgreSQL store walked
 * the requesters one seek (one network round trip) at a time and loaded each shown request with
 * two more: a page view with 300 requesters sent about 700 queries. Its plan: index seeks on the
 * pending index, never a scan of approvals nor a step through one requester's 50,000 requests.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { openSqliteStore, type ApprovalStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { MAX_REQUESTERS_WALKED } from '../../src/recorder/approval-queue-sql.js';
import { PG_PENDING_QUEUE } from '../../src/recorder/pg-approval-queue.js';
import { pgStoreSuite } from './pg-store-suite.js';
import { approvalRequest } from './fixtures.js';

const FAR = '2099-01-01T00:00:00.000Z';
const at = (i: number) => new Date(Date.UTC(2026, 10, 28, 10) + i * 1000).toISOString();
const CALL = JSON.stringify({ tool: 'query_database', connection: 'shop', args: { connection: 'shop', sql: 'UPDATE orders SET total = 1' } });

const varied = pgStoreSuite('pgqueuevaried');
const many = pgStoreSuite('pgqueuemany');
const plans = pgStoreSuite('pgqueueplan');

let dir = '';
const sqlite: SqliteTranscriptStore[] = [];
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'warden-pgqueue-'));
});
after(async () => {
  for (const s of sqlite) await s.close();
  rmSync(dir, { recursive: true, force: true });
});
const openSqlite = (name: string) => {
  const s = openSqliteStore(join(dir, `${name}.db`));
  sqlite.push(s);
  return s;
};

type Q = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** Count the queries the PostgreSQL store's approval tables send from here on. */
function countQueries(tables: ApprovalStore): () => number {
  const t = tables as unknown as { q: Q };
  const inner = t.q;
  let n = 0;
  t.q = (sql, params) => (n++, inner(sql, params));
  return () => n;
}

const SUBJECTS = ['ana', 'bob', 'cy', 'dee', 'eve', 'agent-9'];
const AUTHS = ['oidc', 'ldap', 'local'];

/**
 * 90 requests of 6 subjects by up to 3 identity sources each, in an order that is neither by name
 * nor by source; every 7th needs two approvals and gets one (pending, with a decision), every 11th
 * is denied (not pending).
 */
async function feedVaried(tables: ApprovalStore): Promise<void> {
  for (let i = 0; i < 90; i++) {
    const id = `v-${i}`;
    await tables.create(approvalRequest(id, at(i), { requester: SUBJECTS[(i * 5 + Math.floor(i / 13)) % 6]!, requesterAuth: AUTHS[(i * 7 + Math.floor(i / 4)) % 3]!, approvalsRequired: i % 7 === 0 ? 2 : 1, expiresAt: FAR, canonicalCall: CALL }));
    if (i % 7 === 0) await tables.decide(id, { reviewer: 'dora', decision: 'approve', comment: `ok ${i}`, auth: 'oidc', at: at(i + 1) }, () => undefined);
    else if (i % 11 === 0) await tables.decide(id, { reviewer: 'dora', decision: 'deny', comment: null, auth: 'oidc', at: at(i + 1) }, () => undefined);
  }
}

/** Requesters `from`..`to - 1`, one request each, newest-named first (age order is not name order). */
async function feedMany(tables: ApprovalStore, from: number, to: number): Promise<void> {
  for (let i = to - 1; i >= from; i--) {
    const name = `r-${String(i).padStart(4, '0')}`;
    await tables.create(approvalRequest(`${name}-a`, at(10_000 - i), { requester: name, expiresAt: FAR, canonicalCall: CALL }));
  }
}

const SHAPES: [number, number, string | undefined][] = [
  [10, 20, undefined], [3, 4, undefined], [1, 1, undefined], [2, 100, undefined], [10, 20, 'ana'], [1, 2, 'agent-9'], [10, 20, 'nobody'],
];

async function same(pgTables: ApprovalStore, liteTables: ApprovalStore, shapes = SHAPES): Promise<void> {
  for (const [per, max, who] of shapes) {
    assert.deepEqual(await pgTables.pendingQueue(per, max, who), await liteTables.pendingQueue(per, max, who), `pendingQueue(${per}, ${max}, ${who})`);
  }
}

test('PostgreSQL: the queue is SQLite\'s for several requesters, identity sources, decisions and the requester filter', async () => {
  const pgStore = await varied.open();
  const lite = openSqlite('varied');
  await same(pgStore.approvals, lite.approvals);
  assert.deepEqual(await pgStore.approvals.pendingQueue(10, 20), { total: 0, groups: [], requesters: 0, moreRequesters: false });
  await feedVaried(pgStore.approvals);
  await feedVaried(lite.approvals);
  await same(pgStore.approvals, lite.approvals);
  const q = await pgStore.approvals.pendingQueue(10, 20);
  assert.equal(q.requesters, 18, 'every subject by every identity source');
  assert.ok(q.groups.some((g) => g.rows.some((r) => r.decisions.length === 1)), 'a shown request carries its decision');
  const ana = await pgStore.approvals.pendingQueue(10, 20, 'ana');
  assert.deepEqual(ana.groups.map((g) => g.requester), ['ana', 'ana', 'ana']);
});

test('PostgreSQL: one pendingQueue call is one query with 300 requesters; the same answer up to and past the walk\'s cap', async () => {
  const pgStore = await many.open();
  const lite = openSqlite('many');
  // The oldest request of all, from a requester named after every r-NNNN: past the cap, the walk (by name) does not reach it.
  for (const t of [pgStore.approvals, lite.approvals]) await t.create(approvalRequest('zz-1', at(0), { requester: 'zz-oldest', expiresAt: FAR, canonicalCall: CALL }));
  for (const t of [pgStore.approvals, lite.approvals]) await feedMany(t, 0, 300);
  const queries = countQueries(pgStore.approvals);
  const q = await pgStore.approvals.pendingQueue(10, 20);
  assert.ok(queries() <= 2, `${queries()} queries for one page view`);
  assert.deepEqual([q.total, q.requesters, q.groups.length, q.moreRequesters, q.groups[0]!.requester, q.groups[1]!.requester], [301, 301, 20, true, 'zz-oldest', 'r-0299']);
  assert.deepEqual(q, await lite.approvals.pendingQueue(10, 20));
  for (const t of [pgStore.approvals, lite.approvals]) await feedMany(t, 300, MAX_REQUESTERS_WALKED - 1);
  const full = await pgStore.approvals.pendingQueue(10, 20);
  assert.deepEqual([full.requesters, full.requestersCapped, full.groups[0]!.requester], [MAX_REQUESTERS_WALKED, undefined, 'zz-oldest'], 'exactly the cap: not capped');
  await same(pgStore.approvals, lite.approvals);
  // One more requester: the walk stops at the cap and says so.
  for (const t of [pgStore.approvals, lite.approvals]) await feedMany(t, MAX_REQUESTERS_WALKED - 1, MAX_REQUESTERS_WALKED);
  const capped = await pgStore.approvals.pendingQueue(10, 20);
  assert.deepEqual([capped.total, capped.requesters, capped.requestersCapped, capped.moreRequesters], [MAX_REQUESTERS_WALKED + 1, MAX_REQUESTERS_WALKED, true, true]);
  assert.equal(capped.groups[0]!.requester, 'r-0299', 'the oldest of the walked requesters');
  await same(pgStore.approvals, lite.approvals, [...SHAPES, [10, 20, 'zz-oldest'], [5, 3, 'r-0000']]);
  const before = queries();
  const only = await pgStore.approvals.pendingQueue(10, 20, 'zz-oldest');
  assert.ok(queries() - before <= 2, `${queries() - before} queries with the requester filter`);
  assert.deepEqual(only.groups.map((g) => g.rows.map((r) => r.id)), [['zz-1']], 'the filter reaches a requester past the cap');
});

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Shared Hit Blocks'?: number;
  'Shared Read Blocks'?: number;
  Plans?: PlanNode[];
}
const nodes = (n: PlanNode): PlanNode[] => [n, ...(n.Plans ?? []).flatMap(nodes)];

test('PostgreSQL: the statement seeks the pending index; its walk does not step through one requester\'s 50,000 requests', async () => {
  const pgStore = await plans.open();
  const db = plans.db;
  for (const [i, [who, auth]] of [['aa', 'oidc'], ['agent-x', 'ldap'], ['bob', 'oidc'], ['agent-x', 'zz'], ['zed', 'oidc']].entries()) {
    await pgStore.approvals.create(approvalRequest(`few-${i}`, at(i), { requester: who!, requesterAuth: auth!, expiresAt: FAR, canonicalCall: CALL }));
  }
  // 50,000 pending of agent-x by oidc (between its ldap and zz) and 450,000 decided, straight into the table.
  await db.query(`INSERT INTO approvals (id, state, requester, requester_groups, requester_auth, tool, connection, canonical_call, call_hash, summary, rule_ids, approval_rule, approvals_required, reviewers, created_at, expires_at, seq)
    SELECT 'bulk-' || g, CASE WHEN g % 10 = 0 THEN 'pending' ELSE 'used' END, CASE WHEN g % 10 = 0 THEN 'agent-x' ELSE 'agent-' || (g % 50) END, '[]', 'oidc', 'query_database', 'shop', '{}', 'h' || g, 's', '[]', 'r', 1, '{}', '${FAR}', '${FAR}', 1000000 + g
    FROM generate_series(1, 500000) g`);
  await db.query('VACUUM ANALYZE approvals');
  const q = await pgStore.approvals.pendingQueue(10, 20);
  assert.deepEqual(q.groups.map((g) => [g.requester, g.requesterAuth, g.count]), [['aa', 'oidc', 1], ['agent-x', 'ldap', 1], ['bob', 'oidc', 1], ['agent-x', 'zz', 1], ['zed', 'oidc', 1], ['agent-x', 'oidc', 50_000]]);
  for (const [filter, params] of [[false, [10, 20, MAX_REQUESTERS_WALKED]], [true, [10, 20, MAX_REQUESTERS_WALKED, 'agent-x']]] as const) {
    const sql = PG_PENDING_QUEUE(filter);
    const [{ Plan: plan }] = (await db.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${sql}`, [...params])).rows[0]!['QUERY PLAN'] as [{ Plan: PlanNode }];
    const all = nodes(plan);
    const text = JSON.stringify(plan, null, 1);
    assert.ok(!all.some((n) => n['Node Type'] === 'Seq Scan'), `no sequential scan\n${text}`);
    const walk = all.find((n) => n['Node Type'] === 'Recursive Union');
    assert.ok(walk, text);
    const steps = nodes(walk).filter((n) => n['Relation Name'] === 'approvals');
    assert.ok(steps.length > 0 && steps.every((n) => n['Index Name'] === 'approvals_pending'), `the walk seeks approvals_pending\n${JSON.stringify(walk, null, 1)}`);
    // Stepping through agent-x's 50,000 index entries reads some 250 of the index's pages (the filtered walk did: 500).
    const blocks = (walk['Shared Hit Blocks'] ?? 0) + (walk['Shared Read Blocks'] ?? 0);
    assert.ok(blocks < 100, `the walk read ${blocks} blocks\n${JSON.stringify(walk, null, 1)}`);
  }
});
