import { existsSync, readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';

/**
 * Open a store file for reading only. SQLite cannot open a WAL file read-only when it may
 * not create the -shm file beside it (a read-only directory); then read a snapshot into memory (the main file is complete when no WAL is pending).
 * Why: `warden transcripts list` must work on archived, read-only transcripts.
 */
export function openReadonly(path: string): Database.Database {
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.prepare('SELECT count(*) FROM sqlite_master').get(); // the -shm problem shows on first read
    return db;
  } catch (err) {
    if (db?.open) db.close();
    const code = (err as { code?: unknown }).code;
    if (code !== 'SQLITE_READONLY_DIRECTORY' && code !== 'SQLITE_CANTOPEN') throw err;
    const wal = `${path}-wal`;
    if (existsSync(wal) && statSync(wal).size > 0) throw err;
    const image = readFileSync(path);
    if (image.length >= 20 && image[18] === 2 && image[19] === 2) image[18] = image[19] = 1; // WAL -> rollback journal, in the copy only
    return new Database(image, { readonly: true });
  }
}
