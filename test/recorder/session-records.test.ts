/**
 * A session's chain records in the SQLite store (the UI session page and each live refresh,
 * `transcripts replay`): read by the session's own seqs and the approval events naming its calls,
 * never as a range of every record from the session's open (which, for a session kept open,
 * is every other session's record written since). Checked on the plan SQLite chose.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { sessionRecords } from '../../src/recorder/sqlite-search.js';
import { approvalRequest, intent, outcome, session, tempDir } from './fixtures.js';
import { pgStoreSuite } from './pg-store-suite.js';

test("a session's records are read by key, not as a range of the records since it opened", async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void store.close());
  await store.openSession(session('s1'));
  for (let i = 0; i < 50; i++) {
    await store.openSession(session(`o${i}`));
    await store.recordIntent(intent(`oc${i}`, `o${i}`));
  }
  await store.recordIntent(intent('c1', 's1'));
  // The statements the read runs, captured, then their plans.
  const seen: string[] = [];
  const spy = new Proxy(store.db, {
    get(target, key) {
      if (key === 'prepare') return (sql: string) => (seen.push(sql), target.prepare(sql));
      const v = Reflect.get(target, key) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as Database.Database;
  const got = sessionRecords(spy, 's1', 0, 1000);
  assert.deepEqual(got.map((r) => [r.kind, r.refId]), [['session_open', 's1'], ['call_intent', 'c1']]);
  assert.ok(seen.length > 0);
  for (const sql of seen) {
    const plan = (store.db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(Object.fromEntries(Object.entries({ id: 's1', after: 0, open: 1, close: -1, last: 1e15, limit: 10, call: 'c1', events: '[]' }).filter(([k]) => new RegExp('@' + k + '\\b').test(sql)))) as Array<{ detail: string }>).map((p) => p.detail);
    for (const line of plan) {
      assert.ok(!/^SCAN (records|r|e)\b/.test(line), `a scan of records: ${line}`);
      assert.ok(!/USING INTEGER PRIMARY KEY \(rowid[<>]/.test(line), `a range of records: ${line}`);
    }
  }
});

/** The records the old range query returned (the reference: which records belong to a session is unchanged). */
const OLD_SQLITE = `SELECT r.seq FROM records r WHERE r.seq >= @open AND r.seq <= @close AND r.seq > @after AND (
    r.ref_id = @id OR r.ref_id IN (SELECT id FROM calls WHERE session_id = @id)
    OR (r.kind = 'approval_event' AND (
      coalesce(json_extract(r.body, '$.sessionId'), json_extract(r.body, '$.session_id')) = @id
      OR coalesce(json_extract(r.body, '$.callId'), json_extract(r.body, '$.call_id')) IN (SELECT id FROM calls WHERE session_id = @id))))
  ORDER BY r.seq`;

/**
 * A session s1 with: a request its call c1 made (requested before c1's intent, decided after c1's
 * outcome), a request of another session's call linked to s1's call c2 (a `combined` event naming
 * c2), a request naming s1 for a call never recorded (its `requested` event belongs, its decision
 * does not), and another session's requests and calls interleaved.
 */
async function scenario(store: Pick<SqliteTranscriptStore, 'openSession' | 'recordIntent' | 'recordOutcome' | 'closeSession' | 'approvals'>): Promise<void> {
  const AT = '2026-11-28T10:00:00.000Z';
  const decide = (id: string) => store.approvals.decide(id, { reviewer: 'rev', decision: 'approve', comment: null, auth: 'oidc', at: AT }, () => undefined);
  await store.openSession(session('s0'));
  await store.openSession(session('s1'));
  await store.approvals.create(approvalRequest('a1', AT, { expiresAt: '2099-01-01T00:00:00.000Z', callId: 'c1', sessionId: 's1' }));
  await store.approvals.create(approvalRequest('a0', AT, { expiresAt: '2099-01-01T00:00:00.000Z', callId: 'c0', sessionId: 's0' }));
  await store.recordIntent(intent('c0', 's0'));
  await store.recordIntent(intent('c1', 's1'));
  await store.recordOutcome('c1', outcome());
  await store.approvals.create(approvalRequest('a2', AT, { expiresAt: '2099-01-01T00:00:00.000Z', callId: 'c0b', sessionId: 's0' }));
  await store.approvals.link(['a2'], 'comb-1', 'c2', AT);
  await store.recordIntent(intent('c2', 's1'));
  await decide('a1');
  await decide('a0');
  await store.approvals.create(approvalRequest('a3', AT, { expiresAt: '2099-01-01T00:00:00.000Z', callId: 'ghost', sessionId: 's1' }));
  await decide('a3');
  await store.recordOutcome('c0', outcome());
  await store.closeSession('s1', '2026-11-28T11:00:00.000Z');
  await store.recordOutcome('c2', outcome());
  await store.closeSession('s0', '2026-11-28T11:00:00.000Z');
}

test("a session's records are exactly those of the old range query, whole and in pages (SQLite)", async (t) => {
  const store = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => void store.close());
  await scenario(store);
  const s = store.db.prepare(`SELECT open_seq, max(close_seq, coalesce((SELECT MAX(outcome_seq) FROM calls WHERE session_id = 's1'), 0)) AS c FROM sessions WHERE id = 's1'`).get() as { open_seq: number; c: number };
  const want = store.db.prepare(OLD_SQLITE).pluck().all({ id: 's1', open: s.open_seq, close: s.c, after: 0 }) as number[];
  const got = await store.sessionRecords('s1', 0, 1000);
  assert.deepEqual(got.map((r) => r.seq), want);
  const kinds = got.map((r) => (r.kind === 'approval_event' ? `${(JSON.parse(r.body) as { event: string }).event}:${r.refId}` : `${r.kind}:${r.refId}`));
  assert.deepEqual(kinds, ['session_open:s1', 'requested:a1', 'call_intent:c1', 'call_outcome:c1', 'combined:a2', 'call_intent:c2', 'decision:a1', 'approved:a1', 'requested:a3', 'session_close:s1', 'call_outcome:c2']);
  for (const size of [1, 2, 3]) {
    const paged: number[] = [];
    for (let after = 0; ;) {
      const page = await store.sessionRecords('s1', after, size);
      if (!page.length) break;
      paged.push(...page.map((r) => r.seq));
      after = page[page.length - 1]!.seq;
    }
    assert.deepEqual(paged, want, `pages of ${size}`);
  }
});

const OLD_PG = `SELECT r.seq FROM records r WHERE r.seq >= $1 AND r.seq <= $2 AND r.seq > $3 AND (
    r.ref_id = $4 OR r.ref_id IN (SELECT id FROM calls WHERE session_id = $4)
    OR (r.kind = 'approval_event' AND (
      coalesce(r.body::jsonb ->> 'sessionId', r.body::jsonb ->> 'session_id') = $4
      OR coalesce(r.body::jsonb ->> 'callId', r.body::jsonb ->> 'call_id') IN (SELECT id FROM calls WHERE session_id = $4))))
  ORDER BY r.seq`;

const suite = pgStoreSuite('sessrec');

test("a session's records are exactly those of the old range query, whole and in pages (PostgreSQL)", async () => {
  const store = await suite.open();
  await scenario(store as unknown as Parameters<typeof scenario>[0]);
  const s = (await suite.db.query(`SELECT open_seq, GREATEST(close_seq, (SELECT MAX(outcome_seq) FROM calls WHERE session_id = 's1')) AS c FROM sessions WHERE id = 's1'`)).rows[0] as { open_seq: string; c: string };
  const want = (await suite.db.query(OLD_PG, [s.open_seq, s.c, 0, 's1'])).rows.map((r) => Number((r as { seq: string }).seq));
  assert.equal(want.length, 11);
  assert.deepEqual((await store.sessionRecords('s1', 0, 1000)).map((r) => r.seq), want);
  for (const size of [1, 2, 3]) {
    const paged: number[] = [];
    for (let after = 0; ;) {
      const page = await store.sessionRecords('s1', after, size);
      if (!page.length) break;
      paged.push(...page.map((r) => r.seq));
      after = page[page.length - 1]!.seq;
    }
    assert.deepEqual(paged, want, `pages of ${size}`);
  }
});
