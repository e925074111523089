/**
 * Verify of the free-text index: calls_fts must index exactly the calls up to its progress mark
 * (fts_progress), and the mark must not lie past the last call. A call deleted from the index
 * hides its session from a reviewer's free-text search ("every session whose SQL mentions
 * users"); a mark moved past the calls stops every later call from being indexed at all.
 * Why the docsize table: calls_fts is contentless, but it keeps one row per indexed document,
 * so the set of indexed calls can be compared with the calls table in two index scans.
 * (The tokens of one document are not compared: that would mean re-indexing every call.)
 */
import type Database from 'better-sqlite3';

const REASON = 'the free-text index disagrees with the calls';

/** Where calls_fts disagrees with the calls table, or null. */
export function textIndexMismatch(db: Database.Database): { seq: number; reason: string } | null {
  const has = (name: string) => db.prepare(`SELECT 1 FROM sqlite_master WHERE name = ?`).get(name) !== undefined;
  if (!has('fts_progress') || !has('calls_fts_docsize')) return null; // older files are migrated on a writable open
  const mark = db.prepare('SELECT call_rowid FROM fts_progress WHERE id = 1').pluck().get() as number | undefined;
  const last = db.prepare('SELECT coalesce(MAX(rowid), 0) FROM calls').pluck().get() as number;
  if (typeof mark !== 'number' || mark < 0 || mark > last) {
    return { seq: 0, reason: `${REASON}: its progress mark (${String(mark)}) is not within the calls (last ${last}), so new calls would not be searchable` };
  }
  const missing = db.prepare('SELECT seq FROM calls WHERE rowid <= ? EXCEPT SELECT id FROM calls_fts_docsize ORDER BY 1 LIMIT 1').pluck().get(mark) as number | undefined;
  if (missing !== undefined) return { seq: missing, reason: `${REASON}: the call recorded here is missing from it (hidden from free-text search)` };
  const extra = db.prepare('SELECT id FROM calls_fts_docsize EXCEPT SELECT seq FROM calls WHERE rowid <= ? ORDER BY 1 LIMIT 1').pluck().get(mark) as number | undefined;
  if (extra !== undefined) return { seq: extra, reason: `${REASON}: it holds an entry at record ${extra}, which is no indexed call` };
  return null;
}
