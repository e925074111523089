/**
 * Red-team findings against verify: an attacker with write access to the store file (not the
 * key) launders a cut or rewritten chain through the key holder's next signature, hides a session
 * behind an index that disagrees with its table, or swaps a verified table for a view.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import { recordHash } from '../../src/recorder/hash-chain.js';
import { session, tempDir } from './fixtures.js';
import { keyPem, twoSessions } from './rollback-fixture.js';
import { readSignedHead, writeSignedHead } from './signed-head-row.js';

test('a cut tail is not laundered by the next signed write: the signed head stays on the record that was cut', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = await twoSessions(path, keyPem());
  t.after(() => store.close());
  await store.searchSessions({ text: 'users' }); // the free-text index catches up first
  const evil = new Database(path);
  evil.exec(`DROP TRIGGER records_append_only_delete;
    DELETE FROM records WHERE seq >= 5; DELETE FROM calls_fts WHERE rowid = 6;
    DELETE FROM calls WHERE session_id = 's2'; DELETE FROM call_facets WHERE session_id = 's2'; DELETE FROM sessions WHERE id = 's2';
    UPDATE fts_progress SET call_rowid = (SELECT coalesce(MAX(rowid), 0) FROM calls);`);
  evil.close();
  assert.match((await store.verify()).firstBroken?.reason ?? '', /tail truncated/);
  // The server goes on writing (seq 5.. again, past the old signed seq 8 eventually).
  for (let i = 0; i < 5; i++) await store.openSession(session(`n${i}`, 'carol', `2026-04-0${i + 1}T10:00:00.000Z`));
  const v = await store.verify();
  assert.equal(v.ok, false, 'the key holder must not sign over a chain that lost its signed head');
  assert.match(v.firstBroken!.reason, /signed head/);
});

test('a rewritten chain (hashes recomputed) is not laundered by the next signed write', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = await twoSessions(path, keyPem());
  t.after(() => store.close());
  const evil = new Database(path);
  evil.exec('DROP TRIGGER records_append_only_update');
  // Change who the session belongs to in record 5 and its row, then rehash 5..8.
  const rows = evil.prepare('SELECT * FROM records WHERE seq >= 5 ORDER BY seq').all() as Array<Record<string, string>>;
  let prev = (evil.prepare('SELECT hash FROM records WHERE seq = 4').get() as { hash: string }).hash;
  for (const r of rows) {
    const body = r.body!.replaceAll('"bob"', '"mallory"');
    const hash = recordHash(prev, r.kind!, r.ref_id!, r.ts!, body);
    evil.prepare('UPDATE records SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?').run(body, prev, hash, r.seq);
    prev = hash;
  }
  evil.prepare(`UPDATE sessions SET subject = 'mallory', principal = replace(principal, '"bob"', '"mallory"') WHERE id = 's2'`).run();
  evil.close();
  assert.match((await store.verify()).firstBroken?.reason ?? '', /not the record the signed head names/);
  await store.openSession(session('n1', 'carol', '2026-04-01T10:00:00.000Z'));
  const v = await store.verify();
  assert.equal(v.ok, false, 'the key holder must not sign over a rewritten chain');
  assert.match(v.firstBroken!.reason, /not the record the signed head names/);
});

test('a head file forged to name a rewritten record (bad signature) is not re-signed either', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = await twoSessions(path, keyPem());
  t.after(() => store.close());
  const h = readSignedHead(path);
  assert.ok(h && h !== 'malformed');
  writeSignedHead(path, { ...h, signature: Buffer.alloc(64).toString('base64') });
  await store.openSession(session('n1', 'carol', '2026-04-01T10:00:00.000Z'));
  const v = await store.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken!.reason, /valid signature/);
});

test('a legitimate history still signs on: a crash-left unsigned tail and a purge of the whole chain', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const pem = keyPem();
  const store = await twoSessions(path, pem);
  await store.purge('2027-01-01T00:00:00.000Z');
  await store.openSession(session('n1', 'carol', '2027-04-01T10:00:00.000Z'));
  const v = await store.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  assert.equal(v.unsignedTail, 0);
  await store.close();
});

test('an index that disagrees with its table (a session left out of the listing index) is reported', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = await twoSessions(path);
  await store.close();
  const evil = new Database(path);
  evil.unsafeMode(true);
  evil.exec(`DROP INDEX sessions_started_at; CREATE INDEX sessions_started_at ON sessions (started_at, open_seq) WHERE id != 's2';`);
  evil.pragma('writable_schema = ON');
  evil.prepare(`UPDATE sqlite_master SET sql = 'CREATE INDEX sessions_started_at ON sessions (started_at, open_seq)' WHERE name = 'sessions_started_at'`).run();
  evil.close();
  const r = openSqliteStore(path, { readonly: true });
  t.after(() => r.close());
  assert.deepEqual((await r.listSessions()).map((s) => s.id), ['s1'], 'the reviewer no longer sees s2');
  const v = await r.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken!.reason, /sessions_started_at/);
});

test('a verified table swapped for a view, or an unexpected trigger, is reported', async (t) => {
  const path = join(tempDir(t), 'w.db');
  const store = await twoSessions(path);
  await store.close();
  const evil = new Database(path);
  evil.exec(`ALTER TABLE call_facets RENAME TO cf_real; CREATE VIEW call_facets AS SELECT * FROM cf_real WHERE session_id != 's2';`);
  evil.close();
  const r = openSqliteStore(path, { readonly: true });
  assert.deepEqual((await r.searchSessions({ tool: 'ssh_run' })).sessions.map((s) => s.id), [], 'the filter hides s2');
  const v = await r.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken!.reason, /schema/);
  await r.close();
  const path2 = join(tempDir(t), 'w2.db');
  await (await twoSessions(path2)).close();
  const evil2 = new Database(path2);
  evil2.exec(`CREATE TRIGGER hide AFTER INSERT ON call_facets WHEN NEW.tool = 'drop_db' BEGIN DELETE FROM call_facets WHERE rowid = NEW.rowid; END;`);
  evil2.close();
  const r2 = openSqliteStore(path2, { readonly: true });
  t.after(() => r2.close());
  const v2 = await r2.verify();
  assert.equal(v2.ok, false);
  assert.match(v2.firstBroken!.reason, /schema.*hide/);
});

test('an approval event left out of the records table\'s approval index (and its rows edited to match) is reported', async (t) => {
  const { approvalRequest } = await import('./fixtures.js');
  const { setParallelVerifyThreshold } = await import('../../src/recorder/verify-parallel.js');
  const path = join(tempDir(t), 'w.db');
  const store = await twoSessions(path);
  await store.approvals.create(approvalRequest('a1', '2026-03-01T11:00:00.000Z'));
  await store.approvals.create(approvalRequest('a2', '2026-03-01T11:01:00.000Z'));
  assert.equal((await store.verify()).ok, true);
  await store.close();
  const evil = new Database(path);
  evil.unsafeMode(true);
  // a2's request is dropped from the index (and its row deleted): the replay, which reads the
  // events through the index, no longer expects it; the approvals queue no longer shows it.
  evil.exec(`DROP INDEX records_approval_events;
    CREATE INDEX records_approval_events ON records (seq) WHERE kind = 'approval_event' AND ref_id != 'a2';
    DELETE FROM approvals WHERE id = 'a2';`);
  evil.pragma('writable_schema = ON');
  evil.prepare(`UPDATE sqlite_master SET sql = 'CREATE INDEX records_approval_events ON records (seq) WHERE kind = ''approval_event''' WHERE name = 'records_approval_events'`).run();
  evil.close();
  const r = openSqliteStore(path, { readonly: true });
  t.after(() => r.close());
  const seen = r.db.prepare(`SELECT ref_id FROM records WHERE kind = 'approval_event' ORDER BY seq`).pluck().all();
  assert.deepEqual(seen, ['a1'], 'a listing through the index misses a2');
  for (const threshold of [Number.MAX_SAFE_INTEGER, 1]) {
    // One walker, then two (the worker's span counts its approval events too).
    const before = setParallelVerifyThreshold(threshold);
    try {
      const v = await r.verify();
      assert.equal(v.ok, false, `threshold ${threshold}`);
      assert.match(v.firstBroken!.reason, /records_approval_events holds 1 entries for 2 approval_event records/);
    } finally {
      setParallelVerifyThreshold(before);
    }
  }
});

test('an approval event left out of the index a session page reads its calls\' events through (records_approval_call) is reported', async (t) => {
  const { approvalRequest } = await import('./fixtures.js');
  const { SQLITE_EVENT_CALL } = await import('../../src/recorder/session-records-sql.js');
  const path = join(tempDir(t), 'w.db');
  const store = await twoSessions(path);
  await store.approvals.create(approvalRequest('a1', '2026-03-01T11:00:00.000Z'));
  await store.approvals.create(approvalRequest('a2', '2026-03-01T11:01:00.000Z'));
  assert.equal((await store.verify()).ok, true);
  await store.close();
  const evil = new Database(path);
  evil.unsafeMode(true);
  // a2's events are dropped from the per-call index, whose definition is then put back as it was:
  // a session page, which reads its calls' events through it, would no longer show them.
  const def = evil.prepare(`SELECT sql FROM sqlite_master WHERE name = 'records_approval_call'`).pluck().get() as string;
  evil.exec(`DROP INDEX records_approval_call;
    CREATE INDEX records_approval_call ON records ((${SQLITE_EVENT_CALL}), seq) WHERE kind = 'approval_event' AND ref_id != 'a2';`);
  evil.pragma('writable_schema = ON');
  evil.prepare(`UPDATE sqlite_master SET sql = ? WHERE name = 'records_approval_call'`).run(def);
  evil.close();
  const r = openSqliteStore(path, { readonly: true });
  t.after(() => r.close());
  const v = await r.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken!.reason, /records_approval_call holds 1 entries for 2 approval_event records/);
});
