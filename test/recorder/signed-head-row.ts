/**
 * The signed head of a SQLite store as an attacker with file access (or a test) reads and writes it:
 * the `signed_head` row (schema v13), through a plain connection of its own.
 */
import Database from 'better-sqlite3';
import { writeSignedHead as writeLegacyHead } from '../../src/recorder/signing.js';
import { readHeadRow, writeHeadRow } from '../../src/recorder/sqlite-signed-head.js';
import type { SignedHead } from '../../src/recorder/types.js';

function withDb<T>(path: string, fn: (db: Database.Database) => T): T {
  const db = new Database(path);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

/** The stored signed head (null: none). */
export function readSignedHead(path: string): SignedHead | null | 'malformed' {
  return withDb(path, (db) => readHeadRow(db));
}

/** Put `h` in as the signed head. */
export function writeSignedHead(path: string, h: SignedHead): void {
  withDb(path, (db) => writeHeadRow(db, h));
}

/** Remove the signed head. */
export function deleteSignedHead(path: string): void {
  withDb(path, (db) => db.prepare('DELETE FROM signed_head').run());
}

/** Whether the store holds a signed head. */
export function hasSignedHead(path: string): boolean {
  return readSignedHead(path) !== null;
}

/** SQL that turns a store back into a v16 one: no approvals.rule_hash (v17). */
export const AS_V16 = 'ALTER TABLE approvals DROP COLUMN rule_hash; DELETE FROM schema_version WHERE version >= 17;';

/** SQL that turns a store back into a v15 one: AS_V16, and no approval_decisions.reviewer_names (v16). */
export const AS_V15 = `${AS_V16} ALTER TABLE approval_decisions DROP COLUMN reviewer_names; DELETE FROM schema_version WHERE version >= 16;`;

/** SQL that turns a store back into a v14 one: AS_V15, and no approvals.requester_names (v15). */
export const AS_V14 = `${AS_V15} ALTER TABLE approvals DROP COLUMN requester_names; DELETE FROM schema_version WHERE version >= 15;`;

/** SQL that turns a store back into a v13 one: AS_V14, and calls_session_outcome indexing every call, outcome or not. */
export const AS_V13 = `${AS_V14} DROP INDEX calls_session_outcome; CREATE INDEX calls_session_outcome ON calls (session_id, outcome_seq);
  DELETE FROM schema_version WHERE version >= 14;`;

/**
 * Turn a store back into the store a Warden before v13 left: no `signed_head` table (nor the
 * later versions' changes: AS_V13), its head (if any) in the file beside the store. Why: the
 * upgrade path is tested from the real v12 shape.
 */
export function asV12Store(path: string): void {
  const h = readSignedHead(path);
  withDb(path, (db) => db.exec(`${AS_V13} DROP TABLE signed_head; DELETE FROM schema_version WHERE version = 13;`));
  if (h !== null && h !== 'malformed') writeLegacyHead(path, h);
}
