/**
 * Catalog facts a masked write was judged by, held still until its statement runs. The write-side
 * oracles (constraint-oracles.ts) judge an UPDATE or DELETE under masks by what the catalog says
 * of the tables it writes (CHECKs, triggers and their function bodies, generated columns,
 * indexes, foreign key actions, rules, policies: constraint-catalog.ts), read before the
 * statement, maybe from a cache up to 60 s old. A change in between (DDL through another Warden
 * replica, whose cache is not this one's; DDL of a call running at the same time; an admin's
 * CREATE OR REPLACE FUNCTION) would run the statement under a definition never judged.
 * So, inside the write's own transaction, before its statement:
 * - a transaction-level advisory lock on CATALOG_LOCK, in the database the statement writes
 *   (every replica and connection of it shares the key): shared for a masked write judged by
 *   catalog facts, exclusive for a statement that may change the catalog (DDL, CALL, a call of a
 *   function outside pg_catalog); so no write through Warden changes the catalog between the
 *   re-read below and the masked write's COMMIT;
 * - the facts re-read (the same catalog query, on the write's session) and compared with those
 *   judged: any difference refuses the call (WARDEN_DENIED, nothing ran, nothing committed), and
 *   the connection's caches are forgotten, so the call asked again is judged anew.
 * Reads take no lock and ask nothing more; an unmasked write with no DDL takes no lock.
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';

/** The advisory lock key (PostgreSQL's two-int4 form: pg_locks classid, objid, objsubid 2): 'WARD', 1. */
export const CATALOG_LOCK: readonly [number, number] = [0x57415244, 1];

/** How a write holds CATALOG_LOCK: shared (judged by catalog facts), exclusive (may change them), or not at all. */
export type CatalogLockMode = 'shared' | 'exclusive' | null;

/** Statement kinds that change no catalog fact by themselves; any other kind (DDL, GRANT, CALL, TRUNCATE, ...) may, fail closed. */
const KEEPS_CATALOG = new Set(['select', 'show', 'explain', 'insert', 'update', 'delete', 'lock', 'set', 'notify', 'listen', 'unlisten']);

/** Whether a statement of these kinds may change the catalog itself (DDL, GRANT, CALL, ...): see KEEPS_CATALOG. */
export function changesCatalog(kinds: readonly string[]): boolean {
  return kinds.some((k) => !KEEPS_CATALOG.has(k));
}

/**
 * The lock a write takes (see the top of the file): exclusive when a statement kind changes the
 * catalog or it calls a function outside pg_catalog (its body may run DDL); else shared when its
 * checks read catalog facts (`judged`); else none.
 */
export function catalogLockMode(kinds: readonly string[], functions: readonly string[], judged: boolean): CatalogLockMode {
  if (changesCatalog(kinds) || functions.some((f) => f.includes('.') && !f.startsWith('pg_catalog.'))) return 'exclusive';
  return judged ? 'shared' : null;
}

/**
 * The write's opening, one simple-protocol round trip: BEGIN, its statement_timeout (which bounds
 * the wait for the lock too), and the lock in `mode`.
 */
export function beginSql(timeoutMs: number, mode: CatalogLockMode): string {
  const begin = `BEGIN READ WRITE; SET LOCAL statement_timeout = ${Math.floor(timeoutMs)}`;
  if (!mode) return begin;
  const fn = mode === 'shared' ? 'pg_advisory_xact_lock_shared' : 'pg_advisory_xact_lock';
  return `${begin}; SELECT pg_catalog.${fn}(${CATALOG_LOCK[0]}, ${CATALOG_LOCK[1]})`;
}

/**
 * The re-read of the facts a write was judged by, inside its transaction: `query` the catalog
 * query, `same` whether its answer is what was judged.
 */
export interface CatalogRecheck {
  text: string;
  values: unknown[];
  same(rows: unknown[]): boolean;
}

/** The refusal when the facts changed (coded; names no value, only that the definitions moved). */
export function catalogChanged(): WardenError {
  return new WardenError(
    ErrorCode.DENIED,
    'the catalog changed between Warden\'s check of this write and its statement (a CHECK, trigger, trigger function, index, ' +
      'generated column, foreign key, rule or policy of a table it writes was added, dropped or replaced meanwhile); under masks ' +
      'the write runs only under the definitions it was judged by, so nothing ran and nothing was committed; ask again to have it judged anew',
    { ruleIds: ['masking.columns'], reason: 'catalog changed between check and statement' },
  );
}
