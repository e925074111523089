/**
 * Verify of the free-text index: calls_fts must index exactly the calls up to its progress mark
 * (fts_progress), and the mark must not lie past the last call. A call deleted from the index
 * hides its session from a reviewer's free-text search ("every session whose SQL mentions
 * users"); a mark moved past the calls stops every later call from being indexed at all.
 * Why the docsize table: calls_fts is contentless, but it keeps one row per indexed document,
 * keyed by the call's intent seq; the chain walk compares those ids with the calls as it goes
 * (verify-text-entries.ts, on both verify threads).
 * (The tokens of one document are not compared: that would mean re-indexing every call.)
 */
import type Database from 'better-sqlite3';
import { TEXT_INDEX_DISAGREES as REASON } from './verify-text-entries.js';

/**
 * Where calls_fts disagrees with the calls table outside what the walk checks, or null: the
 * progress mark, and entries outside the walked records from..lastSeq.
 */
export function textIndexMismatch(db: Database.Database, from: number, lastSeq: number): { seq: number; reason: string } | null {
  const has = (name: string) => db.prepare(`SELECT 1 FROM sqlite_master WHERE name = ?`).get(name) !== undefined;
  if (!has('fts_progress') || !has('calls_fts_docsize')) return null; // older files are migrated on a writable open
  const mark = db.prepare('SELECT call_rowid FROM fts_progress WHERE id = 1').pluck().get() as number | undefined;
  const last = db.prepare('SELECT coalesce(MAX(rowid), 0) FROM calls').pluck().get() as number;
  if (typeof mark !== 'number' || mark < 0 || mark > last) {
    return { seq: 0, reason: `${REASON}: its progress mark (${String(mark)}) is not within the calls (last ${last}), so new calls would not be searchable` };
  }
  // Per call, the walk checked the entries inside the chain (verify-text-entries.ts); none may lie outside it.
  const outside = db.prepare('SELECT id FROM calls_fts_docsize WHERE id < ? OR id > ? ORDER BY id LIMIT 1').pluck().get(from, lastSeq) as number | undefined;
  if (outside !== undefined) return { seq: outside, reason: `${REASON}: it holds an entry at record ${outside}, which is no indexed call` };
  return null;
}
