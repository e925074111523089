/**
 * Free-text indexing of calls behind the hot path. Recording a call does not touch the FTS5
 * index (three to four more pages per intent, about a quarter of its commit); instead the calls
 * recorded since the last catch-up are indexed together, a moment after they were written, before
 * every free-text search, before a purge and when the store closes. `fts_progress` holds the
 * last calls rowid (insertion order) that calls_fts covers, so a catch-up is one range scan, and
 * any process that can write the file (the server, the CLI) may run it: it reads the mark inside
 * its write lock, so two never index the same call.
 */
import type Database from 'better-sqlite3';
import { FTS_TEXT_SQL } from './sqlite-schema.js';

/** How long after a write the catch-up runs; why: one transaction indexes a whole burst of calls. */
export const TEXT_INDEX_DELAY_MS = 200;
/** Calls indexed per background catch-up; why: a backlog never blocks the event loop for long. */
export const TEXT_INDEX_BATCH = 2000;

/**
 * Index the calls not yet in calls_fts, at most `limit` of them (oldest first); returns how many
 * were added. Runs as a savepoint when called inside a transaction.
 */
export function indexPendingText(db: Database.Database, limit = Number.MAX_SAFE_INTEGER): number {
  return db
    .transaction(() => {
      const mark = (db.prepare('SELECT call_rowid FROM fts_progress WHERE id = 1').get() as { call_rowid: number } | undefined)?.call_rowid ?? 0;
      const upTo = (db.prepare('SELECT MAX(rowid) AS m FROM (SELECT rowid FROM calls WHERE rowid > ? ORDER BY rowid LIMIT ?)').get(mark, limit) as { m: number | null }).m;
      if (upTo === null) return 0;
      const added = db.prepare(`INSERT INTO calls_fts (rowid, text) SELECT seq, ${FTS_TEXT_SQL} FROM calls WHERE rowid > ? AND rowid <= ? ORDER BY rowid`).run(mark, upTo).changes;
      db.prepare('UPDATE fts_progress SET call_rowid = ? WHERE id = 1').run(upTo);
      return added;
    })
    .immediate();
}

/** After a purge removed calls (all indexed first): the mark moves to the newest remaining row. */
export function resetTextIndexMark(db: Database.Database): void {
  db.prepare('UPDATE fts_progress SET call_rowid = (SELECT coalesce(MAX(rowid), 0) FROM calls) WHERE id = 1').run();
}

/**
 * Run `fn` (a write transaction) with synchronous=NORMAL when the connection is at FULL (or
 * EXTRA), and put its level back after. Why: the free-text index is derived from calls and its progress mark commits
 * with it, so a catch-up lost to a power cut is redone from the older mark; its own fsync (one
 * every TEXT_INDEX_DELAY_MS while calls arrive, blocking the loop that serves them) bought
 * nothing. In WAL mode the commit still survives a process crash at once, and the next durable
 * commit (a call's outcome) carries it to disk.
 */
export function withoutOwnFsync<T>(db: Database.Database, fn: () => T): T {
  const level = Number(db.pragma('synchronous', { simple: true }));
  if (!(level >= 2)) return fn();
  db.pragma('synchronous = NORMAL');
  try {
    return fn();
  } finally {
    db.pragma(`synchronous = ${level}`);
  }
}

/** The catch-up of one writable store: a timer after writes, and catch-ups on demand. */
export class TextIndexer {
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly db: Database.Database) {}

  /** A write landed: catch up a moment from now (one transaction per burst). */
  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.catchUp(TEXT_INDEX_BATCH);
    }, TEXT_INDEX_DELAY_MS);
    this.timer.unref();
  }

  /** Bring the index up to date (at most `limit` calls); a failure (disk full, locked) leaves it for the next try. */
  catchUp(limit?: number): void {
    if (!this.db.open || this.db.inTransaction) return;
    try {
      // A background catch-up that filled its batch leaves more: schedule the next one.
      if (withoutOwnFsync(this.db, () => indexPendingText(this.db, limit)) === limit) this.schedule();
    } catch {
      /* search still answers from what is indexed; the next catch-up retries */
    }
  }

  /** Stop the timer and catch up once more (the store is closing). */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.catchUp();
  }
}
