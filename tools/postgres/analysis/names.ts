/**
 * Name normalisation shared by the analyser, the function lists and the `sql:` condition.
 * One place decides how `Users`, `public.users` and `pg_catalog.pg_sleep` compare.
 */

/** Default schema for unqualified tables (PostgreSQL's usual search_path). */
export const DEFAULT_SCHEMA = 'public';

/**
 * Schema-qualify a table name. Unqualified `pg_*` names resolve to pg_catalog first in
 * PostgreSQL, so they are reported there (a deny on pg_catalog.pg_authid cannot be dodged).
 */
export function qualifyTable(schema: string | null | undefined, table: string): string {
  if (schema) return `${schema}.${table}`;
  if (table.startsWith('pg_')) return `pg_catalog.${table}`;
  return `${DEFAULT_SCHEMA}.${table}`;
}

/** Normalise a table name written in a policy: lower-case, `users` -> `public.users`. */
export function normalizePolicyTable(name: string): string {
  const lower = name.trim().toLowerCase();
  return lower.includes('.') ? lower : `${DEFAULT_SCHEMA}.${lower}`;
}

/** Facts spelling of a function: pg_catalog (or no schema) dropped, otherwise schema.name. */
export function functionFactName(schema: string | null | undefined, name: string): string {
  if (!schema || schema === 'pg_catalog') return name;
  return `${schema}.${name}`;
}

/**
 * Comparison key for deny lists: lower-case, quotes and a pg_catalog prefix removed, so that
 * `"PG_READ_FILE"`, `pg_catalog.pg_read_file` and `PG_READ_FILE` all compare equal.
 */
export function functionKey(name: string): string {
  const bare = name.replace(/"/g, '').trim().toLowerCase();
  return bare.startsWith('pg_catalog.') ? bare.slice('pg_catalog.'.length) : bare;
}
