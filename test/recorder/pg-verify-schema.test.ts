/**
 * The PostgreSQL verify's schema check (pg-verify-schema.ts): a verified table swapped for a
 * filtering view, an unexpected trigger or rule on one, row-level security, or a changed column
 * or constraint is reported (every such tamper, derived from the created schema, in
 * pg-verify-columns.test.ts); and the key holder's refusal to sign over a cut chain is told at
 * once (onWarning, signingRefused, a stale head), at startup when the chain was cut before (checkHead).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { openPgStore, type PgStoreOptions, type PgTranscriptStore } from '../../src/recorder/index.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { cutLastPgRecord as cutLastRecord } from './rollback-fixture.js';

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

test('PostgreSQL verify reports row-level security that hides rows from a reviewer role, and changed columns or constraints', async () => {
  await withStore('pgschemacols', {}, async (s, db) => {
    // The store's role owns the tables, so a plain policy does not bind its verify: the reviewer's
    // listings (another role) would lose mallory's sessions while verify, run by the owner, passed.
    await db.query(`ALTER TABLE sessions ENABLE ROW LEVEL SECURITY; CREATE POLICY hide_mallory ON sessions FOR SELECT USING (subject IS DISTINCT FROM 'mallory')`);
    assert.match(await brokenReason(s), /schema.*row-level security is enabled on sessions/);
    await db.query('ALTER TABLE sessions DISABLE ROW LEVEL SECURITY');
    assert.match(await brokenReason(s), /schema.*row-level security policy hide_mallory on sessions/);
    await db.query('DROP POLICY hide_mallory ON sessions');
    assert.equal((await s.verify()).ok, true);
    const steps: Array<[string, RegExp, string]> = [
      ['ALTER TABLE calls ALTER COLUMN decision DROP NOT NULL', /calls column decision is `column decision text`/, 'ALTER TABLE calls ALTER COLUMN decision SET NOT NULL'],
      [`ALTER TABLE calls ALTER COLUMN decision SET DEFAULT 'allow'`, /calls column decision is `column decision text NOT NULL DEFAULT 'allow'::text`/, 'ALTER TABLE calls ALTER COLUMN decision DROP DEFAULT'],
      ['ALTER TABLE records ALTER COLUMN seq TYPE numeric', /records column seq is `column seq numeric NOT NULL`/, 'ALTER TABLE records ALTER COLUMN seq TYPE bigint'],
      ['ALTER TABLE approvals DROP CONSTRAINT approvals_state_check', /approvals constraint approvals_state_check is missing/, `ALTER TABLE approvals ADD CONSTRAINT approvals_state_check CHECK (state IN ('pending', 'approved', 'denied', 'expired', 'used', 'voided'))`],
      ['ALTER TABLE sessions DROP CONSTRAINT sessions_pkey CASCADE', /sessions constraint sessions_pkey is missing/, 'ALTER TABLE sessions ADD PRIMARY KEY (id); ALTER TABLE calls ADD FOREIGN KEY (session_id) REFERENCES sessions (id)'],
    ];
    for (const [tamper, reason, undo] of steps) {
      await db.query(tamper);
      assert.match(await brokenReason(s), reason, tamper);
      await db.query(undo);
      assert.equal((await s.verify()).ok, true, undo);
    }
  });
});


test('PostgreSQL: a replica started on a cut chain warns at startup (checkHead), and its writes add no warning', async () => {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  await withStore('pgstartup', { signer: createChainSigner(pem) }, async (_s, db, sid) => {
    const cut = await cutLastRecord(db);
    const warnings: Array<{ message: string; fields: Record<string, unknown> }> = [];
    const replica = await openPgStore(db.url, { recoverEveryMs: 60_000, signer: createChainSigner(pem), onWarning: (message, fields) => warnings.push({ message, fields }) });
    try {
      assert.equal(await replica.checkHead(), `record ${cut}, the signed head, is gone`);
      assert.equal(replica.signingRefused, `record ${cut}, the signed head, is gone`);
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.match(warnings[0]!.message, /signed chain head/);
      assert.equal(warnings[0]!.fields.found, 'startup');
      await oneCall(replica, sid, 2);
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      assert.doesNotMatch(JSON.stringify(warnings), /PRIVATE KEY/);
    } finally {
      await replica.close();
    }
  });
  await withStore('pgstartupok', { signer: createChainSigner(pem) }, async (_s, db) => {
    const warnings: unknown[] = [];
    const replica = await openPgStore(db.url, { recoverEveryMs: 60_000, signer: createChainSigner(pem), onWarning: (m) => warnings.push(m) });
    try {
      assert.equal(await replica.checkHead(), null);
      assert.equal(warnings.length, 0);
    } finally {
      await replica.close();
    }
  });
});

test('PostgreSQL: a refused signature is exposed, warned about once, and shown as a stale head', async () => {
  const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const warnings: Array<{ message: string; fields: Record<string, unknown> }> = [];
  await withStore('pgrefusal', { signer: createChainSigner(pem), onWarning: (message, fields) => warnings.push({ message, fields }) }, async (s, db, sid) => {
    assert.equal(s.signingRefused, null);
    assert.equal((await s.chainHead()).stale, undefined);
    await cutLastRecord(db);
    await oneCall(s, sid, 2);
    await oneCall(s, sid, 3);
    // The first write after the cut finds the signed head's record gone (the head is read under
    // the chain-head lock, before its appends); it then takes the cut record's seq again, so the
    // next write finds that record differs: the reason changes, the warning is not repeated.
    assert.match(s.signingRefused ?? '', /record \d+ is not the record the signed head names/);
    assert.equal(warnings.length, 1, JSON.stringify(warnings));
    assert.match(warnings[0]!.message, /signed chain head/);
    assert.match(String(warnings[0]!.fields.reason), /record \d+, the signed head, is gone/);
    assert.doesNotMatch(JSON.stringify(warnings), /PRIVATE KEY/);
    assert.match((await s.chainHead()).stale ?? '', /not the record the signed head names/);
  });
});
