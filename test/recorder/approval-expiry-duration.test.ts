/**
 * verify judges a request's expiry against the expiry duration it was made with (`expiresMs` of
 * its `requested` record: the approval rule's `expires`), SQLite store and `verify --file` of its
 * export. Before, the record carried only the expiry time, so a request recorded with an expiry a
 * year out (by a forger, or a store that set it wrong) verified like one made under `expires: 1h`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { openSqliteStore, type SqliteTranscriptStore } from '../../src/recorder/index.js';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { ExportVerifier } from '../../src/recorder/export-verify.js';
import { approvalRequest, session, tempDir } from './fixtures.js';
import { canonicalJson } from '../../src/recorder/canonical-json.js';
import { approvalInsert, requestedEvent } from '../../src/recorder/approval-rules.js';
import type { PgTx, PgWriter } from '../../src/recorder/pg-writer.js';
import { pgStoreSuite } from './pg-store-suite.js';

const HOUR = 3_600_000;

async function store(t: { after: (fn: () => void) => void }): Promise<SqliteTranscriptStore> {
  const s = openSqliteStore(join(tempDir(t), 'w.db'));
  t.after(() => s.close());
  await s.openSession(session('s1'));
  return s;
}

async function exportCheck(s: SqliteTranscriptStore) {
  const lines: string[] = [];
  assert.equal(await runTranscriptsCommand(['export'], { store: s, json: false, out: (l) => lines.push(l), err: () => {} }), 0);
  const v = new ExportVerifier();
  for (const l of lines.join('\n').split('\n')) v.add(l);
  return v.finish();
}

test('the requested record carries the expiry duration; a request within it (and the clock tolerance) verifies', async (t) => {
  const s = await store(t);
  await s.approvals.create(approvalRequest('ok1', '2026-11-28T10:00:00.000Z', { expiresAt: '2026-11-28T11:00:00.000Z', ttlMs: HOUR }));
  await s.approvals.create(approvalRequest('ok2', '2026-11-28T10:00:00.000Z', { expiresAt: '2026-11-28T11:00:04.000Z', ttlMs: HOUR }));
  const body = JSON.parse((s.db.prepare(`SELECT body FROM records WHERE kind = 'approval_event' AND ref_id = 'ok1'`).get() as { body: string }).body);
  assert.equal(body.expiresMs, HOUR);
  const v = await s.verify();
  assert.deepEqual([v.ok, v.firstBroken], [true, undefined]);
});

test('an expiry longer than the recorded duration is reported (coded), by verify and verify --file', async (t) => {
  const s = await store(t);
  const r = await s.approvals.create(approvalRequest('long', '2026-11-28T10:00:00.000Z', { expiresAt: '2027-11-28T10:00:00.000Z', ttlMs: HOUR }));
  const v = await s.verify();
  assert.equal(v.ok, false);
  assert.equal(v.firstBroken?.seq, r.seq);
  assert.match(v.firstBroken!.reason, /^APPROVAL_EXPIRY_TOO_LONG: approval request "long" expires at 2027-11-28T10:00:00.000Z, more than its expiry duration 3600 s after it was requested at 2026-11-28T10:00:00.000Z/);
  const f = await exportCheck(s);
  assert.equal(f.ok, false);
  assert.match(f.firstBroken!.reason, /^APPROVAL_EXPIRY_TOO_LONG: /);
});

test('a duration that is no number of milliseconds is reported', async (t) => {
  const s = await store(t);
  await s.approvals.create(approvalRequest('bad', '2026-11-28T10:00:00.000Z', { expiresAt: '2026-11-28T11:00:00.000Z', ttlMs: -5 }));
  const v = await s.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken!.reason, /^APPROVAL_EXPIRY_INVALID: approval request "bad" has no valid expiry duration \(-5\)/);
});

const pgLegit = pgStoreSuite('pgexpdurok');
const pgForged = pgStoreSuite('pgexpdurbad');

test('PostgreSQL: a request made with ttlMs (the database\'s clock) records it and verifies; a forged longer expiry is reported', async () => {
  const ok = await pgLegit.open();
  await ok.openSession(session('s1'));
  const made = await ok.approvals.create(approvalRequest('pg1', '2026-11-28T10:00:00.000Z', { ttlMs: HOUR }));
  assert.equal(Date.parse(made.expiresAt) - Date.parse(made.createdAt), HOUR);
  const v = await ok.verify();
  assert.deepEqual([v.ok, v.firstBroken], [true, undefined]);
  const bad = await pgForged.open();
  await bad.openSession(session('s1'));
  // Appended with the store's own writer (chain head lock, hashes), none of its checks: a 1 h request expiring in a year.
  const forged = approvalRequest('pg2', '2026-11-28T10:00:00.000Z', { expiresAt: '2027-11-28T10:00:00.000Z', ttlMs: HOUR });
  let seq = 0;
  await (bad.approvals as unknown as { writer: PgWriter }).writer.write(async (tx: PgTx) => {
    seq = await tx.append('approval_event', 'pg2', forged.createdAt, canonicalJson(requestedEvent(forged)));
    const ins = approvalInsert(forged, seq, (n) => `$${n}`);
    await tx.q(ins.sql, ins.params);
  });
  const w = await bad.verify();
  assert.equal(w.ok, false);
  assert.equal(w.firstBroken?.seq, seq);
  assert.match(w.firstBroken!.reason, /^APPROVAL_EXPIRY_TOO_LONG: approval request "pg2" /);
});
