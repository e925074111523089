/**
 * A blind trigger body's DECLARE section (trigger-bodies.ts), fail closed: local variables of
 * built-in scalar types, nothing a masked value could flow into unseen. Read only at the body's
 * start (`DECLARE` before the first `BEGIN`; a nested block's DECLARE is refused as a word), each
 * declaration exactly `name type ;` or `name type := expr ;` (or `=`, `DEFAULT`), where
 * - `type` is one word of TYPES (pg_catalog's scalar types, no length or precision, no array;
 *   the session's search_path puts pg_catalog first, and a type of that name outside pg_catalog
 *   refuses all the same: trigger-bodies.ts `shadowed`). So no `%TYPE`, `%ROWTYPE`, `RECORD`, a
 *   row type, a domain, a cursor (`CURSOR FOR`, refcursor), `ALIAS FOR`, `CONSTANT`, `NOT NULL`,
 *   `COLLATE`;
 * - `name` is an unquoted identifier no PL/pgSQL or SQL statement keyword spells (NOT_NAMES), nor
 *   a word the body's reader knows otherwise (a keyword, a trigger variable, a function, NEW,
 *   OLD): a variable named `execute` would let `execute coalesce('SELECT ...')` pass as a read of
 *   it, were PostgreSQL to read the word as the statement;
 * - `expr` is judged as any expression of the body (trigger-bodies.ts), so a variable holds what
 *   the allowed operators and functions compute from unmasked columns, constants and other
 *   variables, never a masked value (no column of it, no whole row, no SELECT INTO, no GET).
 * The variables are then read wherever an expression may stand, and assigned with `:=` or `=`;
 * trigger-bodies.ts refuses one followed by `(`, `.`, `[`, a string, a number or an identifier
 * other than a keyword it knows (`foo 'x'` would be a typed literal of a type foo).
 */
import type { Token } from './plpgsql-tokens.js';

/** The types a variable may have: pg_catalog's scalar types, spelled in one word. */
export const TYPES: readonly string[] = [
  'int', 'integer', 'int2', 'int4', 'int8', 'smallint', 'bigint', 'numeric', 'decimal', 'real', 'float4', 'float8', 'boolean', 'bool',
  'text', 'varchar', 'date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval', 'uuid',
];

/** Words no variable may be named: PL/pgSQL's keywords (reserved and unreserved) and SQL's statement words. */
const NOT_NAMES = new Set([
  'all', 'begin', 'by', 'case', 'declare', 'else', 'end', 'for', 'foreach', 'from', 'if', 'in', 'into', 'loop', 'not', 'null', 'or', 'strict',
  'then', 'to', 'using', 'when', 'while', 'absolute', 'alias', 'and', 'array', 'assert', 'backward', 'call', 'chain', 'close', 'collate',
  'column', 'column_name', 'commit', 'constant', 'constraint', 'constraint_name', 'continue', 'current', 'cursor', 'datatype', 'debug',
  'default', 'detail', 'diagnostics', 'do', 'dump', 'elseif', 'elsif', 'errcode', 'error', 'exception', 'execute', 'exit', 'fetch', 'first',
  'forward', 'get', 'hint', 'import', 'info', 'insert', 'is', 'last', 'log', 'merge', 'message', 'message_text', 'move', 'next', 'no',
  'notice', 'open', 'option', 'perform', 'pg_context', 'pg_datatype_name', 'pg_exception_context', 'pg_exception_detail',
  'pg_exception_hint', 'print_strict_params', 'prior', 'query', 'raise', 'relative', 'return', 'returned_sqlstate', 'reverse', 'rollback',
  'row_count', 'rowtype', 'schema', 'schema_name', 'scroll', 'slice', 'sqlstate', 'stacked', 'table', 'table_name', 'type', 'use_column',
  'use_variable', 'variable_conflict', 'warning', 'found', 'sqlerrm', 'new', 'old',
  'select', 'update', 'delete', 'with', 'values', 'explain', 'notify', 'listen', 'unlisten', 'lock', 'set', 'reset', 'show', 'copy',
  'create', 'alter', 'drop', 'grant', 'revoke', 'truncate', 'analyze', 'analyse', 'vacuum', 'cluster', 'comment', 'prepare', 'deallocate',
  'discard', 'load', 'reindex', 'refresh', 'savepoint', 'release', 'start', 'abort', 'checkpoint', 'security', 'reassign', 'row', 'exists',
  'cast', 'user', 'current_user', 'session_user', 'current_role', 'current_schema', 'current_catalog', 'interval', 'extract',
]);

/** The DECLARE section read: the tokens it spends (DECLARE, the names, the types, DEFAULT), the variables, the types used. */
export interface Declared {
  skip: Set<number>;
  vars: Set<string>;
  types: string[];
}

/**
 * The DECLARE section at the start of `toks`, or why it is not read; `reserved` says whether a
 * name is a word the body's reader knows otherwise. No DECLARE: nothing declared.
 */
export function readDeclare(toks: readonly Token[], reserved: (name: string) => boolean): Declared | string {
  const out: Declared = { skip: new Set(), vars: new Set(), types: [] };
  const is = (j: number, k: Token['k'], v?: string) => toks[j]?.k === k && (v === undefined || toks[j]!.v === v);
  if (!is(0, 'id', 'declare')) return out;
  out.skip.add(0);
  let i = 1;
  while (!is(i, 'id', 'begin')) {
    const name = toks[i];
    if (!name) return 'a DECLARE section with no BEGIN';
    if (name.k !== 'id') return 'a declaration not of the form name type [:= expression];';
    if (NOT_NAMES.has(name.v) || TYPES.includes(name.v) || reserved(name.v) || out.vars.has(name.v)) return `a variable named ${name.v.toUpperCase()}`;
    if (!is(i + 1, 'id') || !TYPES.includes(toks[i + 1]!.v)) return `the variable ${name.v} of a type other than ${TYPES.join(', ')} (one word)`;
    out.skip.add(i).add(i + 1);
    out.types.push(toks[i + 1]!.v);
    i += 2;
    if (is(i, 'id', 'default')) out.skip.add(i);
    else if (!is(i, 'p', ';') && !is(i, 'op', ':=') && !is(i, 'op', '=')) return `the declaration of ${name.v} followed by ${toks[i]?.v ?? 'nothing'}`;
    // The initial value's tokens are judged as the body's; a declaration ends at the first `;`.
    while (toks[i] && !is(i, 'p', ';')) i++;
    if (!toks[i]) return 'a DECLARE section with no BEGIN';
    out.vars.add(name.v);
    i++;
  }
  return out;
}
