/**
 * The signed chain head of a SQLite store, kept in the store itself (schema v13: a one-row
 * `signed_head` table), written in the same transaction as the records it covers, as the
 * PostgreSQL store does (pg-writer.ts). Why: a head signed after the commit, in a file beside the
 * store (before v13), left a window in which a crash left records unsigned; `serve` then signed
 * whatever lay beyond the head at start, and so also records appended by someone without the key.
 * With the signature in the commit, a record beyond the signed head was never written by a key
 * holder: the store refuses to write over it (unsignedTailError, head-adopt.ts) and verify reports it.
 */
import { existsSync, rmSync } from 'node:fs';
import type Database from 'better-sqlite3';
import { headPath, readSignedHead } from './signing.js';
import type { SignedHead } from './types.js';

/** The v13 migration (sqlite-schema.ts); IF NOT EXISTS: a file taken back to an older version by hand keeps it. */
export const SIGNED_HEAD_TABLE = `
  CREATE TABLE IF NOT EXISTS signed_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seq       INTEGER NOT NULL,
    hash      TEXT NOT NULL,
    signed_at TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL
  );
`;

/** Prepared once per connection; why: read and written in every signed commit. */
const readStmts = new WeakMap<Database.Database, Database.Statement>();
const writeStmts = new WeakMap<Database.Database, Database.Statement>();

function cached(m: WeakMap<Database.Database, Database.Statement>, db: Database.Database, sql: string): Database.Statement {
  let st = m.get(db);
  if (!st) m.set(db, (st = db.prepare(sql)));
  return st;
}

/** The signed head row, null when there is none (or no table yet), 'malformed' when its cells are not a head. */
export function readHeadRow(db: Database.Database): SignedHead | null | 'malformed' {
  let r: Record<string, unknown> | undefined;
  try {
    r = cached(readStmts, db, 'SELECT seq, hash, signed_at, key_id, signature FROM signed_head WHERE id = 1').get() as Record<string, unknown> | undefined;
  } catch (e) {
    if (/no such table/.test(String((e as Error).message))) return null;
    throw e;
  }
  if (!r) return null;
  if (typeof r.seq !== 'number' || !Number.isSafeInteger(r.seq) || typeof r.hash !== 'string' || typeof r.key_id !== 'string' || typeof r.signature !== 'string') return 'malformed';
  return { seq: r.seq, hash: r.hash, signedAt: String(r.signed_at ?? ''), keyId: r.key_id, signature: r.signature };
}

/** Write the signed head row (inside the caller's write transaction). */
export function writeHeadRow(db: Database.Database, h: SignedHead): void {
  cached(writeStmts, db,
    `INSERT INTO signed_head (id, seq, hash, signed_at, key_id, signature) VALUES (1, ?, ?, ?, ?, ?)
     ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, signed_at = excluded.signed_at, key_id = excluded.key_id, signature = excluded.signature`,
  ).run(h.seq, h.hash, h.signedAt, h.keyId, h.signature);
}

/**
 * The v13 migration's step in JS (inside its transaction): the head file a store before v13 kept
 * beside it becomes the row, as it was (its signature is checked where it always was: verify and
 * the write path). A malformed file is not copied (the store then has no signed head: adopt-head).
 */
export function importLegacyHead(db: Database.Database, path: string): boolean {
  if (path === ':memory:' || !existsSync(headPath(path)) || readHeadRow(db) !== null) return false;
  const h = readSignedHead(path);
  if (h === null || h === 'malformed') return false;
  writeHeadRow(db, h);
  return true;
}

/** Remove the pre-v13 head file once its row is committed; why: one place holds the head. */
export function removeLegacyHead(path: string): void {
  if (path !== ':memory:') rmSync(headPath(path), { force: true });
}
