/**
 * The columns of a function in FROM (select.ts's addFrom): exact for built-ins whose result shape
 * is fixed (generate_series, unnest of a scalar array, json_each and the like), else the names
 * the alias or the function gives, marked not exact (a row type may hold columns of any name).
 */
import { functionName } from './lineage.js';

type Node = Record<string, unknown>;

/** Output columns of set-returning functions that return a fixed row type. */
const SRF_COLUMNS: Record<string, readonly string[]> = {
  json_each: ['key', 'value'],
  jsonb_each: ['key', 'value'],
  json_each_text: ['key', 'value'],
  jsonb_each_text: ['key', 'value'],
};

/** Built-in set-returning functions whose result is always one scalar column (named by the alias, or the function). */
const SCALAR_SRFS = new Set(['generate_series', 'generate_subscripts']);

/**
 * Built-in scalar types an array cast may name (`'{a,b}'::text[]`): with search_path pinned to
 * pg_catalog first (connector.ts), these names are pg_catalog's types, none of them composite.
 */
const SCALAR_TYPES = new Set([
  'int', 'integer', 'int2', 'int4', 'int8', 'smallint', 'bigint', 'numeric', 'decimal', 'real', 'float', 'float4', 'float8',
  'double precision', 'text', 'varchar', 'character varying', 'char', 'character', 'bool', 'boolean', 'date', 'timestamp',
  'timestamptz', 'uuid',
]);
const LITERALS = new Set(['number', 'single_quote_string', 'bool', 'null']);

/**
 * Whether the argument of unnest(...) is certainly an array of a scalar type: an ARRAY[...] of
 * literals, or a cast to a built-in scalar array type. Any other array may hold composite values
 * (`unnest(ARRAY[u])` returns users' columns, email among them).
 */
function scalarArray(arg: unknown): boolean {
  const o = arg as Node | null;
  if (!o || typeof o !== 'object') return false;
  if (o.type === 'array') {
    const list = (o.expr_list as Node | undefined)?.value;
    return Array.isArray(list) && list.every((e) => LITERALS.has(String((e as Node | null)?.type)));
  }
  if (o.type === 'cast') {
    const target = Array.isArray(o.target) && o.target.length === 1 ? (o.target[0] as Node) : null;
    if (!target || typeof target.dataType !== 'string') return false;
    const type = target.dataType.toLowerCase();
    const array = type.endsWith('[]') || (target.array as Node | undefined)?.dimension === 1;
    return array && SCALAR_TYPES.has(type.replace(/\[\]$/, ''));
  }
  return false;
}

/**
 * Column names of a function in FROM, and whether they are all its columns (`exact`).
 *
 * Exact only for built-ins whose result shape is fixed whatever the database holds
 * (functionName gives the bare name only for an unqualified or pg_catalog call, and an
 * unqualified one that a public overload may win is refused before it runs, connector.ts):
 * generate_series and generate_subscripts return one scalar column, and so does unnest of one
 * array of a scalar type; the column is named by the alias's column list, else the alias, else
 * the function. json_each and the like return (key, value), the alias's column list renaming the
 * first ones. Any other function (or unnest of an array that may hold rows) may return a row
 * type with columns of any name, so a bare name may be its: not exact, the alias's column list
 * renaming only the first columns of a composite result.
 */
export function functionColumns(expr: Node, alias: { name: string | null; columns: string[] }): { names: readonly string[]; exact: boolean } {
  const fn = functionName(expr);
  const bare = fn && !fn.includes('.') ? fn : null;
  const args = (expr.args as Node | undefined)?.value;
  const argList = Array.isArray(args) ? args : [];
  const scalar = !!bare && (SCALAR_SRFS.has(bare) || (bare === 'unnest' && argList.length === 1 && scalarArray(argList[0])));
  if (scalar && alias.columns.length <= 1) return { names: [alias.columns[0] ?? alias.name ?? bare], exact: true };
  const known = bare ? SRF_COLUMNS[bare] : undefined;
  if (known && alias.columns.length <= known.length) return { names: known.map((n, i) => alias.columns[i] ?? n), exact: true };
  return { names: functionSourceNames(expr, alias), exact: false };
}

/**
 * Column names of a function in FROM: the alias's column list when given; else a known row
 * type's columns; else the one column a scalar function yields, named by the alias (or by the
 * function when there is none).
 */
function functionSourceNames(expr: Node, alias: { name: string | null; columns: string[] }): readonly string[] {
  if (alias.columns.length > 0) return alias.columns;
  const fn = functionName(expr);
  const bare = fn ? fn.slice(fn.lastIndexOf('.') + 1) : null;
  const known = bare ? SRF_COLUMNS[bare] : undefined;
  if (known) return known;
  return [alias.name ?? bare ?? ''].filter(Boolean);
}
