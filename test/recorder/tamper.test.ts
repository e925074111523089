import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import type { SqliteTranscriptStore } from '../../src/recorder/index.js';
import { recordHash } from '../../src/recorder/hash-chain.js';
import { intent, outcome, session, tempDir } from './fixtures.js';

// Records: 1 open s1, 2 intent c1, 3 outcome c1, 4 intent c2, 5 outcome c2, 6 close s1.
async function seeded(t: { after: (fn: () => void) => void }): Promise<{ store: SqliteTranscriptStore; evil: Database.Database }> {
  const path = join(tempDir(t), 'w.db');
  const store = openSqliteStore(path);
  await store.openSession(session('s1'));
  await store.recordIntent(intent('c1', 's1'));
  await store.recordOutcome('c1', outcome());
  await store.recordIntent(intent('c2', 's1', 'ssh_run', '2026-11-27T10:00:03.000Z'));
  await store.recordOutcome('c2', outcome('2026-11-27T10:00:03.500Z'));
  await store.closeSession('s1', '2026-11-27T10:05:00.000Z');
  assert.equal((await store.verify()).ok, true);
  // A second connection, as someone with file access; they drop the append-only guard first.
  const evil = new Database(path);
  evil.exec('DROP TRIGGER records_append_only_update; DROP TRIGGER records_append_only_delete;');
  t.after(() => {
    evil.close();
    void store.close();
  });
  return { store, evil };
}

async function broken(store: SqliteTranscriptStore): Promise<{ seq: number; reason: string }> {
  const v = await store.verify();
  assert.equal(v.ok, false);
  assert.ok(v.firstBroken);
  return v.firstBroken;
}

test('the records table refuses UPDATE and DELETE while the guard is in place', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = openSqliteStore(path);
  t.after(() => store.close());
  await store.openSession(session('s1'));
  const other = new Database(path);
  t.after(() => other.close());
  assert.throws(() => other.prepare(`UPDATE records SET body = '{}'`).run(), /append-only/);
  assert.throws(() => other.prepare('DELETE FROM records').run(), /append-only/);
});

test('an edited record body is detected', async (t) => {
  const { store, evil } = await seeded(t);
  const body = (evil.prepare('SELECT body FROM records WHERE seq = 3').get() as { body: string }).body;
  evil.prepare('UPDATE records SET body = ? WHERE seq = 3').run(body.replace('"***"', '"bob@example.com"'));
  const b = await broken(store);
  assert.equal(b.seq, 3);
  assert.match(b.reason, /hash mismatch/);
});

test('an edited body with its own hash recomputed breaks the next link', async (t) => {
  const { store, evil } = await seeded(t);
  const r = evil.prepare('SELECT * FROM records WHERE seq = 2').get() as Record<string, string>;
  const body = (r.body as string).replace('"allow"', '"deny"');
  const hash = recordHash(r.prev_hash as string, r.kind as string, r.ref_id as string, r.ts as string, body);
  evil.prepare('UPDATE records SET body = ?, hash = ? WHERE seq = 2').run(body, hash);
  const b = await broken(store);
  // Record 2 itself still hashes, but the calls row no longer matches it, and record 3 points at the old hash.
  assert.equal(b.seq, 2);
  assert.match(b.reason, /calls row "c1" differs from its record \(decision\)/);
});

test('a deleted record leaves a gap in seq', async (t) => {
  const { store, evil } = await seeded(t);
  evil.prepare('DELETE FROM records WHERE seq = 4').run();
  const b = await broken(store);
  assert.equal(b.seq, 4);
  assert.match(b.reason, /missing/);
});

test('a deleted tail record is caught by the query tables', async (t) => {
  const { store, evil } = await seeded(t);
  evil.prepare('DELETE FROM records WHERE seq = 6').run();
  const b = await broken(store);
  assert.equal(b.seq, 6);
  assert.match(b.reason, /no session_close record/);
});

test('two swapped rows break prev_hash', async (t) => {
  const { store, evil } = await seeded(t);
  evil.exec('UPDATE records SET seq = -1 WHERE seq = 2; UPDATE records SET seq = 2 WHERE seq = 3; UPDATE records SET seq = 3 WHERE seq = -1;');
  const b = await broken(store);
  assert.equal(b.seq, 2);
  assert.match(b.reason, /prev_hash/);
});

test('an edited calls.result is detected against its outcome record', async (t) => {
  const { store, evil } = await seeded(t);
  evil.prepare(`UPDATE calls SET result = '{"rows":[]}' WHERE id = 'c1'`).run();
  const b = await broken(store);
  assert.equal(b.seq, 3);
  assert.match(b.reason, /calls row "c1" differs from its record \(result\)/);
});

test('the result is stored once: calls.result is NULL and readers take the result from the outcome record', async (t) => {
  const { store, evil } = await seeded(t);
  const row = evil.prepare(`SELECT c.result, r.body FROM calls c JOIN records r ON r.seq = c.outcome_seq WHERE c.id = 'c1'`).get() as { result: string | null; body: string };
  assert.equal(row.result, null);
  const stored = (JSON.parse(row.body) as { result: unknown }).result;
  assert.notEqual(stored, null);
  assert.deepEqual((await store.getCall('c1'))?.outcome?.result, stored);
  assert.deepEqual((await store.getSession('s1'))?.calls[0]?.outcome?.result, stored);
  assert.deepEqual((await store.listCalls({ sessionId: 's1' })).find((c) => c.id === 'c1')?.outcome?.result, stored);
  assert.deepEqual((await store.sessionCalls('s1', 0, 10))[0]?.outcome?.result, stored);
});

test('beside a NULL result, an edited outcome column is still detected', async (t) => {
  const { store, evil } = await seeded(t);
  evil.prepare(`UPDATE calls SET status = 'error' WHERE id = 'c1'`).run();
  const b = await broken(store);
  assert.equal(b.seq, 3);
  assert.match(b.reason, /calls row "c1" differs from its record \(status\)/);
});

test('edited sessions rows, deleted calls rows and forged rows are detected', async (t) => {
  const { store, evil } = await seeded(t);
  evil.prepare(`UPDATE sessions SET subject = 'mallory' WHERE id = 's1'`).run();
  assert.match((await broken(store)).reason, /sessions row "s1" differs from its record \(subject\)/);
  evil.prepare(`UPDATE sessions SET subject = 'alice' WHERE id = 's1'`).run();
  assert.equal((await store.verify()).ok, true);

  evil.prepare(`DELETE FROM calls WHERE id = 'c2'`).run();
  const b = await broken(store);
  assert.equal(b.seq, 4);
  assert.match(b.reason, /calls row "c2" is missing/);
});

test('a forged calls row with no record is detected', async (t) => {
  const { store, evil } = await seeded(t);
  evil
    .prepare(
      `INSERT INTO calls (id, session_id, seq, tool, args, facts, decision, rule_ids, started_at)
       VALUES ('forged', 's1', 99, 'ssh_run', '{}', 'null', 'allow', '[]', '2026-11-27T10:01:00Z')`,
    )
    .run();
  evil.prepare(`UPDATE sessions SET call_count = 3 WHERE id = 's1'`).run();
  const b = await broken(store);
  assert.equal(b.seq, 99);
  assert.match(b.reason, /calls row "forged" has no call_intent record/);
});

test('verifyRange checks only the given records', async (t) => {
  const { store, evil } = await seeded(t);
  evil.prepare(`UPDATE records SET body = '{}' WHERE seq = 5`).run();
  assert.equal((await store.verifyRange(1, 4)).ok, true);
  const v = await store.verifyRange(4, 6);
  assert.equal(v.firstBroken?.seq, 5);
});

test('a record column retyped to a BLOB with the same bytes is reported (its hash would still match)', async (t) => {
  const { store, evil } = await seeded(t);
  // The hash is computed over the text the driver decodes, so the bytes hash alike; readers that
  // take a result from its outcome record skip a non-text body and would show `null`.
  evil.exec('UPDATE records SET body = CAST(body AS BLOB) WHERE seq = 3');
  assert.equal((await store.getCall('c1'))?.outcome?.result, null);
  const b = await broken(store);
  assert.equal(b.seq, 3);
  assert.match(b.reason, /body is stored as a blob, not text/);
  evil.exec('UPDATE records SET body = CAST(body AS TEXT) WHERE seq = 3');
  assert.equal((await store.verify()).ok, true);
  evil.exec('UPDATE records SET ts = CAST(ts AS BLOB) WHERE seq = 5');
  assert.equal((await broken(store)).seq, 5);
});

test('a record column whose stored bytes are not valid UTF-8 is reported, though it reads as U+FFFD', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = openSqliteStore(path);
  t.after(() => void store.close());
  await store.openSession(session('s1'));
  await store.recordIntent(intent('c1', 's1'));
  // A result that really holds U+FFFD (a database's own replacement character), stored as EF BF BD.
  await store.recordOutcome('c1', { ...outcome(), result: { columns: ['v'], rows: [['a\uFFFDb']] } });
  assert.equal((await store.verify()).ok, true);
  const evil = new Database(path);
  t.after(() => evil.close());
  evil.exec('DROP TRIGGER records_append_only_update;');
  const hexOf = (seq: number, col: string) => (evil.prepare(`SELECT hex(CAST(${col} AS BLOB)) AS h FROM records WHERE seq = ?`).get(seq) as { h: string }).h;
  const body = hexOf(3, 'body');
  assert.equal(body.split('EFBFBD').length, 2);
  // Three bytes for three: a truncated 4-byte sequence (F0 90 80) reads as one U+FFFD, exactly as
  // EF BF BD does, so neither the text read, its hash nor a byte-length comparison tells them
  // apart (the hash and the chain stay as they were); the stored bytes do.
  const before = (evil.prepare('SELECT body FROM records WHERE seq = 3').get() as { body: string }).body;
  evil.exec(`UPDATE records SET body = CAST(X'${body.replace('EFBFBD', 'F09080')}' AS TEXT) WHERE seq = 3`);
  const row = evil.prepare('SELECT body, typeof(body) AS ty, length(CAST(body AS BLOB)) AS n FROM records WHERE seq = 3').get() as { body: string; ty: string; n: number };
  assert.deepEqual([row.body, row.ty, row.n], [before, 'text', body.length / 2], 'the driver reads the same text from as many bytes');
  const b = await broken(store);
  assert.equal(b.seq, 3);
  assert.match(b.reason, /record 3's body is not valid UTF-8/);

  // A lone invalid byte (FF) added to an ASCII column: named too, by record and column.
  evil.exec(`UPDATE records SET body = CAST(X'${body}' AS TEXT) WHERE seq = 3`);
  assert.equal((await store.verify()).ok, true);
  evil.exec(`UPDATE records SET ref_id = CAST(X'${hexOf(2, 'ref_id')}FF' AS TEXT) WHERE seq = 2`);
  const c = await broken(store);
  assert.equal(c.seq, 2);
  assert.match(c.reason, /record 2's ref_id is not valid UTF-8/);
});
