/**
 * One requester's flood of approval requests cannot hide another's from reviewers, over real HTTP
 * on a real store: the queue showed the newest 200 pending requests of all, so 250 requests an
 * agent made after alice's pushed hers out of every reviewer's sight. The queue now says how many
 * are pending and groups them by requester, each requester's oldest first, a few each. The same
 * read on PostgreSQL (one statement there), and the queries' plans on a store of 100,000 requests:
 * index seeks, no scan.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPgStore, openSqliteStore, type ApprovalStore } from '../../src/recorder/index.js';
import { FIRST_HEAD, MAX_REQUESTERS_WALKED, NEXT_AUTH, NEXT_REQUESTER, PENDING_TOTAL, REQUESTER_OLDEST, REQUESTER_PENDING } from '../../src/recorder/approval-queue-sql.js';
import { PG_PENDING_QUEUE } from '../../src/recorder/pg-approval-queue.js';
import { approvalRequest } from '../recorder/fixtures.js';
import { startReviewUi } from './fixtures.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';

const FAR = '2099-01-01T00:00:00.000Z';
const at = (i: number) => new Date(Date.UTC(2026, 10, 28, 10) + i * 1000).toISOString();

/** A stored call as the gate binds it (approvals/canonical.ts). */
const CALL = JSON.stringify({ tool: 'query_database', connection: 'shop', args: { connection: 'shop', sql: 'UPDATE orders SET total = 1' } });

/** alice's one request first, then `n` of the flooding agent's. */
async function flood(tables: ApprovalStore, n: number): Promise<void> {
  await tables.create(approvalRequest('alice-1', at(0), { requester: 'alice', expiresAt: FAR, callHash: 'h-alice', canonicalCall: CALL }));
  for (let i = 1; i <= n; i++) await tables.create(approvalRequest(`flood-${i}`, at(i), { requester: 'agent-x', expiresAt: FAR, canonicalCall: CALL }));
}

test('a reviewer sees alice\'s request however many the flooding agent made after it', async (t) => {
  const { store, approvals, ui } = await startReviewUi(t);
  await flood(store.approvals, 250);
  const cookie = ((await fetch(ui.loginUrl, { redirect: 'manual' })).headers.get('set-cookie') ?? '').split(';')[0]!;
  const page = await (await fetch(`${new URL(ui.url).origin}/ui/approvals`, { headers: { cookie } })).text();
  assert.match(page, /id="approval-alice-1"/, 'alice\'s request is on the queue');
  assert.match(page, /251 pending requests from 2 requesters/);
  assert.match(page, /agent-x \(oidc\) · 250 pending, the oldest 10 shown/);
  assert.match(page, /id="approval-flood-1"/, 'the flood\'s oldest first');
  assert.doesNotMatch(page, /id="approval-flood-250"/);
  assert.ok(page.indexOf('approval-alice-1') < page.indexOf('approval-flood-1'), 'groups by their oldest request');
});

const dbs: TestDatabase[] = [];
after(async () => {
  for (const db of dbs) await db.drop();
});

test('PostgreSQL: the same queue; its one statement uses the pending index on 100,000 requests', async (t) => {
  const db = await createTestDatabase({ prefix: 'apflood' });
  dbs.push(db);
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const s = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  t.after(() => s.close());
  await flood(s.approvals, 30);
  const q = await s.approvals.pendingQueue(10, 20);
  assert.equal(q.total, 31);
  assert.deepEqual(q.groups.map((g) => [g.requester, g.count, g.rows.length, g.rows[0]?.id]), [['alice', 1, 1, 'alice-1'], ['agent-x', 30, 10, 'flood-1']], 'the requester with the oldest pending request first');
  // 100,000 more, most of them decided, straight into the table (the plan, not the chain, is under test).
  await db.query(`INSERT INTO approvals (id, state, requester, requester_groups, requester_auth, tool, connection, canonical_call, call_hash, summary, rule_ids, approval_rule, approvals_required, reviewers, created_at, expires_at, seq)
    SELECT 'bulk-' || g, CASE WHEN g % 10 = 0 THEN 'pending' ELSE 'used' END, CASE WHEN g < 60000 THEN 'agent-x' ELSE 'agent-' || (g % 50) END, '[]', 'oidc', 'query_database', 'shop', '{}', 'h' || g, 's', '[]', 'r', 1, '{}', '${FAR}', '${FAR}', 1000000 + g
    FROM generate_series(1, 100000) g`);
  await db.query('ANALYZE approvals');
  // The store's one statement (pg-approval-queue.ts): its steps, counts and rows read approvals_pending, never the whole table.
  for (const [sql, params] of [[PG_PENDING_QUEUE(false), [10, 20, MAX_REQUESTERS_WALKED]], [PG_PENDING_QUEUE(true), [10, 20, MAX_REQUESTERS_WALKED, 'agent-x']]] as const) {
    const plan = (await db.query(`EXPLAIN ${sql}`, [...params])).rows.map((r: Record<string, unknown>) => String(r['QUERY PLAN'])).join('\n');
    assert.match(plan, /Index (Only )?Scan using approvals_pending/, plan);
    assert.doesNotMatch(plan, /Seq Scan/, plan);
  }
  const big = await s.approvals.pendingQueue(10, 20);
  assert.ok(big.groups.some((g) => g.requester === 'alice' && g.rows[0]?.id === 'alice-1'), 'alice\'s request is still read');
});

test('SQLite: the queue\'s reads use the pending index on 100,000 requests', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'warden-flood-plan-'));
  const store = openSqliteStore(join(dir, 'w.db'));
  t.after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const ins = store.db.prepare(`INSERT INTO approvals (id, state, requester, requester_groups, requester_auth, tool, connection, canonical_call, call_hash, summary, rule_ids, approval_rule, approvals_required, reviewers, created_at, expires_at, seq)
    VALUES (?, ?, ?, '[]', 'oidc', 'query_database', 'shop', '{}', ?, 's', '[]', 'r', 1, '{}', ?, ?, ?)`);
  store.db.transaction(() => {
    for (let g = 1; g <= 100_000; g++) ins.run(`bulk-${g}`, g % 10 === 0 ? 'pending' : 'used', g < 60_000 ? 'agent-x' : `agent-${g % 50}`, `h${g}`, FAR, FAR, g);
  })();
  store.db.exec('ANALYZE');
  const q = (sql: string) => sql.replace(/\$\d/g, '?');
  for (const [sql, params] of [[PENDING_TOTAL, []], [FIRST_HEAD(false), []], [FIRST_HEAD(true), ['agent-x']], [NEXT_AUTH, ['agent-x', 'ldap']], [NEXT_REQUESTER, ['agent-1']], [REQUESTER_PENDING, ['agent-x', 'oidc']], [REQUESTER_OLDEST, ['agent-x', 'oidc', 10]]] as const) {
    const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${q(sql)}`).all(...params) as { detail: string }[]).map((r) => r.detail).join(' | ');
    assert.match(plan, /USING (COVERING )?INDEX approvals_(pending|state)/, `${sql}: ${plan}`);
    assert.doesNotMatch(plan, /^SCAN approvals$|TEMP B-TREE/, `${sql}: ${plan}`);
  }
  // The walk's steps seek past the last requester's entries, never step through its requests.
  const detail = (sql: string, ...p: unknown[]) => (store.db.prepare(`EXPLAIN QUERY PLAN ${q(sql)}`).all(...p) as { detail: string }[]).map((r) => r.detail).join(' | ');
  assert.match(detail(NEXT_AUTH, 'agent-x', 'oidc'), /approvals_pending \(requester=\? AND requester_auth>\?\)/);
  assert.match(detail(NEXT_REQUESTER, 'agent-x'), /approvals_pending \(requester>\?\)/);
  const got = await store.approvals.pendingQueue(10, 20);
  assert.equal(got.requesters, 6);
  assert.equal(got.groups[0]?.requester, 'agent-x', 'the requester with the oldest pending request first');
});
