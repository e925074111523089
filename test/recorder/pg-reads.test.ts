/**
 * The PostgreSQL store's reviewer reads (pg-reads.ts) against a real server with a seeded store of
 * 100,000 calls: the free-text search reads a bounded number of rows whatever the store's size
 * (checked on the plan PostgreSQL ran, EXPLAIN ANALYZE), a session page's header reads the
 * session row alone (never all its calls), search text is never a LIKE pattern.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pgSearchSessions, pgSessionRecords } from '../../src/recorder/pg-reads.js';
import { TEXT_MATCH_BOUND } from '../../src/recorder/sqlite-search.js';
import { pgStoreSuite } from './pg-store-suite.js';

const suite = pgStoreSuite('pgreads');
const SESSIONS = 20_000;
const CALLS_PER_SESSION = 5;
const principal = { subject: 'alice', groups: ['dev'], authMethod: 'oidc' as const };

let seeded: Promise<void> | undefined;
/** The schema, then the seeded rows, once (in the first test: the suite's database exists by then). */
const seed = () => (seeded ??= seedStore());
async function seedStore(): Promise<void> {
  await suite.open(); // creates the schema
  // Seed straight into the tables (the search reads sessions and calls only): one row a second,
  // seqs below the real chain's (the store's own writes stay the newest by seq and by time).
  const at = (g: string) => `to_char(timestamp '2026-01-01' + (${g}) * interval '1 second', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
  await suite.db.query(`INSERT INTO sessions (id, subject, principal, client, transport, started_at, open_seq)
    SELECT 'seed-s' || g, 'alice', '{"subject":"alice"}', '{}', 'http', ${at('g * 10')}, g - 10000000 FROM generate_series(1, ${SESSIONS}) g`);
  await suite.db.query(`INSERT INTO calls (id, session_id, seq, tool, connection, args, facts_summary, facts, decision, rule_ids, started_at)
    SELECT 'seed-c' || g, 'seed-s' || ((g - 1) / ${CALLS_PER_SESSION} + 1), g - 5000000, 'query_database', 'analytics',
      '{"sql":"SELECT ' || g || ' FROM orders"}', 'read', '{}', 'allow', '[]', ${at(`((g - 1) / ${CALLS_PER_SESSION} + 1) * 10 + (g - 1) % ${CALLS_PER_SESSION}`)}
    FROM generate_series(1, ${SESSIONS * CALLS_PER_SESSION}) g`);
  await suite.db.query('ANALYZE sessions; ANALYZE calls');
}

interface PlanNode {
  'Relation Name'?: string;
  'Actual Rows'?: number;
  'Actual Loops'?: number;
  'Rows Removed by Filter'?: number;
  Plans?: PlanNode[];
}

/** Rows every scan of `sessions`, `calls` or `records` read (kept or filtered out), over all its loops. */
function rowsRead(n: PlanNode): number {
  const own = n['Relation Name'] === 'calls' || n['Relation Name'] === 'sessions' || n['Relation Name'] === 'records'
    ? ((n['Actual Rows'] ?? 0) + (n['Rows Removed by Filter'] ?? 0)) * (n['Actual Loops'] ?? 1)
    : 0;
  return own + (n.Plans ?? []).reduce((a, p) => a + rowsRead(p), 0);
}

/** Run the real search's statements under EXPLAIN ANALYZE on the seeded store; the rows each read. */
async function searchCost(f: Parameters<typeof pgSearchSessions>[1]): Promise<number[]> {
  const costs: number[] = [];
  await pgSearchSessions(async (sql, params) => {
    const r = await suite.db.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
    costs.push(rowsRead((r.rows[0] as { 'QUERY PLAN': Array<{ Plan: PlanNode }> })['QUERY PLAN'][0]!.Plan));
    return { rows: [], rowCount: 0, command: 'SELECT', oid: 0, fields: [] } as pg.QueryResult;
  }, f);
  return costs;
}

test('a free-text search reads a bounded number of rows of a 100,000-call store (no scan of every call or session)', async () => {
  await seed();
  const bound = 2 * TEXT_MATCH_BOUND + 1000;
  for (const text of ['no call says this', 'x', 'SELECT 99999 FROM', 'orders', 'SELECT 99000 FROM']) {
    const costs = await searchCost({ text, limit: 50 });
    assert.ok(costs.length > 0);
    for (const c of costs) assert.ok(c <= bound, `search ${JSON.stringify(text)} read ${c} rows (bound ${bound})`);
  }
  // With the other filters beside the text, too.
  for (const c of await searchCost({ text: 'orders', tool: 'no_such_tool', subject: 'alice', limit: 50 })) assert.ok(c <= bound, `read ${c} rows`);
});

test('free-text search finds the newest calls and treats % _ \\ as plain characters', async () => {
  await seed();
  const s = await suite.open();
  const sid = randomUUID();
  await s.openSession({ id: sid, principal, client: {}, transport: 'http', startedAt: '2027-01-01T00:00:00.000Z' });
  await s.recordIntent({ id: randomUUID(), sessionId: sid, tool: 'query_database', connection: 'analytics', args: { sql: "SELECT 'a_b%cd'" }, factsSummary: 'read', facts: {}, decision: 'allow', ruleIds: [], policyVersion: 'v', startedAt: '2027-01-01T00:00:01.000Z' });
  assert.deepEqual((await s.searchSessions({ text: 'a_b%cd', limit: 5 })).sessions.map((x) => x.id), [sid]);
  assert.deepEqual((await s.searchSessions({ text: 'a_b%cd', tool: 'query_database', limit: 5 })).sessions.map((x) => x.id), [sid]);
  assert.deepEqual((await s.searchSessions({ text: 'a_b%cd', tool: 'other', limit: 5 })).sessions, []);
  // `_`, `%` and `\` match only themselves: "a%d" is not a pattern for "a_b%cd", "SELECT _" not for
  // "SELECT 1", and "a\_b" (an escaped `_` were the backslash passed through) not for "a_b".
  assert.deepEqual((await s.searchSessions({ text: 'a%d', limit: 5 })).sessions, []);
  assert.deepEqual((await s.searchSessions({ text: 'a\\_b', limit: 5 })).sessions, []);
  assert.deepEqual((await s.searchSessions({ text: 'SELECT _', limit: 5 })).sessions, []);
  assert.equal((await s.searchSessions({ text: 'orders', limit: 3 })).sessions.length, 3);
});

test("a session's header (the UI session page, every live refresh) reads the session row, not its calls", async () => {
  await seed();
  const s = await suite.open();
  const sid = randomUUID();
  await s.openSession({ id: sid, principal, client: {}, transport: 'http', startedAt: new Date().toISOString() });
  await s.recordIntent({ id: randomUUID(), sessionId: sid, tool: 'query_database', connection: 'analytics', args: { sql: 'SELECT 1' }, factsSummary: 'read', facts: {}, decision: 'allow', ruleIds: [], policyVersion: 'v', startedAt: new Date().toISOString() });
  // Hold the calls table: a read that touches it waits (seen in pg_locks); one that does not returns.
  const holder = new pg.Client({ connectionString: suite.db.url });
  await holder.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('LOCK TABLE calls IN ACCESS EXCLUSIVE MODE');
    const info = s.sessionInfo(sid).then((r) => ({ done: r }));
    let stop = false;
    const waited = (async () => {
      while (!stop) {
        const w = await suite.db.query(`SELECT count(*) AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'calls' AND NOT l.granted`);
        if (Number(w.rows[0]?.n) > 0) return 'waited on calls' as const;
        await new Promise((r) => setTimeout(r, 10));
      }
      return 'stopped' as const;
    })();
    const first = await Promise.race([info, waited]);
    stop = true;
    await holder.query('COMMIT');
    await Promise.all([info, waited]);
    assert.notEqual(first, 'waited on calls', 'sessionInfo read the calls table');
    assert.equal((first as { done: { id: string; callCount: number } | null }).done?.id, sid);
    assert.equal((first as { done: { id: string; callCount: number } | null }).done?.callCount, 1);
  } finally {
    await holder.end();
  }
});

test('a page position past what a bigint holds is refused as invalid input (HTTP 400), not a store failure', async () => {
  await seed();
  const s = await suite.open();
  const sid = randomUUID();
  await s.openSession({ id: sid, principal, client: {}, transport: 'http', startedAt: new Date().toISOString() });
  await s.recordIntent({ id: randomUUID(), sessionId: sid, tool: 'query_database', connection: 'analytics', args: { sql: 'SELECT 1' }, factsSummary: 'read', facts: {}, decision: 'allow', ruleIds: [], policyVersion: 'v', startedAt: new Date().toISOString() });
  const huge = Buffer.from(JSON.stringify(['2026-01-01T00:00:00.000Z', 1e300]), 'utf8').toString('base64url');
  await assert.rejects(s.searchSessions({ cursor: huge, limit: 5 }), { code: 'WARDEN_INVALID_INPUT' });
  await assert.rejects(s.sessionCalls(sid, 1e300, 10), { code: 'WARDEN_INVALID_INPUT' });
  await assert.rejects(s.sessionRecords(sid, 1e300, 10), { code: 'WARDEN_INVALID_INPUT' });
  await assert.rejects(s.sessionCalls(sid, 0, 2 ** 64), { code: 'WARDEN_INVALID_INPUT' });
  await assert.rejects(s.readRecordsBetween(1e300, 10), { code: 'WARDEN_INVALID_INPUT' });
  assert.equal((await s.sessionCalls(sid, 0, 10)).length, 1);
  assert.equal((await s.sessionRecords(sid, 0, 10)).length, 2);
});

test('filtering sessions by decision, connection or tool reads a bounded number of rows of a 100,000-call store', async () => {
  await seed();
  const bound = 2 * TEXT_MATCH_BOUND + 1000;
  const filters: Array<Parameters<typeof pgSearchSessions>[1]> = [{ decision: 'deny' }, { connection: 'nowhere' }, { tool: 'no_such_tool' }, { decision: 'allow' }, { connection: 'analytics' }, { decision: 'deny', connection: 'analytics' }];
  for (const f of filters) {
    const costs = await searchCost({ ...f, limit: 50 });
    assert.ok(costs.length > 0);
    for (const c of costs) assert.ok(c <= bound, `filter ${JSON.stringify(f)} read ${c} rows (bound ${bound})`);
  }
});

test("a session's records (the UI session page, every live refresh) read the session's own records, not every record since it opened", async () => {
  await seed();
  const s = await suite.open();
  const sid = randomUUID();
  await s.openSession({ id: sid, principal, client: {}, transport: 'http', startedAt: new Date().toISOString() });
  // 100,000 records of other sessions written while this one stays open (seqs the chain then skips).
  const head = Number((await suite.db.query('SELECT seq FROM chain_head')).rows[0]!.seq);
  await suite.db.query(`INSERT INTO records (seq, kind, ref_id, ts, body, prev_hash, hash)
    SELECT ${head} + g, 'call_intent', 'other-' || g, '2026-01-01T00:00:00.000Z', '{}', '', '' FROM generate_series(1, 100000) g`);
  await suite.db.query('UPDATE chain_head SET seq = seq + 100000');
  await suite.db.query('ANALYZE records');
  const callId = randomUUID();
  await s.recordIntent({ id: callId, sessionId: sid, tool: 'query_database', connection: 'analytics', args: { sql: 'SELECT 1' }, factsSummary: 'read', facts: {}, decision: 'allow', ruleIds: [], policyVersion: 'v', startedAt: new Date().toISOString() });
  const costs: number[] = [];
  const got = await pgSessionRecords(async (sql, params) => {
    const r = await suite.db.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${sql}`, params);
    costs.push(rowsRead((r.rows[0] as { 'QUERY PLAN': Array<{ Plan: PlanNode }> })['QUERY PLAN'][0]!.Plan));
    return suite.db.query(sql, params);
  }, sid, 0, 1000);
  assert.deepEqual(got.map((r) => [r.kind, r.refId]), [['session_open', sid], ['call_intent', callId]]);
  for (const c of costs) assert.ok(c <= 100, `sessionRecords read ${c} rows`);
  assert.deepEqual((await s.sessionRecords(sid, got[0]!.seq, 10)).map((r) => r.refId), [callId]);
});
