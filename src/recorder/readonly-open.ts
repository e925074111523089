import { existsSync, readFileSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { ErrorCode, WardenError } from '../errors.js';
import { applyWal, WalUnreadable } from './wal-replay.js';

/**
 * Open a store file for reading only. SQLite cannot open a WAL file read-only when it may
 * not create the -shm file beside it (a read-only directory); then read a snapshot into memory:
 * the main file with the committed frames of a pending -wal applied (wal-replay.ts), so that the
 * newest records a dead writer left in its WAL are read too. A -wal that cannot be applied is a
 * coded error saying what to do, never a read of the main file alone (it would hide those records).
 * Why: `warden transcripts list|verify` must work on archived, read-only transcripts.
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
    let image: Buffer = readFileSync(path);
    if (existsSync(wal) && statSync(wal).size > 0) {
      try {
        image = applyWal(image, readFileSync(wal));
      } catch (e) {
        if (!(e instanceof WalUnreadable)) throw e;
        throw new WardenError(
          ErrorCode.TRANSCRIPT,
          `transcript store cannot open read-only: ${wal} (${e.message}) cannot be read in place, and its folder has no -shm and cannot be written: copy the folder (the store, its -wal and any -shm) somewhere writable and read the copy`,
          { path },
        );
      }
    }
    if (image.length >= 20 && image[18] === 2 && image[19] === 2) image[18] = image[19] = 1; // WAL -> rollback journal, in the copy only
    return new Database(image, { readonly: true });
  }
}
