/** Errors of the SQLite store: every failure becomes WardenError(TRANSCRIPT) with a short reason. */
import { ErrorCode, WardenError } from '../errors.js';
import type { Cell } from './columns.js';

/** Thrown inside a write transaction to roll it back quietly; why: idempotent closes and recovery. */
export class AlreadyDone extends Error {}

function reasonOf(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  const c = typeof code === 'string' ? code : '';
  if (c.startsWith('SQLITE_READONLY')) return 'read-only';
  if (c === 'SQLITE_FULL') return 'disk full';
  if (c.startsWith('SQLITE_BUSY') || c.startsWith('SQLITE_LOCKED')) return 'database is locked';
  if (c.startsWith('SQLITE_IOERR')) return 'I/O error';
  if (c.startsWith('SQLITE_CORRUPT') || c === 'SQLITE_NOTADB') return 'database is corrupt';
  if (c === 'SQLITE_CONSTRAINT_PRIMARYKEY' || c === 'SQLITE_CONSTRAINT_UNIQUE') return 'duplicate id';
  if (c.startsWith('SQLITE_CONSTRAINT')) return 'constraint violated';
  if (c.startsWith('SQLITE_CANTOPEN')) return 'cannot open the file';
  if (err instanceof TypeError && /serialisable/.test(err.message)) return err.message;
  if (err instanceof TypeError && /not open/.test(err.message)) return 'store is closed';
  return c || 'unexpected error';
}

/** Map any SQLite failure to the one coded error; why: the pipeline refuses the call on it. */
export function storeError(verb: 'write' | 'read' | 'open', err: unknown): WardenError {
  if (err instanceof WardenError) return err;
  const code = (err as { code?: unknown }).code;
  const details = typeof code === 'string' ? { sqliteCode: code } : {};
  return new WardenError(ErrorCode.TRANSCRIPT, `transcript store cannot ${verb}: ${reasonOf(err)}`, details);
}

/** A required text field, or a TRANSCRIPT error; why: ids and timestamps key the chain. */
export function text(cell: Cell | undefined, what: string): string {
  if (typeof cell !== 'string' || cell === '') {
    throw new WardenError(ErrorCode.TRANSCRIPT, `transcript store cannot write: ${what} missing`);
  }
  return cell;
}
