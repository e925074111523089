/**
 * Type names of casts (`expr::type`, `CAST(expr AS type)`), checked on the lexer's tokens.
 * PostgreSQL resolves a type name on the pinned search_path (pg_catalog, then public), a quoted
 * one exactly as written; node-sql-parser knows a fixed list of names, matched in any case and
 * quoted or not, some of which PostgreSQL has no built-in type for (MySQL's `tinyint`, `datetime`,
 * `longtext`, a bare `double`, `serial`, PostGIS's `geometry`). So `x::"Text"`, `x::"INTEGER"` or
 * `x::tinyint` was analysed as a built-in cast while PostgreSQL used a type of that name in public,
 * whose domain CHECK or cast function runs code no grant names and no deny rule sees (and
 * `x::int4range` was read as `x::int4 AS range`). A cast's type must be one of the built-in names
 * below, which pg_catalog holds (or the grammar maps to it) and the parser reads as written; a
 * quoted one must be a pg_catalog type's own name, in lower case.
 */
import { parseError } from '../../../src/tool-api.js';
import type { Token } from './lexer.js';

/** pg_catalog type names (and SQL's type keywords) that the parser reads as the same type. */
const BUILTIN_TYPES = new Set([
  'bool', 'boolean', 'bytea', 'char', 'character', 'varchar', 'text', 'name',
  'int', 'int2', 'int4', 'int8', 'integer', 'smallint', 'bigint',
  'float', 'float4', 'float8', 'real', 'numeric', 'decimal', 'money',
  'date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval',
  'json', 'jsonb', 'uuid', 'inet', 'cidr', 'macaddr', 'macaddr8', 'bit', 'varbit',
  'tsvector', 'tsquery', 'record', 'xml', 'oid',
  'regclass', 'regtype', 'regproc', 'regprocedure', 'regoper', 'regoperator', 'regrole',
  'regnamespace', 'regconfig', 'regdictionary', 'regcollation',
]);

/**
 * Of those, the ones that are pg_catalog type names themselves (pg_type.typname), which a quoted
 * name must be: `"int"`, `"integer"` or `"boolean"` are keywords PostgreSQL's grammar maps to a
 * built-in only unquoted; quoted, they name a type looked up in public.
 */
const QUOTED_BUILTIN_TYPES = new Set([
  'bool', 'bytea', 'char', 'varchar', 'text', 'name', 'int2', 'int4', 'int8', 'float4', 'float8',
  'numeric', 'money', 'date', 'time', 'timetz', 'timestamp', 'timestamptz', 'interval', 'json',
  'jsonb', 'uuid', 'inet', 'cidr', 'macaddr', 'macaddr8', 'bit', 'varbit', 'tsvector', 'tsquery',
  'record', 'xml', 'oid', 'regclass', 'regtype', 'regproc', 'regprocedure', 'regoper',
  'regoperator', 'regrole', 'regnamespace', 'regconfig', 'regdictionary', 'regcollation',
]);

/** Names that are types only with the next word (`double precision`); alone they are looked up in public. */
const NEEDS_NEXT: Record<string, string> = { double: 'precision' };

/**
 * Whether the type name at toks[i] is one of the built-in names (pg_catalog's, as the parser
 * reads them): not a name PostgreSQL may resolve in public (`public.d`, `d`, `"Text"`).
 * Qualified names are not built-in here, `pg_catalog.text` included (fail closed).
 */
export function isBuiltinTypeAt(toks: readonly Token[], i: number): boolean {
  const t = toks[i];
  if (toks[i + 1]?.kind === 'punct' && toks[i + 1]!.value === '.') return false;
  return (t?.kind === 'ident' && BUILTIN_TYPES.has(t.value)) || (t?.kind === 'qident' && QUOTED_BUILTIN_TYPES.has(t.value))
    || (t?.kind === 'ident' && NEEDS_NEXT[t.value] !== undefined && toks[i + 1]?.kind === 'ident' && toks[i + 1]!.value === NEEDS_NEXT[t.value]);
}

function checkTypeAt(toks: readonly Token[], i: number): void {
  const t = toks[i];
  if (isBuiltinTypeAt(toks, i)) return;
  const name = t === undefined ? 'nothing' : t.kind === 'qident' ? `"${t.value}"` : t.value;
  throw parseError(
    `cast to type ${name}: only built-in type names are understood (PostgreSQL may resolve this name to a type outside pg_catalog, whose domain check or cast function no grant names); refused`,
    { reason: 'cast type outside the built-in names' },
  );
}

/** Refuse a cast whose type name PostgreSQL may resolve outside pg_catalog (WARDEN_PARSE). */
export function checkCastTypes(toks: readonly Token[]): void {
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.kind === 'punct' && t.value === '::') checkTypeAt(toks, i + 1);
    else if (t.kind === 'ident' && t.value === 'cast' && toks[i + 1]?.kind === 'punct' && toks[i + 1]!.value === '(') {
      // The type follows the last AS at the call's own depth.
      let depth = 0;
      let as = -1;
      for (let j = i + 1; j < toks.length; j++) {
        const u = toks[j]!;
        if (u.kind === 'punct' && (u.value === '(' || u.value === '[')) depth++;
        else if (u.kind === 'punct' && (u.value === ')' || u.value === ']')) {
          if (--depth === 0) break;
        } else if (depth === 1 && u.kind === 'ident' && u.value === 'as') as = j;
      }
      if (as < 0) throw parseError('CAST without AS type is refused', { reason: 'cast type outside the built-in names' });
      checkTypeAt(toks, as + 1);
    }
  }
}
