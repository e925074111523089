/**
 * How a PostgreSQL error reaches the agent: a coded WardenError whose message is the server's
 * own only when it cannot quote a stored value (or, for a statement touching masked columns,
 * only when its SQLSTATE never quotes one). Kept apart from the pools in connector.ts because
 * it is pure and is where the withholding rules are read and reviewed.
 */
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import { tlsFailure } from './tls.js';

/** Map a pg error to a coded error; only the server's message (never connection details) travels. */
export function backendError(e: unknown, masked = false): WardenError {
  if (e instanceof WardenError) return e;
  const tls = tlsFailure(e);
  if (tls) return tls;
  const err = e as { code?: string; message?: string; position?: unknown };
  if (err.code === '57014') return new WardenError(ErrorCode.TIMEOUT, 'the statement was cancelled: statement_timeout reached');
  if (err.code === '25006') return new WardenError(ErrorCode.DENIED, 'the database refused a write in a read-only transaction', { ruleIds: [] });
  const sqlstate = typeof err.code === 'string' && /^[0-9A-Z]{5}$/.test(err.code) ? err.code : null;
  const inStatement = typeof err.position === 'string' && /^[1-9][0-9]*$/.test(err.position);
  const withheld = sqlstate ? withheldMessage(sqlstate) ?? (masked ? maskedMessage(sqlstate, inStatement) : null) : null;
  if (withheld) return new WardenError(ErrorCode.BACKEND, withheld);
  if (masked && !sqlstate && !CONNECTION_ERROR.test(err.message ?? '')) return new WardenError(ErrorCode.BACKEND, 'database error; the message is withheld because the statement touches masked columns');
  const msg = typeof err.message === 'string' ? err.message : 'database error';
  const code = sqlstate ? ` (SQLSTATE ${sqlstate})` : '';
  if (CONNECTION_ERROR.test(msg)) {
    return new WardenError(ErrorCode.BACKEND, 'the database is unreachable right now');
  }
  return new WardenError(ErrorCode.BACKEND, `database error: ${msg}${code}`);
}

const CONNECTION_ERROR = /ECONNREFUSED|ENOTFOUND|ETIMEDOUT|timeout exceeded when trying to connect|Connection terminated/i;

/**
 * SQLSTATE classes whose server messages quote stored values or arbitrary text: a data exception
 * names the value it could not convert (`invalid input syntax for type integer: "alice@..."`,
 * also from a masked column cast in WHERE), a RAISE or an external routine says whatever it
 * likes, an authorization failure names the server-held role. Their message never leaves
 * Warden; the agent gets the SQLSTATE and its condition, which is enough to fix a query.
 */
const WITHHELD_CLASSES: Record<string, string> = {
  '22': 'data exception',
  '28': 'invalid authorization specification',
  '2F': 'SQL routine exception',
  '38': 'external routine exception',
  '39': 'external routine invocation exception',
  P0: 'PL/pgSQL error',
};

const CONDITIONS: Record<string, string> = {
  '22001': 'string data right truncation',
  '22003': 'numeric value out of range',
  '22004': 'null value not allowed',
  '22007': 'invalid datetime format',
  '22008': 'datetime field overflow',
  '22012': 'division by zero',
  '22018': 'invalid character value for cast',
  '22021': 'character not in repertoire',
  '22023': 'invalid parameter value',
  '2201B': 'invalid regular expression',
  '22P02': 'invalid text representation',
  '22P05': 'untranslatable character',
  P0001: 'raise exception',
};

function withheldMessage(sqlstate: string): string | null {
  const cls = WITHHELD_CLASSES[sqlstate.slice(0, 2)];
  if (!cls) return null;
  return `database error: ${CONDITIONS[sqlstate] ?? cls} (SQLSTATE ${sqlstate}); PostgreSQL's message is withheld because it can quote stored values`;
}

/**
 * Errors whose message never quotes a value, only names from the statement or the catalog:
 * constraint violations (the values are in the detail, which never travels), transaction,
 * resource and operator-intervention states, permission errors (and undefined-column errors
 * that point into the statement: QUOTES_STATEMENT_ONLY). Any other
 * message may quote a value: a lookup by name echoes it (`email::regclass` -> `relation
 * "<value>" does not exist`, 42P01; regtype, regproc, regrole, regnamespace: 42601, 42883,
 * 42704, 3F000), as do text-search parsers (`no operand in tsquery: "<value>"`, 42601), and so
 * does feature_not_supported (0A000): a dotted value cast to regconfig, regoper or regcollation
 * is "cross-database references are not implemented: <value>". program_limit_exceeded (54000)
 * prints sizes and codes computed from values (`chr(ascii(email) * 100000)` -> "requested
 * character too large for encoding: 9700000"; "row is too big: size N"), so of class 54 only
 * statement_too_complex (54001, "stack depth limit exceeded") travels.
 */
const QUOTES_NO_VALUE_CLASSES = new Set(['08', '23', '25', '40', '53', '55', '57']);
const QUOTES_NO_VALUE = new Set(['42501', '54001']);

/**
 * undefined_column (42703) names a column the statement misspelt, from parse analysis, which
 * reads no row and points into the statement (the error's position). A function that looks a
 * column up by a name it is given at run time raises the same SQLSTATE with no position, the
 * name being whatever the row held: `has_column_privilege('users', ssn, 'SELECT')` and
 * `pg_get_serial_sequence('users', ssn)` say `column "<ssn>" of relation "users" does not
 * exist`. So under masks it travels only with a position.
 */
const QUOTES_STATEMENT_ONLY = new Set(['42703']);

/** The message for an error of a statement that touches masked columns, or null when PostgreSQL's may travel. */
function maskedMessage(sqlstate: string, inStatement: boolean): string | null {
  if (QUOTES_NO_VALUE.has(sqlstate) || QUOTES_NO_VALUE_CLASSES.has(sqlstate.slice(0, 2))) return null;
  if (inStatement && QUOTES_STATEMENT_ONLY.has(sqlstate)) return null;
  return `database error (SQLSTATE ${sqlstate}); PostgreSQL's message is withheld because the statement touches masked columns and the message can quote their values`;
}
