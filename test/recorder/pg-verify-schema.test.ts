/**
 * The PostgreSQL verify's schema check (pg-verify-schema.ts): a verified table swapped for a
 * filtering view, or an unexpected trigger or rule on one, is reported; and the key holder's
 * refusal to sign over a cut chain is told at once (onWarning, signingRefused, a stale head).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { openPgStore, type PgStoreOptions, type PgTranscriptStore } from '../../src/recorder/index.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';

const principal = { subject: 'alice', groups: ['dev'], authMethod: 'oidc' as const };
const now = () => new Date().toISOString();

async function oneCall(s: PgTranscriptStore, sessionId: string, n: number): Promise<void> {
  const id = randomUUID();
  await s.recordIntent({ id, sessionId, tool: 'query_database', connection: 'analytics', args: { sql: `SELECT ${n}` }, factsSummary: 'read', facts: { n }, decision: 'allow', ruleIds: ['r1'], policyVersion: 'v1', startedAt: now() });
  await s.recordOutcome(id, { status: 'ok', errorCode: null, result: { rows: [[n]] }, masking: null, durationMs: 1.5, endedAt: now() });
}

/** A store on its own database with one session and call; the test tampers with it and drops it. */
async function withStore(prefix: string, opts: PgStoreOptions, fn: (s: PgTranscriptStore, db: TestDatabase, sid: string) => Promise<void>): Promise<void> {
  const db = await createTestDatabase({ prefix });
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`);
  const s = await openPgStore(db.url, { recoverEveryMs: 60_000, ...opts });
  try {
    const sid = randomUUID();
    await s.openSession({ id: sid, principal, client: {}, transport: 'http', startedAt: now() });
    await oneCall(s, sid, 1);
    const v = await s.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    await fn(s, db, sid);
  } finally {
    await s.close();
    await db.drop();
  }
}

async function brokenReason(s: PgTranscriptStore): Promise<string> {
  const v = await s.verify();
  assert.equal(v.ok, false, 'verify must fail');
  return v.firstBroken!.reason;
}

test('PostgreSQL verify reports a verified table replaced by a filtering view', async () => {
  await withStore('pgschemaview', {}, async (s, db) => {
    await db.query(`ALTER TABLE approvals RENAME TO approvals_real; CREATE VIEW approvals AS SELECT * FROM approvals_real WHERE requester != 'mallory'`);
    assert.match(await brokenReason(s), /schema.*approvals is a view, not a table/);
  });
});

test('PostgreSQL verify reports an unexpected trigger or rule on a verified table', async () => {
  await withStore('pgschematrig', {}, async (s, db) => {
    await db.query(`CREATE FUNCTION hide_it() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RETURN NULL; END $f$`);
    await db.query(`CREATE TRIGGER hide BEFORE UPDATE ON calls FOR EACH ROW WHEN (NEW.tool = 'drop_db') EXECUTE FUNCTION hide_it()`);
    assert.match(await brokenReason(s), /schema.*trigger hide on calls/);
    await db.query('DROP TRIGGER hide ON calls');
    assert.equal((await s.verify()).ok, true);
    await db.query(`CREATE RULE hide_sessions AS ON INSERT TO sessions WHERE NEW.subject = 'mallory' DO INSTEAD NOTHING`);
    assert.match(await brokenReason(s), /schema.*rule hide_sessions on sessions/);
    await db.query('DROP RULE hide_sessions ON sessions');
    // The append-only guard may be disabled or missing (whoever can do that can do worse): not a schema break.
    await db.query('ALTER TABLE records DISABLE TRIGGER records_append_only');
    assert.equal((await s.verify()).ok, true);
    await db.query('ALTER TABLE records ENABLE TRIGGER records_append_only');
  });
});

test('PostgreSQL: a refused signature is exposed, warned about once, and shown as a stale head', async () => {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const warnings: Array<{ message: string; fields: Record<string, unknown> }> = [];
  await withStore('pgrefusal', { signer: createChainSigner(pem), onWarning: (message, fields) => warnings.push({ message, fields }) }, async (s, db, sid) => {
    assert.equal(s.signingRefused, null);
    assert.equal((await s.chainHead()).stale, undefined);
    // Someone with database rights (no key) drops the last record and moves chain_head back to match.
    await db.query('ALTER TABLE records DISABLE TRIGGER records_append_only');
    const last = (await db.query('SELECT * FROM records ORDER BY seq DESC LIMIT 1')).rows[0] as Record<string, unknown>;
    const prev = (await db.query('SELECT seq, hash FROM records WHERE seq = $1', [Number(last.seq) - 1])).rows[0] as { seq: number; hash: string };
    await db.query('DELETE FROM records WHERE seq = $1', [last.seq]);
    await db.query('UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1', [prev.seq, prev.hash]);
    await db.query(`UPDATE calls SET status = NULL, error_code = NULL, result = NULL, masking = NULL, duration_ms = NULL, ended_at = NULL, outcome_seq = NULL WHERE outcome_seq = $1`, [last.seq]);
    await db.query('ALTER TABLE records ENABLE TRIGGER records_append_only');
    await oneCall(s, sid, 2);
    await oneCall(s, sid, 3);
    // The first write after the cut took the cut record's seq again: that record differs now.
    assert.match(s.signingRefused ?? '', /record \d+ is not the record the signed head names/);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]!.message, /signed chain head/);
    assert.match(String(warnings[0]!.fields.reason), /not the record the signed head names/);
    assert.doesNotMatch(JSON.stringify(warnings), /PRIVATE KEY/);
    assert.match((await s.chainHead()).stale ?? '', /not the record the signed head names/);
  });
});
