/**
 * Every row of every table of a transcript database, as one string, so tests can assert that
 * a secret appears nowhere in it (read-only; WAL readers see committed rows).
 */
import Database from 'better-sqlite3';

/** Dump all tables of a SQLite file as JSON text. */
export function dumpTranscript(dbPath: string): string {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[];
    return tables.map((t) => JSON.stringify(db.prepare(`SELECT * FROM "${t.name.replace(/"/g, '""')}"`).all())).join('\n');
  } finally {
    db.close();
  }
}
