/**
 * SQL names in policies (`masking.columns`, and the tables lint reads from `sql:` blocks) by SQL
 * identifier rules, the same rule the postgres family applies to `sql:` tables
 * (tools/postgres/analysis/names.ts, which src/policy may not import): an unquoted part folds
 * to lower case (ASCII, as PostgreSQL does), a "quoted" part keeps its case with "" as one
 * quote, an unqualified pg_* table is in pg_catalog and any other in public. The identifier
 * parser itself is src/sql-names.ts, shared with the postgres family.
 */
import { sqlNameParts } from '../sql-names.js';

function qualify(parts: string[]): string[] {
  if (parts.length > 1) return parts;
  return [parts[0]!.startsWith('pg_') ? 'pg_catalog' : 'public', ...parts];
}

/** Why a masked column name is not [schema.]table.column, or null. */
export function columnNameProblem(name: string): string | null {
  const parts = sqlNameParts(name);
  if (typeof parts === 'string') return `expected [schema.]table.column: ${parts}`;
  return parts.length === 2 || parts.length === 3 ? null : 'expected [schema.]table.column, each part an identifier or a "quoted identifier"';
}

/** `users.email` / `"Public".Users.email` -> `public.users.email` / `Public.users.email`. */
export function normaliseColumnName(name: string): string {
  const parts = sqlNameParts(name);
  if (typeof parts === 'string' || parts.length < 2) return name.trim(); // refused by the schema at load
  return [...qualify(parts.slice(0, -1)), parts.at(-1)!].join('.');
}

/** `users` -> `public.users`, `"Secrets"` -> `public.Secrets`; an ill-formed name as written. */
export function normaliseTableName(name: string): string {
  const parts = sqlNameParts(name);
  if (typeof parts === 'string') return name.trim(); // refused by the sql: schema at load
  return qualify(parts).join('.');
}
