/**
 * Retention for the SQLite store: remove a prefix of the chain (whole sessions that ended before
 * a date) and append a checkpoint record naming the cut (seq and hash of the last removed
 * record), signed when a key is configured. Verify then starts from the checkpoint.
 */
import type Database from 'better-sqlite3';
import { indexPendingText, resetTextIndexMark } from './sqlite-text-index.js';
import { checkpointBody } from './checkpoint.js';
import { cutNumber, findCutSync } from './retention-cut.js';
import type { ChainSigner } from './signing.js';
import type { PurgeResult } from './types.js';

/** Appends one record inside the caller's transaction and runs `apply(seq)` with it. */
export type AppendFn = (kind: 'checkpoint', refId: string, ts: string, body: string, apply: (seq: number) => void) => void;

const GUARD = `CREATE TRIGGER records_append_only_delete BEFORE DELETE ON records
  BEGIN SELECT RAISE(ABORT, 'transcript records are append-only'); END;`;

// SQLite binds `$1` as the named parameter `p1`.
function findCut(db: Database.Database, before: string): number {
  return findCutSync(before, (q) => {
    const named = Object.fromEntries(q.params.map((v, i) => [`p${i + 1}`, v]));
    const row = db.prepare(q.sql.replace(/\$(\d+)/g, '@p$1')).raw().get(named) as unknown[] | undefined;
    return cutNumber(row?.[0]);
  });
}

/** Purge inside the caller's write transaction; why: the cut and its checkpoint land together. */
export function purgeBefore(db: Database.Database, before: string, now: string, append: AppendFn, signer?: ChainSigner): PurgeResult {
  const first = (db.prepare('SELECT MIN(seq) AS s FROM records').get() as { s: number | null }).s;
  const cut = findCut(db, before);
  if (first === null || cut < first) return { cutSeq: 0, records: 0, sessions: 0, calls: 0 };
  const cutHash = (db.prepare('SELECT hash FROM records WHERE seq = ?').get(cut) as { hash: string }).hash;
  const doomed = 'SELECT id FROM sessions WHERE open_seq <= ?';
  indexPendingText(db); // so that the doomed calls' index entries exist to be removed
  db.prepare(`DELETE FROM calls_fts WHERE rowid IN (SELECT seq FROM calls WHERE session_id IN (${doomed}))`).run(cut);
  // A contentless delete leaves the call's words in the index segments (a tombstone hides them
  // from MATCH): merging the segments drops them, and secure_delete (erasing) zeroes the old pages.
  db.prepare(`INSERT INTO calls_fts (calls_fts) VALUES ('optimize')`).run();
  const calls = db.prepare(`DELETE FROM calls WHERE session_id IN (${doomed})`).run(cut).changes;
  db.prepare(`DELETE FROM call_facets WHERE session_id IN (${doomed})`).run(cut);
  resetTextIndexMark(db);
  const sessions = db.prepare('DELETE FROM sessions WHERE open_seq <= ?').run(cut).changes;
  // Settled approvals requested before the cut leave with their records (live ones hold the cut).
  db.prepare('DELETE FROM approval_decisions WHERE approval_id IN (SELECT id FROM approvals WHERE seq <= ?)').run(cut);
  db.prepare('DELETE FROM approvals WHERE seq <= ?').run(cut);
  db.exec('DROP TRIGGER records_append_only_delete');
  // The cut record goes only after the checkpoint is appended: when the cut is the head, the
  // checkpoint must still find it to take the next seq and link to its hash (with the chain
  // emptied, numbering would restart at 1, below the cut, where verify no longer looks).
  const records = db.prepare('DELETE FROM records WHERE seq < ?').run(cut).changes + 1;
  const text = checkpointBody(cut, cutHash, before, now, { records, sessions, calls }, signer);
  let checkpointSeq = 0;
  append('checkpoint', `checkpoint-${cut}`, now, text, (seq) => {
    db.prepare('INSERT INTO checkpoints (record_seq, cut_seq, cut_hash, body) VALUES (?, ?, ?, ?)').run(seq, cut, cutHash, text);
    checkpointSeq = seq;
  });
  db.prepare('DELETE FROM records WHERE seq = ?').run(cut);
  db.exec(GUARD);
  return { cutSeq: cut, records, sessions, calls, checkpointSeq };
}

/**
 * Run a purge (`run`, its write transaction) so that what it removes is erased from the files,
 * not only from the tables: secure_delete zeroes every cell and page the deletes free (SQLite
 * otherwise leaves them as they were, in free pages and unused cell space, until reused), then a
 * TRUNCATE checkpoint writes the zeroed pages into the database file and empties the WAL, whose
 * older frames still hold the pages as they were before. Why: `purge` is retention; a purged
 * call's arguments and result stayed readable in the file (a backup, a copy handed to an auditor)
 * after the rows were gone. The result says `erased: false` when a reader kept the WAL from being
 * emptied (a running server mid-read): the next checkpoint overwrites it. Costs the purge only (the zeroing
 * writes and the checkpoint), never a call.
 */
export function erasing(db: Database.Database, run: () => PurgeResult): PurgeResult {
  const was = Number(db.pragma('secure_delete', { simple: true }));
  db.pragma('secure_delete = ON');
  let r: PurgeResult;
  try {
    r = run();
  } finally {
    db.pragma(`secure_delete = ${was === 2 ? 'FAST' : was === 1 ? 'ON' : 'OFF'}`);
  }
  if (r.cutSeq === 0) return r;
  const [ck] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number; log: number; checkpointed: number }[];
  return ck?.busy === 0 ? r : { ...r, erased: false };
}

/** The checkpoint the chain now starts from (the highest cut), if any. */
export function latestCheckpoint(db: Database.Database): { recordSeq: number; cutSeq: number; cutHash: string } | null {
  const t = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'checkpoints'`).get();
  if (!t) return null;
  const r = db.prepare('SELECT record_seq, cut_seq, cut_hash FROM checkpoints ORDER BY cut_seq DESC LIMIT 1').get() as
    | { record_seq: number; cut_seq: number; cut_hash: string }
    | undefined;
  return r ? { recordSeq: r.record_seq, cutSeq: r.cut_seq, cutHash: r.cut_hash } : null;
}
