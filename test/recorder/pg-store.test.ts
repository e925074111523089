/**
 * The PostgreSQL transcript store against a real server: one chain under concurrent replicas,
 * tampering detected, interrupted calls of a dead replica marked (once its lock has stayed free
 * for the grace; a replica reconnecting its liveness connection keeps its calls and sessions),
 * approvals that cross replicas (NOTIFY wakes the waiting call long before its poll would).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { openPgStore, type PgTranscriptStore } from '../../src/recorder/index.js';
import { createApprovalService } from '../../src/approvals/index.js';
import { generateKeyPairSync } from 'node:crypto';
import { createChainSigner } from '../../src/recorder/signing.js';
import type { Decision } from '../../src/policy/types.js';
import { approvalRequest } from './fixtures.js';
import { pgStoreSuite } from './pg-store-suite.js';
import { cutLastPgRecord } from './rollback-fixture.js';
import { createTestDatabase } from '../support/pg-cluster.js';
import { runTranscriptsCommand } from '../../src/cli/transcripts-command.js';
import { LOCK_CLASS } from '../../src/recorder/pg-schema.js';
import { cuttingRelay } from '../support/cutting-relay.js';

const suite = pgStoreSuite('pgstore');
const open = () => suite.open();

const principal = { subject: 'alice', groups: ['dev'], authMethod: 'oidc' as const };
const now = () => new Date().toISOString();

async function oneCall(s: PgTranscriptStore, sessionId: string, n: number, outcome = true): Promise<string> {
  const id = randomUUID();
  await s.recordIntent({ id, sessionId, tool: 'query_database', connection: 'analytics', args: { sql: `SELECT ${n}` }, factsSummary: 'read', facts: { n }, decision: 'allow', ruleIds: ['r1'], policyVersion: 'v1', startedAt: now() }, { durable: n % 2 === 0 });
  if (outcome) await s.recordOutcome(id, { status: 'ok', errorCode: null, result: { rows: [[n]] }, masking: null, durationMs: 1.5, endedAt: now() });
  return id;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const lockOf = (s: PgTranscriptStore) => (JSON.parse(s.owner) as { lock: number }).lock;
/** Whether the liveness lock `lock` is held now (read from pg_locks, so it is never taken). */
async function lockHeld(lock: number): Promise<boolean> {
  const r = await suite.db.query(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND classid = $1::bigint::oid AND objid = $2::bigint::oid AND objsubid = 2 AND granted`, [LOCK_CLASS, lock]);
  return Number(r.rows[0]?.n) > 0;
}
async function until(what: string, ok: () => Promise<boolean>, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (await ok()) return;
  assert.fail(`timed out waiting until ${what}`);
}

test('two replicas (started together) write one verifiable chain concurrently', async () => {
  const [a, b] = await Promise.all([open(), open()]);
  const sa = randomUUID();
  const sb = randomUUID();
  await a.openSession({ id: sa, principal, client: { name: 'x' }, transport: 'http', startedAt: now() });
  await b.openSession({ id: sb, principal, client: {}, transport: 'http', startedAt: now() });
  const ids = await Promise.all(Array.from({ length: 300 }, (_, i) => oneCall(i % 2 ? a : b, i % 3 ? sa : sb, i)));
  const v = await a.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  assert.equal(v.records, 2 + 600);
  assert.equal((await b.verify()).head?.hash, v.head?.hash);
  assert.equal((await a.getCall(ids[7]!))?.outcome?.status, 'ok');
  assert.equal((await b.listCalls({ limit: 1000 })).length, 300);
  const page = await a.searchSessions({ text: 'SELECT 17', limit: 10 });
  assert.ok(page.sessions.length >= 1);
  // One failing write (unknown session) fails alone inside a group commit.
  const bad = a.recordIntent({ id: randomUUID(), sessionId: 'nope', tool: 't', connection: null, args: {}, factsSummary: null, facts: null, decision: 'deny', ruleIds: [], policyVersion: 'v', startedAt: now() });
  const good = oneCall(a, sa, 1000);
  await assert.rejects(bad, { code: 'WARDEN_TRANSCRIPT_UNAVAILABLE' });
  await good;
  assert.equal((await a.verify()).ok, true);
});

test('tampering with a row or the tail is detected', async () => {
  const s = await open();
  const sid = randomUUID();
  await s.openSession({ id: sid, principal, client: {}, transport: 'http', startedAt: now() });
  const id = await oneCall(s, sid, 5);
  assert.equal((await s.verify()).ok, true);
  await assert.rejects(suite.db.query(`DELETE FROM records WHERE seq = (SELECT MAX(seq) FROM records)`), /append-only/);
  await suite.db.query(`UPDATE calls SET result = '{"rows":[[6]]}' WHERE id = $1`, [id]);
  const v = await s.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken!.reason, /calls row .* differs/);
  await suite.db.query(`UPDATE calls SET result = '{"rows":[[5]]}' WHERE id = $1`, [id]);
  assert.equal((await s.verify()).ok, true);
  await suite.db.query('ALTER TABLE records DISABLE TRIGGER records_append_only');
  const last = (await suite.db.query('SELECT * FROM records ORDER BY seq DESC LIMIT 1')).rows[0] as Record<string, unknown>;
  await suite.db.query('DELETE FROM records WHERE seq = $1', [last.seq]);
  const cut = await s.verify();
  assert.equal(cut.ok, false);
  await suite.db.query('INSERT INTO records SELECT ($1::jsonb ->> \'seq\')::bigint, $1::jsonb ->> \'kind\', $1::jsonb ->> \'ref_id\', $1::jsonb ->> \'ts\', $1::jsonb ->> \'body\', $1::jsonb ->> \'prev_hash\', $1::jsonb ->> \'hash\'', [JSON.stringify(last)]);
  await suite.db.query('ALTER TABLE records ENABLE TRIGGER records_append_only');
  assert.equal((await s.verify()).ok, true);
});

test('calls of a replica that died are marked interrupted once its lock has stayed free for the grace; a live replica is left alone', async () => {
  const dead = await open();
  const live = await open();
  const sd = randomUUID();
  const sl = randomUUID();
  await dead.openSession({ id: sd, principal, client: {}, transport: 'http', startedAt: now() });
  await live.openSession({ id: sl, principal, client: {}, transport: 'http', startedAt: now() });
  const inflightDead = await oneCall(dead, sd, 1, false);
  const inflightLive = await oneCall(live, sl, 2, false);
  await dead.close(); // its liveness lock goes with its connection, as on SIGKILL
  const sweeper = await suite.open({ livenessGraceMs: 1500 });
  await sweeper.markInterrupted(); // first seen free: not yet dead
  assert.equal((await sweeper.getCall(inflightDead))?.outcome, null, 'not before the grace');
  assert.equal((await sweeper.sessionInfo(sd))?.endedAt, null);
  await sleep(1600);
  const r = await sweeper.markInterrupted();
  assert.ok(r.interruptedCalls >= 1 && r.closedSessions >= 1, JSON.stringify(r));
  assert.equal((await sweeper.getCall(inflightDead))?.outcome?.status, 'interrupted');
  assert.notEqual((await sweeper.sessionInfo(sd))?.endedAt, null);
  assert.equal((await sweeper.getCall(inflightLive))?.outcome, null);
  assert.equal((await sweeper.sessionInfo(sl))?.endedAt, null);
  await live.recordOutcome(inflightLive, { status: 'ok', errorCode: null, result: null, masking: null, durationMs: 1, endedAt: now() });
  assert.equal((await sweeper.verify()).ok, true);
});

test("a replica reconnecting its liveness connection keeps its running call and open session: another replica's sweep leaves them, and its outcome lands", async () => {
  const relay = await cuttingRelay(Number(new URL(suite.db.url).port));
  const a = await openPgStore(relay.through(suite.db.url), { recoverEveryMs: 60_000 });
  try {
    const b = await open(); // the default grace
    const sid = randomUUID();
    await a.openSession({ id: sid, principal, client: {}, transport: 'http', startedAt: now() });
    const running = await oneCall(a, sid, 3, false);
    assert.ok(relay.cutNow({ reset: true }) >= 1, 'connections cut');
    await until("A's lock is free", async () => !(await lockHeld(lockOf(a))), 900);
    // A reconnects after a second: B sweeps while the lock is free, and again once it is back.
    await b.markInterrupted();
    assert.equal((await b.getCall(running))?.outcome, null, 'the running call is not marked interrupted');
    assert.equal((await b.sessionInfo(sid))?.endedAt, null, 'the session stays open');
    const marks = async () => Number((await suite.db.query('SELECT count(*) AS n FROM liveness_marks WHERE owner_lock = $1', [lockOf(a)])).rows[0]?.n);
    assert.equal(await marks(), 1, 'B noted when it first saw the lock free');
    await until("A's lock is back", () => lockHeld(lockOf(a)));
    await until('A cleared the mark as it took its lock again', async () => (await marks()) === 0, 2000);
    await b.markInterrupted();
    assert.equal((await b.getCall(running))?.outcome, null);
    await a.recordOutcome(running, { status: 'ok', errorCode: null, result: { rows: [[3]] }, masking: null, durationMs: 2, endedAt: now() });
    assert.equal((await b.getCall(running))?.outcome?.status, 'ok');
    await a.closeSession(sid, now());
    assert.notEqual((await b.sessionInfo(sid))?.endedAt, null);
    assert.equal((await b.verify()).ok, true);
  } finally {
    await a.close();
    relay.close();
  }
});

test('a replica started just after another died recovers its calls once the grace has passed, not at the next periodic sweep', async () => {
  const dead = await open();
  const sid = randomUUID();
  await dead.openSession({ id: sid, principal, client: {}, transport: 'http', startedAt: now() });
  const inflight = await oneCall(dead, sid, 5, false);
  await dead.close();
  // A grace well above how long opening a store takes on a loaded machine: another open store's
  // sweep may see the lock free first, and the startup pass must still find it within the grace.
  const started = await suite.open({ recoverInterrupted: true, recoverEveryMs: 60_000, livenessGraceMs: 3000 });
  assert.equal((await started.getCall(inflight))?.outcome, null, 'the startup pass only saw the lock free');
  await until('the pass after the grace marked it', async () => (await started.getCall(inflight))?.outcome?.status === 'interrupted', 15_000);
  // The pass closes the dead replica's sessions after marking its calls (markInterrupted): wait for that write too.
  await until('the pass to close its session', async () => ((await started.sessionInfo(sid))?.endedAt ?? null) !== null, 15_000);
});

test('recovery and the rate-limit sweep share one "seen free" mark: a lock the rate-limit sweep saw free counts for recovery too', async () => {
  const dead = await open();
  const sid = randomUUID();
  await dead.openSession({ id: sid, principal, client: {}, transport: 'http', startedAt: now() });
  const inflight = await oneCall(dead, sid, 4, false);
  await suite.db.query(`INSERT INTO rate_inflight (ticket, key, owner_lock, started_at) VALUES ('t-shared', 'k-shared', $1, 0)`, [lockOf(dead)]);
  await dead.close();
  const sweeper = await suite.open({ livenessGraceMs: 1500 });
  assert.equal(await sweeper.rateCounters.sweep(), 0, 'first seen free (by the rate-limit sweep): not yet dead');
  await sleep(1600);
  await sweeper.markInterrupted(); // its first look, but the mark is older than the grace
  assert.equal((await sweeper.getCall(inflight))?.outcome?.status, 'interrupted');
  assert.notEqual((await sweeper.sessionInfo(sid))?.endedAt, null);
  assert.equal(await sweeper.rateCounters.sweep(), 1, 'and its slot goes');
});

test('an approval waiting on replica A completes when replica B approves (NOTIFY, not the poll)', async () => {
  const a = await open();
  const b = await open();
  const svcA = createApprovalService(a.approvals, { pollMs: 20_000, progressEveryMs: 60_000 });
  const svcB = createApprovalService(b.approvals);
  const decision = { effect: 'allow', ruleIds: ['fix'], reason: '', trace: [], alternatives: [], approval: { reviewers: { groups: ['dba'] }, approvals: 1, expires: 60_000, wait: 30_000, ruleId: 'fix' } } as unknown as Decision;
  const started = Date.now();
  const gate = svcA.gate({ callId: randomUUID(), sessionId: randomUUID(), principal: { ...principal, claims: {} }, tool: 'query_database', connection: 'analytics', canonicalArgs: { sql: 'DELETE FROM t' }, decision, factsSummary: 'delete', signal: new AbortController().signal });
  let id: string | undefined;
  for (let i = 0; i < 100 && !id; i++) {
    id = (await svcB.list({ state: 'pending' }))[0]?.id;
    if (!id) await new Promise((r) => setTimeout(r, 50));
  }
  assert.ok(id, 'the request is visible on replica B');
  await assert.rejects(svcB.approve(id, { subject: 'alice', groups: ['dba'], claims: {}, authMethod: 'oidc' }), { code: 'WARDEN_DENIED' });
  await svcB.approve(id, { subject: 'bob', groups: ['dba'], claims: {}, authMethod: 'oidc' });
  const r = await gate;
  assert.equal(r.granted, true);
  assert.ok(Date.now() - started < 10_000, 'woken by NOTIFY well before the 20 s poll');
  assert.equal((await svcB.get(id))?.state, 'used');
  assert.equal((await b.verify()).ok, true);
  // verify replays the approval tables from their records: a used request set back to approved is caught.
  await suite.db.query(`UPDATE approvals SET state = 'approved' WHERE id = $1`, [id]);
  const v = await b.verify();
  assert.equal(v.ok, false);
  assert.match(v.firstBroken!.reason, /approvals row .* differs from its records \(state\)/);
  await suite.db.query(`UPDATE approvals SET state = 'used' WHERE id = $1`, [id]);
  assert.equal((await b.verify()).ok, true);
});

test('with a signing key the head is signed in the database: a cut tail is caught even with chain_head rewritten', async () => {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const signer = createChainSigner(pem);
  // This suite's database already holds the earlier tests' records, written without a key: a key
  // holder no longer signs them on first use (head-adopt.test.ts); the operator adopts the head
  // (`warden transcripts adopt-head`: verify, then sign), as an upgrade to a signing key does.
  await assert.rejects(suite.open({ signer }), { code: 'WARDEN_TRANSCRIPT_UNAVAILABLE', details: { reason: 'no signed head', head: Number((await suite.db.query('SELECT seq FROM chain_head')).rows[0]!.seq) } });
  const s = await suite.open({ signer, adoptingHead: true });
  const adopt = await s.verify({ adopting: true });
  assert.equal(adopt.ok, true, JSON.stringify(adopt.firstBroken));
  await s.adoptHead!(adopt.head!);
  const sid = randomUUID();
  await s.openSession({ id: sid, principal, client: {}, transport: 'http', startedAt: now() });
  await oneCall(s, sid, 8);
  const v = await s.verify();
  assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  assert.equal(v.signedHead?.seq, v.head?.seq, 'the head is signed in the same transaction that moved it');
  assert.equal(v.unsignedTail, 0);
  // A replica without the key still writes; its records are an unsigned tail, a break as on
  // SQLite: a key holder refuses to write over them (pg-unsigned-tail.test.ts), so they are taken back.
  const plain = await open();
  await oneCall(plain, sid, 9);
  const tail = await s.verify();
  assert.equal(tail.ok, false);
  assert.deepEqual([tail.firstBroken?.seq, tail.unsignedTail], [tail.signedHead!.seq + 1, 2]);
  await suite.db.query('ALTER TABLE records DISABLE TRIGGER records_append_only');
  const signedSeq = tail.signedHead!.seq;
  await suite.db.query(`DELETE FROM calls WHERE seq > $1`, [signedSeq]);
  await suite.db.query(`UPDATE sessions SET call_count = call_count - 1 WHERE id = $1`, [sid]);
  await suite.db.query('DELETE FROM records WHERE seq > $1', [signedSeq]);
  await suite.db.query('UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1', [signedSeq, tail.signedHead!.hash]);
  await suite.db.query('ALTER TABLE records ENABLE TRIGGER records_append_only');
  await oneCall(s, sid, 10);
  assert.equal((await s.verify()).unsignedTail, 0);
  // Someone with database rights cuts the last record and moves chain_head back to match.
  await suite.db.query('ALTER TABLE records DISABLE TRIGGER records_append_only');
  const last = (await suite.db.query('SELECT * FROM records ORDER BY seq DESC LIMIT 1')).rows[0] as Record<string, unknown>;
  const prev = (await suite.db.query('SELECT seq, hash FROM records WHERE seq = $1', [Number(last.seq) - 1])).rows[0] as { seq: number; hash: string };
  await suite.db.query('DELETE FROM records WHERE seq = $1', [last.seq]);
  await suite.db.query('UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1', [prev.seq, prev.hash]);
  await suite.db.query(`UPDATE calls SET status = NULL, error_code = NULL, result = NULL, masking = NULL, duration_ms = NULL, ended_at = NULL, outcome_seq = NULL WHERE outcome_seq = $1`, [last.seq]);
  const cut = await s.verify();
  assert.equal(cut.ok, false);
  assert.match(cut.firstBroken!.reason, /tail truncated: the signed head is record \d+, the store ends at \d+/);
  // Without the key, the same store looks whole: that is what the signature adds.
  assert.equal((await plain.verify()).ok, true);
  await suite.db.query('INSERT INTO records SELECT ($1::jsonb ->> \'seq\')::bigint, $1::jsonb ->> \'kind\', $1::jsonb ->> \'ref_id\', $1::jsonb ->> \'ts\', $1::jsonb ->> \'body\', $1::jsonb ->> \'prev_hash\', $1::jsonb ->> \'hash\'', [JSON.stringify(last)]);
  await suite.db.query('ALTER TABLE records ENABLE TRIGGER records_append_only');
});

test('an older signed head put back on PostgreSQL: verify passes on the cut, the head copied off the host does not, and records written after it fail verify', async () => {
  const own = await createTestDatabase({ prefix: 'pganchor' });
  await own.query(`GRANT ALL ON SCHEMA public TO ${own.role}`);
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const s = await openPgStore(own.url, { recoverEveryMs: 60_000, signer: createChainSigner(pem) });
  const plain = await openPgStore(own.url, { recoverEveryMs: 60_000 });
  const cli = async (args: string[]) => {
    const err: string[] = [];
    const code = await runTranscriptsCommand(args, { store: s, json: false, out: () => {}, err: (e) => err.push(e) });
    return { code, err: err.join('\n') };
  };
  try {
    await s.openSession({ id: 'a', principal, client: {}, transport: 'http', startedAt: now() });
    await s.closeSession('a', now());
    const older = (await own.query('SELECT * FROM signed_head')).rows[0] as Record<string, unknown>;
    await s.openSession({ id: 'b', principal, client: {}, transport: 'http', startedAt: now() });
    await s.closeSession('b', now());
    const h = await s.chainHead();
    assert.deepEqual([h.head?.seq, (h.signedHead as { seq: number }).seq, h.signatureValid], [4, 4, true]);
    const copied = h.head!;
    assert.equal((await s.verify({ anchors: [copied] })).ok, true);
    for (const args of [['verify', '--strict'], ['verify', '--expect-head', `4:${copied.hash}`]]) assert.equal((await cli(args)).code, 0);
    // Someone with database rights cuts 3-4, moves chain_head back and puts the older signed head back.
    await own.query('ALTER TABLE records DISABLE TRIGGER records_append_only');
    const two = (await own.query('SELECT hash FROM records WHERE seq = 2')).rows[0] as { hash: string };
    await own.query('DELETE FROM records WHERE seq >= 3');
    await own.query(`DELETE FROM sessions WHERE id = 'b'`);
    await own.query('UPDATE chain_head SET seq = 2, hash = $1 WHERE id = 1', [two.hash]);
    await own.query('UPDATE signed_head SET seq = $1, hash = $2, signed_at = $3, key_id = $4, signature = $5', [older.seq, older.hash, older.signed_at, older.key_id, older.signature]);
    await own.query('ALTER TABLE records ENABLE TRIGGER records_append_only');
    const cut = await s.verify({ anchors: [copied] });
    assert.match(cut.firstBroken?.reason ?? '', /expected head 4 is missing: the chain ends at 2/);
    assert.equal((await s.verify()).ok, true, 'the cut alone verifies: the signed head is the last record');
    // ... and writes other records after it without the key.
    await plain.openSession({ id: 'c', principal, client: {}, transport: 'http', startedAt: now() });
    await plain.closeSession('c', now());
    // Records beyond the signed head fail every verify, as on SQLite (a key holder signs in their transaction).
    const v = await s.verify();
    assert.equal(v.ok, false);
    assert.deepEqual([v.head?.seq, v.signedHead?.seq, v.unsignedTail, v.firstBroken?.seq], [4, 2, 2, 3]);
    assert.equal((await s.verify({ anchors: [copied] })).ok, false);
    assert.match((await cli(['verify'])).err, /broken at record 3: records 3-4 are newer than the signed head 2/);
    assert.equal((await cli(['verify', '--strict'])).code, 1);
    assert.equal((await cli(['verify', '--expect-head', `4:${copied.hash}`])).code, 1);
  } finally {
    await plain.close();
    await s.close();
    await own.drop();
  }
});

test('retention on PostgreSQL: whole old sessions leave, a signed checkpoint marks the cut, verify starts there', async () => {
  const own = await createTestDatabase({ prefix: 'pgpurge' });
  await own.query(`GRANT ALL ON SCHEMA public TO ${own.role}`);
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const s = await openPgStore(own.url, { recoverEveryMs: 60_000, signer: createChainSigner(pem) });
  try {
    const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString();
    await s.openSession({ id: 'old', principal, client: {}, transport: 'http', startedAt: at(0) });
    await s.recordIntent({ id: 'c-old', sessionId: 'old', tool: 'query_database', connection: 'a', args: {}, factsSummary: null, facts: null, decision: 'allow', ruleIds: [], policyVersion: 'v', startedAt: at(1) });
    await s.recordOutcome('c-old', { status: 'ok', errorCode: null, result: { rows: [] }, masking: null, durationMs: 1, endedAt: at(2) });
    await s.closeSession('old', at(3));
    await s.openSession({ id: 'new', principal, client: {}, transport: 'http', startedAt: at(60) });
    const r = await s.purge(at(30), at(61));
    assert.deepEqual([r.cutSeq, r.records, r.sessions, r.calls], [4, 4, 1, 1]);
    assert.equal(r.checkpointSeq, 6);
    const v = await s.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    assert.deepEqual(v.checkpoint, { recordSeq: 6, cutSeq: 4, cutHash: v.checkpoint!.cutHash });
    assert.equal(v.signedHead?.seq, 6, 'the head after the checkpoint is signed');
    assert.equal((await s.getSession('old')), null);
    assert.match((await s.verifyRange(2, 6)).firstBroken!.reason, /records up to 4 were purged by retention/);
    // An open session blocks the cut: nothing more to purge.
    assert.equal((await s.purge(at(120), at(121))).cutSeq, 0);
    // A checkpoint row that no longer matches its record is caught.
    await own.query(`UPDATE checkpoints SET body = body || ' ' WHERE record_seq = 6`);
    assert.match((await s.verify()).firstBroken?.reason ?? '', /checkpoints row for record 6 differs from its record/);
    await own.query(`UPDATE checkpoints SET body = rtrim(body), cut_hash = 'x' WHERE record_seq = 6`);
    const moved = await s.verify();
    assert.equal(moved.ok, false, 'a checkpoint that names another cut breaks the first link after it');
    assert.equal(moved.firstBroken?.seq, 5);
    // A record put back below the cut, where the walk does not go, is reported.
    await own.query('UPDATE checkpoints SET cut_hash = $1 WHERE record_seq = 6', [v.checkpoint!.cutHash]);
    assert.equal((await s.verify()).ok, true, 'restored');
    await own.query(`INSERT INTO records (seq, kind, ref_id, ts, body, prev_hash, hash) VALUES (2, 'call_outcome', 'c9', '${at(2)}', '{}', 'x', 'y')`);
    const below = await s.verify();
    assert.equal(below.firstBroken?.seq, 2);
    assert.match(below.firstBroken?.reason ?? '', /lies at or below the retention cut at 4/);
  } finally {
    await s.close();
    await own.drop();
  }
});

test('retention on PostgreSQL: a live approval holds the cut; settled ones leave with their records', async () => {
  const own = await createTestDatabase({ prefix: 'pgapcut' });
  await own.query(`GRANT ALL ON SCHEMA public TO ${own.role}`);
  const s = await openPgStore(own.url, { recoverEveryMs: 60_000 });
  try {
    const at = (m: number) => new Date(Date.UTC(2026, 0, 1, 0, m)).toISOString();
    await s.openSession({ id: 'old', principal, client: {}, transport: 'http', startedAt: at(0) });
    await s.approvals.create(approvalRequest('ap1', at(1), { sessionId: 'old', expiresAt: at(90) }));
    await s.closeSession('old', at(3));
    await s.openSession({ id: 'new', principal, client: {}, transport: 'http', startedAt: at(60) });
    assert.equal((await s.purge(at(30), at(61))).cutSeq, 0, 'the pending request holds the cut');
    assert.equal((await s.approvals.expireDue(at(90))).length, 1);
    const r = await s.purge(at(30), at(91));
    assert.ok(r.cutSeq >= 3, JSON.stringify(r));
    assert.equal(Number((await own.query('SELECT COUNT(*) AS n FROM approvals')).rows[0]?.n), 0);
    const v = await s.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
  } finally {
    await s.close();
    await own.drop();
  }
});

test('a session read for replay includes an outcome recorded after its close', async () => {
  const own = await createTestDatabase({ prefix: 'pgreplay' });
  await own.query(`GRANT ALL ON SCHEMA public TO ${own.role}`);
  const s = await openPgStore(own.url, { recoverEveryMs: 60_000 });
  try {
    const sid = randomUUID();
    await s.openSession({ id: sid, principal, client: {}, transport: 'http', startedAt: now() });
    const id = await oneCall(s, sid, 1, false);
    await s.closeSession(sid, now());
    await s.recordOutcome(id, { status: 'ok', errorCode: null, result: { rows: [[1]] }, masking: null, durationMs: 1, endedAt: now() });
    const kinds = (await s.sessionRecords(sid, 0, 100)).map((r) => r.kind);
    assert.deepEqual(kinds, ['session_open', 'call_intent', 'session_close', 'call_outcome']);
  } finally {
    await s.close();
    await own.drop();
  }
});

test('a cut chain is not laundered by the next signed write on PostgreSQL: the signed head stays where it was', async () => {
  const own = await createTestDatabase({ prefix: 'pglaunder' });
  await own.query(`GRANT ALL ON SCHEMA public TO ${own.role}`);
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const s = await openPgStore(own.url, { recoverEveryMs: 60_000, signer: createChainSigner(pem) });
  try {
    const sid = randomUUID();
    await s.openSession({ id: sid, principal, client: {}, transport: 'http', startedAt: now() });
    await oneCall(s, sid, 20);
    assert.equal((await s.verify()).ok, true);
    // Someone with database rights (no key) drops the last record and moves chain_head back to match.
    await cutLastPgRecord(own);
    // The key holder writes on, past the old signed seq.
    await oneCall(s, sid, 21);
    await oneCall(s, sid, 22);
    const v = await s.verify();
    assert.equal(v.ok, false, 'the key holder must not sign over a chain that lost its signed head');
    assert.match(v.firstBroken!.reason, /signed head/);
  } finally {
    await s.close();
    await own.drop();
  }
});
