/**
 * The stored bytes of a record's text columns must be valid UTF-8. Why: SQLite keeps TEXT as
 * bytes and the driver decodes each invalid sequence as U+FFFD, while verify hashes the decoded
 * text; so different stored bytes (F0 90 80 for EF BF BD, three bytes for three, or FF for 80)
 * would hash alike and verify as the same record. The writer only stores valid UTF-8 (canonical
 * JSON of JS strings, lone surrogates escaped), so invalid bytes are always an edit of the file.
 *
 * Why gated on U+FFFD: decoding invalid bytes always yields at least one U+FFFD, so a record
 * whose text holds none was valid; only the rare record that holds one has its bytes read
 * (CAST(col AS BLOB), by seq) and checked. A byte-length comparison would be cheaper to state but
 * wrong: F0 90 80 and EF BF BD are both three bytes and one character, to SQLite and to JS alike.
 *
 * PostgreSQL needs none of this: a UTF8 database refuses invalid UTF-8 in text (the store's
 * tables are text, and the writer's client encoding is UTF8). A SQL_ASCII database would not
 * check, which the store does not guard against.
 */
import { isUtf8 } from 'node:buffer';
import type Database from 'better-sqlite3';
import { R, type RawRow, TEXT_COLUMNS } from './verify-fast.js';

/** Reads a record's stored bytes when its text could hide invalid UTF-8 (one per walk). */
export class Utf8Check {
  /** One statement per column, prepared when first needed: only a marked column is read again. */
  private readonly bytesOf = new Map<number, Database.Statement>();

  constructor(private readonly db: Database.Database) {}

  /** Why the record's text columns (all strings: nonTextColumn ran first) are not all valid UTF-8 ("body is not valid UTF-8"), or null. */
  invalidColumn(rec: RawRow): string | null {
    for (let k = 0; k < TEXT_COLUMNS.length; k++) {
      const [i, name] = TEXT_COLUMNS[k]!;
      if ((rec[i] as string).indexOf('\uFFFD') === -1) continue;
      let stmt = this.bytesOf.get(i);
      if (!stmt) this.bytesOf.set(i, (stmt = this.db.prepare(`SELECT CAST(${name} AS BLOB) FROM records WHERE seq = ?`).pluck()));
      const bytes = stmt.get(rec[R.seq]) as Uint8Array | null | undefined;
      if (bytes && !isUtf8(bytes)) return `${name} is not valid UTF-8 (its stored bytes read as U+FFFD)`;
    }
    return null;
  }
}
