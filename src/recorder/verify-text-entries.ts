/**
 * The free-text index checked during the chain walk: calls_fts keeps one calls_fts_docsize row
 * per indexed call, keyed by the call's intent seq, and every call up to the index's progress
 * mark must have exactly its row. The walk visits every call_intent record in seq order, so a
 * cursor over the docsize ids of the same span finds a missing entry (a call hidden from free-text
 * search) or an extra one (an id that is no indexed call) in the same pass, on both verify
 * threads, instead of two set differences over the whole table afterwards
 * (verify-text-index.ts keeps the checks that are not per span: the mark, and ids outside the chain).
 */
import type Database from 'better-sqlite3';

/** Why the index disagrees, in the words verify reports. */
export const TEXT_INDEX_DISAGREES = 'the free-text index disagrees with the calls';

function hasTable(db: Database.Database, name: string): boolean {
  return db.prepare(`SELECT 1 FROM sqlite_master WHERE name = ?`).get(name) !== undefined;
}

/** The docsize ids of one span, checked against the span's call_intent records. */
export class TextEntries {
  private readonly it: IterableIterator<number>;
  private head: number | undefined;

  private constructor(
    db: Database.Database,
    from: number,
    to: number,
    /** The intent seq of the last indexed call (0: none yet). */
    private readonly markSeq: number,
  ) {
    this.it = db.prepare('SELECT id FROM calls_fts_docsize WHERE id >= ? AND id <= ? ORDER BY id').pluck().iterate(from, to) as IterableIterator<number>;
    this.step();
  }

  /** The cursor for span from..to, or null for a file without the index (older files). */
  static open(db: Database.Database, from: number, to: number): TextEntries | null {
    if (!hasTable(db, 'fts_progress') || !hasTable(db, 'calls_fts_docsize')) return null;
    const mark = (db.prepare('SELECT call_rowid FROM fts_progress WHERE id = 1').pluck().get() as number | undefined) ?? 0;
    // Calls are appended in seq order, so rowid order is seq order: the mark's seq bounds the indexed calls.
    const markSeq = (db.prepare('SELECT seq FROM calls WHERE rowid <= ? ORDER BY rowid DESC LIMIT 1').pluck().get(mark) as number | undefined) ?? 0;
    return new TextEntries(db, from, to, markSeq);
  }

  private step(): void {
    const n = this.it.next();
    this.head = n.done ? undefined : n.value;
  }

  private extra(id: number): { seq: number; reason: string } {
    return { seq: id, reason: `${TEXT_INDEX_DISAGREES}: it holds an entry at record ${id}, which is no indexed call` };
  }

  /** The call_intent record at `seq`: null when the index agrees, else where and why not. */
  intent(seq: number): { seq: number; reason: string } | null {
    if (this.head !== undefined && this.head < seq) return this.extra(this.head);
    const has = this.head === seq;
    if (has) this.step();
    if (seq <= this.markSeq && !has) return { seq, reason: `${TEXT_INDEX_DISAGREES}: the call recorded here is missing from it (hidden from free-text search)` };
    if (seq > this.markSeq && has) return this.extra(seq);
    return null;
  }

  /** After the span's last record: an id left over is no call_intent of the span. */
  end(): { seq: number; reason: string } | null {
    return this.head === undefined ? null : this.extra(this.head);
  }

  close(): void {
    this.it.return?.();
  }
}
