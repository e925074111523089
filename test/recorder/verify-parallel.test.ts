import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import type { SqliteTranscriptStore } from '../../src/recorder/index.js';
import { setParallelVerifyThreshold } from '../../src/recorder/verify-parallel.js';
import type { VerifyResult } from '../../src/recorder/types.js';
import { intent, outcome, session, tempDir } from './fixtures.js';

// 20 sessions x 5 calls: 20 * (1 + 10 + 1) = 240 records; the worker walks from seq 133 on (55 % split).
const TOTAL = 240;

async function seeded(t: { after: (fn: () => void) => void }): Promise<{ store: SqliteTranscriptStore; evil: Database.Database }> {
  const path = join(tempDir(t), 'w.db');
  const store = openSqliteStore(path);
  for (let s = 0; s < 20; s++) {
    await store.openSession(session(`s${s}`, `agent-${s % 3}`));
    for (let k = 0; k < 5; k++) {
      const id = `c${s}-${k}`;
      await store.recordIntent(intent(id, `s${s}`, k % 2 ? 'ssh_run' : 'query_database'));
      await store.recordOutcome(id, outcome());
    }
    await store.closeSession(`s${s}`, '2026-11-27T10:05:00.000Z');
  }
  const evil = new Database(path);
  evil.exec('DROP TRIGGER records_append_only_update; DROP TRIGGER records_append_only_delete;');
  t.after(() => {
    evil.close();
    void store.close();
  });
  return { store, evil };
}

// Verify once on one thread and once split across a worker; both must say exactly the same.
async function both(store: SqliteTranscriptStore): Promise<VerifyResult> {
  const before = setParallelVerifyThreshold(Number.MAX_SAFE_INTEGER);
  let single: VerifyResult;
  try {
    single = await store.verify();
  } finally {
    setParallelVerifyThreshold(10);
  }
  try {
    const parallel = await store.verify();
    assert.deepEqual(parallel, single);
    return parallel;
  } finally {
    setParallelVerifyThreshold(before);
  }
}

test('a clean chain verifies the same on one thread and on two', async (t) => {
  const { store } = await seeded(t);
  const v = await both(store);
  assert.equal(v.ok, true);
  assert.equal(v.records, TOTAL);
  assert.equal(v.head?.seq, TOTAL);
});

test('an edited body in the worker span is found at its seq', async (t) => {
  const { store, evil } = await seeded(t);
  evil.prepare(`UPDATE records SET body = body || ' ' WHERE seq = 200`).run();
  const v = await both(store);
  assert.equal(v.ok, false);
  assert.deepEqual(v.firstBroken, { seq: 200, reason: 'hash mismatch: the record was edited' });
  assert.equal(v.records, 199);
});

test('a deleted record at the split point and one in each span are found', async (t) => {
  const { store, evil } = await seeded(t);
  evil.prepare('DELETE FROM records WHERE seq = 132').run();
  let v = await both(store);
  assert.equal(v.firstBroken?.seq, 132);
  assert.match(v.firstBroken?.reason ?? '', /record 132 is missing/);
  evil.prepare('DELETE FROM records WHERE seq = 20').run();
  v = await both(store);
  assert.equal(v.firstBroken?.seq, 20);
});

test('a reordered pair and an edited calls.result in the worker span are found', async (t) => {
  const { store, evil } = await seeded(t);
  evil.prepare(`UPDATE calls SET result = '{"rows":[]}' WHERE id = 'c18-2'`).run();
  let v = await both(store);
  assert.match(v.firstBroken?.reason ?? '', /calls row "c18-2" differs from its record \(result\)/);
  evil.exec('UPDATE records SET seq = -1 WHERE seq = 150; UPDATE records SET seq = 150 WHERE seq = 151; UPDATE records SET seq = 151 WHERE seq = -1;');
  v = await both(store);
  assert.equal(v.firstBroken?.seq, 150);
  assert.match(v.firstBroken?.reason ?? '', /prev_hash/);
});

test('rows the merge does not find in place still verify through the exact check', async (t) => {
  const { store, evil } = await seeded(t);
  // Move a calls row to the end of rowid order: the scan misses it, the exact check finds it by id.
  evil.exec(`CREATE TEMP TABLE moved AS SELECT * FROM calls WHERE id = 'c3-1';
    DELETE FROM calls WHERE id = 'c3-1'; INSERT INTO calls SELECT * FROM moved;`);
  let v = await both(store);
  assert.equal(v.ok, true);
  assert.equal(v.records, TOTAL);
  // A forged row is still an orphan even though every record found its row.
  evil.prepare(`INSERT INTO calls (id, session_id, seq, tool, args, facts, decision, rule_ids, started_at)
    VALUES ('forged', 's1', 999, 'ssh_run', '{}', 'null', 'allow', '[]', '2026-11-27T10:01:00Z')`).run();
  evil.prepare(`UPDATE sessions SET call_count = call_count + 1 WHERE id = 's1'`).run();
  v = await both(store);
  assert.deepEqual(v.firstBroken, { seq: 999, reason: 'calls row "forged" has no call_intent record' });
});

test('call_facets: a facet deleted in the worker span or forged is found, on one thread and on two', async (t) => {
  const { store, evil } = await seeded(t);
  // s15's ssh_run calls are walked by the worker; without their facet s15 leaves the ssh_run filter.
  const firstSsh = (evil.prepare(`SELECT seq FROM calls WHERE session_id = 's15' AND tool = 'ssh_run' ORDER BY seq LIMIT 1`).get() as { seq: number }).seq;
  evil.prepare(`DELETE FROM call_facets WHERE session_id = 's15' AND tool = 'ssh_run'`).run();
  const lost = await both(store);
  assert.equal(lost.ok, false);
  assert.equal(lost.firstBroken?.seq, firstSsh);
  assert.match(lost.firstBroken?.reason ?? '', /call_facets lacks session s15 \/ tool ssh_run .*hidden from that filter/);
  evil.prepare(`INSERT INTO call_facets (session_id, tool, connection, decision) VALUES ('s15', 'ssh_run', 'analytics', 'allow')`).run();
  assert.equal((await both(store)).ok, true, 'restored');
  // A forged facet puts s3 under kubectl_exec, which none of its calls used.
  evil.prepare(`INSERT INTO call_facets (session_id, tool, connection, decision) VALUES ('s3', 'kubectl_exec', 'analytics', 'allow')`).run();
  const open3 = (evil.prepare(`SELECT open_seq FROM sessions WHERE id = 's3'`).get() as { open_seq: number }).open_seq;
  const forged = await both(store);
  assert.equal(forged.ok, false);
  assert.equal(forged.firstBroken?.seq, open3);
  assert.match(forged.firstBroken?.reason ?? '', /call_facets lists session s3 \/ tool kubectl_exec .*which no recorded call has/);
});
