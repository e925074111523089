/** Errors of the PostgreSQL store: every failure becomes WardenError(TRANSCRIPT) with a short, secret-free reason. */
import { ErrorCode, WardenError } from '../errors.js';

function reasonOf(err: unknown): string {
  const e = err as { code?: unknown; message?: unknown };
  const c = typeof e.code === 'string' ? e.code : '';
  const msg = typeof e.message === 'string' ? e.message : '';
  if (c === '53100') return 'disk full';
  if (c === '25006') return 'read-only';
  if (c === '57014') return 'statement timeout';
  if (c === '23505') return 'duplicate id';
  if (c.startsWith('23')) return 'constraint violated';
  if (c.startsWith('22')) return 'value not storable (invalid text)';
  if (c.startsWith('08') || c === '57P01' || c === '57P02' || c === '57P03' || /ECONNREFUSED|ECONNRESET|ENOTFOUND|EHOSTUNREACH|terminated|timeout exceeded|Connection ended|not queryable/i.test(msg)) {
    return 'database unreachable';
  }
  if (c === '3D000' || c === '28P01' || c === '28000') return 'cannot connect (database or login refused)';
  if (c === '42501') return deniedReason(msg);
  if (/pool .*ended|Cannot use a pool after calling end/i.test(msg)) return 'store is closed';
  if (err instanceof TypeError && /serialisable/.test(msg)) return msg;
  return c ? `database error ${c}` : 'unexpected error';
}

/**
 * A refusal to the store's role, named: row-level security that would hide rows (a read-only
 * store runs with row_security = off, pg-readonly.ts, so the query fails instead of filtering) or
 * a missing GRANT. Why: an auditor must be told it cannot read what it is denied, never shown a
 * partial view. Only the catalog's name of the table is kept from the server's message.
 */
function deniedReason(msg: string): string {
  const rls = /row-level security policy for table "([^"]{1,63})"/.exec(msg)?.[1];
  if (rls) return `row-level security on ${rls} hides rows from this role: it cannot read what it is denied`;
  const denied = /permission denied for (table|relation|schema|sequence|function|database) "?([^"\s]{1,63})/.exec(msg);
  return denied ? `permission denied for ${denied[1]} ${denied[2]} (docs/transcripts.md lists the GRANTs a role needs)` : 'permission denied';
}

/** Whether a PG error concerns one value (not the connection); why: such a write fails alone in a group commit. */
export function itemError(err: unknown): boolean {
  const c = (err as { code?: unknown }).code;
  return typeof c === 'string' && (c.startsWith('22') || c.startsWith('23'));
}

/** Map any PostgreSQL failure to the one coded error; why: the pipeline refuses the call on it. */
export function pgStoreError(verb: 'write' | 'read' | 'open', err: unknown): WardenError {
  if (err instanceof WardenError) return err;
  const code = (err as { code?: unknown }).code;
  const details = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? { sqlstate: code } : {};
  return new WardenError(ErrorCode.TRANSCRIPT, `transcript store cannot ${verb}: ${reasonOf(err)}`, details);
}
