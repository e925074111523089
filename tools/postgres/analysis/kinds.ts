/**
 * The closed set of statement kinds the analyser reports in `SqlFacts.statements`. Why one list:
 * the `sql:` condition validates `statements:` against it, so a typo in a policy (`dorp`) is a
 * load error instead of a rule that silently never matches. Keep it in step with the walkers
 * (select.ts, statement.ts, utility.ts); a test analyses one statement of each kind.
 */
export const STATEMENT_KINDS = [
  // reads
  'select', 'show', 'explain',
  // data changes
  'insert', 'update', 'delete',
  // schema and privileges (RENAME is reported as alter)
  'create', 'drop', 'alter', 'truncate', 'grant', 'revoke', 'comment',
  // session and server (RESET is reported as set)
  'set', 'discard', 'lock', 'execute', 'call', 'deallocate', 'checkpoint',
  // transaction control (START/END/ABORT are reported as begin/commit/rollback)
  'begin', 'commit', 'rollback', 'savepoint', 'release',
  // notifications
  'listen', 'unlisten', 'notify',
] as const;

/** One statement kind the analyser can report. */
export type StatementKind = (typeof STATEMENT_KINDS)[number];

/** The kinds that only read: a statement of these alone is readOnly, a grant of these alone is a read grant. */
export const READ_KINDS: ReadonlySet<string> = new Set<StatementKind>(['select', 'show', 'explain']);

/**
 * The construct of DDL that checks the foreign keys of existing rows (ALTER TABLE ... VALIDATE
 * CONSTRAINT, ALTER COLUMN ... TYPE): each key check reads the other table (key-checks.ts), which
 * the statement does not name; widened-relations.ts adds those reads from the catalog.
 */
export const CHECKS_KEYS = 'checks_keys';
