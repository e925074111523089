/**
 * The rollback attack on a signed SQLite store, shared by the recorder and CLI tests: an older,
 * validly signed head file put back and the chain after it rewritten by someone without the key.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/recorder/index.js';
import type { SqliteTranscriptStore } from '../../src/recorder/index.js';
import { createChainSigner } from '../../src/recorder/signing.js';
import { readSignedHead, writeSignedHead } from './signed-head-row.js';
import { intent, outcome, session } from './fixtures.js';

/** A fresh Ed25519 private key (PKCS#8 PEM). */
export function keyPem(): string {
  return generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** One closed session: four records (open, intent, outcome, close). */
export async function oneSession(store: SqliteTranscriptStore, id: string, call: string, day: string): Promise<void> {
  await store.openSession(session(id, 'alice', `${day}T10:00:00.000Z`));
  await store.recordIntent(intent(call, id, 'query_database', `${day}T10:00:01.000Z`));
  await store.recordOutcome(call, outcome(`${day}T10:00:01.100Z`));
  await store.closeSession(id, `${day}T10:05:00.000Z`);
}

/**
 * Records 1-8 signed; then the attack: the head file of record 4 is put back, records 5-8 and their
 * rows are deleted and four other records are written in their place (without the key).
 * Returns the head an operator copied off the host before the attack (record 8).
 */
export async function rollbackAttack(path: string, pem: string | undefined): Promise<{ store: SqliteTranscriptStore; copied: { seq: number; hash: string } }> {
  const store = openSqliteStore(path, pem ? { signer: createChainSigner(pem) } : {});
  await oneSession(store, 's1', 'c1', '2026-01-01');
  const older = readSignedHead(path);
  await oneSession(store, 's2', 'c2', '2026-03-01');
  await store.searchSessions({ text: 'users' }); // the free-text index catches up first (its timer would, 200 ms on)
  const copied = (await store.chainHead()).head!;
  assert.equal(copied.seq, 8);
  const evil = new Database(path);
  // The index's mark goes back with the calls rows: the forger's call reuses the deleted row's rowid.
  evil.exec(`DROP TRIGGER records_append_only_delete;
    DELETE FROM records WHERE seq >= 5; DELETE FROM calls_fts WHERE rowid = 6;
    DELETE FROM calls WHERE session_id = 's2'; DELETE FROM call_facets WHERE session_id = 's2'; DELETE FROM sessions WHERE id = 's2';
    UPDATE fts_progress SET call_rowid = (SELECT coalesce(MAX(rowid), 0) FROM calls) WHERE id = 1;`);
  evil.close();
  if (older && older !== 'malformed') writeSignedHead(path, older);
  const forger = openSqliteStore(path);
  await oneSession(forger, 's3', 'c3', '2026-03-02');
  await forger.close();
  return { store, copied };
}

/** Records 1-8 signed, then records 5-8 and their rows removed by someone without the key. */
export async function cutSignedStore(path: string, pem: string): Promise<void> {
  const store = openSqliteStore(path, { signer: createChainSigner(pem) });
  await oneSession(store, 's1', 'c1', '2026-01-01');
  await oneSession(store, 's2', 'c2', '2026-01-02');
  await store.searchSessions({ text: 'users' }); // the free-text index catches up first
  await store.close();
  const evil = new Database(path);
  evil.exec(`DROP TRIGGER records_append_only_delete;
    DELETE FROM records WHERE seq >= 5; DELETE FROM calls_fts WHERE rowid = 2;
    DELETE FROM calls WHERE session_id = 's2'; DELETE FROM call_facets WHERE session_id = 's2'; DELETE FROM sessions WHERE id = 's2';
    UPDATE fts_progress SET call_rowid = (SELECT coalesce(MAX(rowid), 0) FROM calls);`);
  evil.close();
}

/** Records: 1 open s1, 2 intent c1, 3 outcome c1, 4 close s1, 5 open s2, 6 intent c2, 7 outcome c2, 8 close s2 (signed with `pem`). */
export async function twoSessions(path: string, pem?: string): Promise<SqliteTranscriptStore> {
  const store = openSqliteStore(path, pem ? { signer: createChainSigner(pem) } : {});
  await store.openSession(session('s1', 'alice', '2026-01-01T10:00:00.000Z'));
  await store.recordIntent(intent('c1', 's1', 'query_database', '2026-01-01T10:00:01.000Z'));
  await store.recordOutcome('c1', outcome('2026-01-01T10:00:01.100Z'));
  await store.closeSession('s1', '2026-01-01T10:05:00.000Z');
  await store.openSession(session('s2', 'bob', '2026-03-01T10:00:00.000Z'));
  await store.recordIntent(intent('c2', 's2', 'ssh_run', '2026-03-01T10:00:01.000Z'));
  await store.recordOutcome('c2', outcome('2026-03-01T10:00:01.100Z'));
  await store.closeSession('s2', '2026-03-01T10:05:00.000Z');
  return store;
}

/** On a PostgreSQL store: someone with database rights (no key) drops the last record (a call's outcome) and moves chain_head back to match; returns its seq. */
export async function cutLastPgRecord(db: { query(sql: string, params?: unknown[]): Promise<{ rows: unknown[] }> }): Promise<number> {
  await db.query('ALTER TABLE records DISABLE TRIGGER records_append_only');
  const last = (await db.query('SELECT * FROM records ORDER BY seq DESC LIMIT 1')).rows[0] as Record<string, unknown>;
  const prev = (await db.query('SELECT seq, hash FROM records WHERE seq = $1', [Number(last.seq) - 1])).rows[0] as { seq: number; hash: string };
  await db.query('DELETE FROM records WHERE seq = $1', [last.seq]);
  await db.query('UPDATE chain_head SET seq = $1, hash = $2 WHERE id = 1', [prev.seq, prev.hash]);
  await db.query(`UPDATE calls SET status = NULL, error_code = NULL, result = NULL, masking = NULL, duration_ms = NULL, ended_at = NULL, outcome_seq = NULL WHERE outcome_seq = $1`, [last.seq]);
  await db.query('ALTER TABLE records ENABLE TRIGGER records_append_only');
  return Number(last.seq);
}
