/**
 * What the PostgreSQL verify tests share (pg-verify-privileges.test.ts, pg-verify-roles.test.ts):
 * a store with one recorded call on a database of its own, which must verify as created, another
 * role to grant things to, and the tamper / verify fails / undo / verify passes loop (and its
 * variant for transcripts.trusted_roles: a second store that trusts the role passes).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { openPgStore, type PgTranscriptStore } from '../../src/recorder/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';

const principal = { subject: 'alice', groups: ['dev'], authMethod: 'oidc' as const };
const now = () => new Date().toISOString();

/**
 * A store with one session and call on its own database (on `serverUrl`'s cluster, else the shared
 * one), checked to verify as created, and another role `other`; both dropped afterwards.
 */
export async function withStore(prefix: string, fn: (s: PgTranscriptStore, db: TestDatabase, other: string) => Promise<void>, serverUrl?: string): Promise<void> {
  const db = await createTestDatabase({ prefix, ...(serverUrl ? { serverUrl } : {}) });
  const other = `${db.dbName}_other`;
  await db.query(`GRANT ALL ON SCHEMA public TO ${pg.escapeIdentifier(db.role)}`);
  await db.query(`CREATE ROLE ${pg.escapeIdentifier(other)} NOLOGIN`);
  const s = await openPgStore(db.url, { recoverEveryMs: 60_000 });
  try {
    const sid = randomUUID();
    await s.openSession({ id: sid, principal, client: {}, transport: 'http', startedAt: now() });
    const id = randomUUID();
    await s.recordIntent({ id, sessionId: sid, tool: 'query_database', connection: 'analytics', args: { sql: 'SELECT 1' }, factsSummary: 'read', facts: {}, decision: 'allow', ruleIds: ['r1'], policyVersion: 'v1', startedAt: now() });
    await s.recordOutcome(id, { status: 'ok', errorCode: null, result: { rows: [[1]] }, masking: null, durationMs: 1, endedAt: now() });
    const v = await s.verify();
    assert.equal(v.ok, true, JSON.stringify(v.firstBroken));
    await fn(s, db, other);
  } finally {
    await s.close();
    await db.drop();
    const server = new URL(db.adminUrl);
    server.pathname = '/postgres';
    const c = new pg.Client({ connectionString: server.toString() });
    await c.connect();
    await c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(other)}`).finally(() => c.end());
  }
}

/** Each tamper must fail verify with its reason, and verify must pass again once it is undone. */
export async function steps(s: PgTranscriptStore, db: TestDatabase, list: Array<[string, RegExp, string]>): Promise<void> {
  for (const [tamper, reason, undo] of list) {
    await db.query(tamper);
    const v = await s.verify();
    assert.equal(v.ok, false, `verify must fail after: ${tamper}`);
    assert.match(v.firstBroken!.reason, reason, tamper);
    await db.query(undo);
    const again = await s.verify();
    assert.equal(again.ok, true, `${undo}: ${JSON.stringify(again.firstBroken)}`);
  }
}

/**
 * Verify as an auditor whose config names `trusted` in transcripts.trusted_roles (and the store's
 * role as transcripts.owner): a second, read-only store on `db`, closed afterwards.
 */
export async function withTrusted(db: TestDatabase, trusted: string[], fn: (t: PgTranscriptStore) => Promise<void>): Promise<void> {
  const t = await openPgStore(db.url, { readOnly: true, tableOwner: db.role, trustedRoles: trusted });
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

/**
 * Each tamper is a finding for `s` (no trusted roles) with its reason, and passes for `t` (which
 * trusts the role it concerns); verify passes for both again once it is undone.
 */
export async function trustedSteps(s: PgTranscriptStore, t: PgTranscriptStore, db: TestDatabase, list: Array<[string, RegExp, string]>): Promise<void> {
  for (const [tamper, reason, undo] of list) {
    await db.query(tamper);
    const v = await s.verify();
    assert.equal(v.ok, false, `verify must fail after: ${tamper}`);
    assert.match(v.firstBroken!.reason, reason, tamper);
    const trusted = await t.verify();
    assert.equal(trusted.ok, true, `trusted: ${tamper}: ${JSON.stringify(trusted.firstBroken)}`);
    await db.query(undo);
    assert.equal((await s.verify()).ok, true, undo);
  }
}
