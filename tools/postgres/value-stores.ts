/**
 * Stores outside the tables rules name: built-in functions that keep a value where another
 * statement, or another part of the same one, reads it back, and the stores no deny rule or mask
 * can name. Output lineage sees what a statement returns, not what it leaves behind, so a masked
 * value fed to one of these in a WHERE clause (where masks let it be compared) comes back unmasked
 * through another door (checked on PostgreSQL 15, test/e2e/sql-side-channels.test.ts):
 * - an advisory lock's key is a row of pg_locks for every statement to read, this very one
 *   included: `SELECT objid FROM pg_locks WHERE (SELECT count(*) FROM users WHERE
 *   pg_try_advisory_xact_lock(id, ascii(substr(email, 1, 1)))) >= 0` returns the email's
 *   character codes (a bigint key carries 8 bytes);
 * - a large object is a store of its own (pg_largeobject), and a read's transaction keeps it:
 *   `lo_from_bytea(0, convert_to(email, 'UTF8'))` (or `lo_create(ascii(email))`, the value as
 *   the object's oid) in a read's WHERE leaves the value for `lo_get` to return in the next call,
 *   read-only session or not; and what the application keeps in large objects (files a denied
 *   table points to by oid) no deny rule names, so reading one (lo_get, loread, lo_export) is
 *   refused too;
 * - setval stores a number in a sequence that last_value and currval return (a write's
 *   transaction runs it; a read's refuses it);
 * - pg_notify sends the value to every session that LISTENs, and pg_logical_emit_message writes
 *   it into the WAL that logical decoding returns (pg_logical_slot_*_changes, which return the
 *   rows every table changed, denied ones included).
 * - a TOAST table (pg_toast.pg_toast_<oid>) holds the long values of another table's columns,
 *   in chunks (`encode(chunk_data, 'escape')`); a role that may read it (a superuser, or one
 *   granted pg_toast) reads a masked column or a denied table there under another name.
 * - pg_read_file and pg_read_binary_file read the table's data files themselves.
 * - set_config stores a value in a setting that SHOW and current_setting return.
 * statistics-values.ts refuses all of these while a column mask or a conditional deny rule
 * applies, named or called through a view,
 * whatever the grant lists (a grant without a `sql:` block allows every function; a sql grant
 * never allows them under a read: analysis/functions.ts NEVER_UNDER_READ).
 * Not closed here: a predicate is a channel of its own. Those that compute the output from a
 * masked value (a join on it, a scalar subquery counting below it: `(SELECT count(*) FROM
 * generate_series(1, 255) g WHERE g <= ascii(email))`) are refused by predicate-channels.ts; the
 * outermost query's own filters (a bit per row) remain, as do counters a statement moves
 * (pg_stat_get_xact_*, nextval in a write), said in the README.
 */

const LOCKS =
  'takes an advisory lock whose key pg_locks shows to every statement, this one included, so a key computed from a value the statement reads (a masked column) reads back as numbers';
const LARGE_OBJECTS =
  'reads or writes large objects, a store outside the tables rules name (a read keeps what it writes there, for lo_get to return in the next call; what the application keeps there no deny rule names)';

/** The storing functions named one by one (locks, large objects and logical slots go by prefix: storingCall). */
export const STORING_FUNCTIONS: ReadonlyMap<string, string> = new Map([
  // current_setting (allowed for built-in names: setting-reads.ts) and SHOW return it, in the same statement or the next.
  ['set_config', "stores a value in a setting, which current_setting and SHOW return as it is: a masked column's value would come back unmasked"],
  ['setval', 'stores a number in a sequence, which last_value and currval return in the next call'],
  ['pg_notify', 'sends its payload to every session that LISTENs, where no mask follows it'],
  ['pg_logical_emit_message', 'writes its message into the WAL, which logical decoding returns as it is'],
]);

const FILES =
  'reads the server\'s files, the data files of every table among them (denied tables and masked columns, page by page: pg_relation_filepath names them)';
/** Built-in functions that read server files (a superuser's, or a role granted pg_read_server_files and EXECUTE). */
const SERVER_FILES: ReadonlySet<string> = new Set(['pg_read_file', 'pg_read_binary_file']);

/** Why a built-in function (keyed as functionKey spells it: pg_catalog dropped) keeps a value outside the tables rules name, or null. */
export function storingCall(key: string): string | null {
  if (key.includes('.')) return null; // outside pg_catalog: the grant's to trust
  if (key.startsWith('pg_advisory_') || key.startsWith('pg_try_advisory_')) return LOCKS;
  if (key.startsWith('lo_') || key === 'loread' || key === 'lowrite') return LARGE_OBJECTS;
  if (SERVER_FILES.has(key)) return FILES;
  if (key.startsWith('pg_logical_slot_')) return 'returns the changes logical decoding read from the WAL: rows of every table, denied ones included, and messages statements wrote there';
  return STORING_FUNCTIONS.get(key) ?? null;
}

const TOAST =
  "holds, in chunks, the out-of-line values (TOAST) of another table's long values, which masks and deny rules, naming that table, cannot follow";

/** Why a relation (as statements name it: schema.name) holds a store's contents or other tables' values, or undefined: STORE_RELATIONS, and pg_toast's relations. */
export function storeRelation(relation: string): string | undefined {
  return STORE_RELATIONS.get(relation) ?? (relation.startsWith('pg_toast.') ? TOAST : undefined);
}

/** Relations that hold such a store's contents (as statements name them: schema.name), and why each. */
export const STORE_RELATIONS: ReadonlyMap<string, string> = new Map([
  ['pg_catalog.pg_largeobject', 'holds the contents of large objects, a store outside the tables rules name (what a masked value was written into, what a denied table points to by oid)'],
]);
