/**
 * Name normalisation shared by the analyser, the function lists and the `sql:` condition.
 * One place decides how `Users`, `public.users` and `pg_catalog.pg_sleep` compare.
 */
import { functionKey, sqlNameParts } from '../../../src/tool-api.js';
import type { SourceColumn } from './types.js';

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

/**
 * Normalise a table name written in a policy by the rules the analyser reads statements with:
 * `Users` -> `public.users`, `"Secrets"` -> `public.Secrets`, `pg_authid` ->
 * `pg_catalog.pg_authid`. Throws on an ill-formed name (the `sql:` schema refuses those at load,
 * so a rule never silently names nothing).
 */
export function normalizePolicyTable(name: string): string {
  const parsed = sqlNameParts(name);
  if (typeof parsed === 'string') throw new Error(`policy table name ${JSON.stringify(name)}: ${parsed}`);
  if (parsed.length > 2) throw new Error(`policy table name ${JSON.stringify(name)}: ${TABLE_SHAPE}`);
  return parsed.length === 1 ? qualifyTable(null, parsed[0]!) : `${parsed[0]}.${parsed[1]}`;
}

const TABLE_SHAPE = 'expected [schema.]table, each part an identifier or a "quoted identifier"';

/** Why a policy table name is ill-formed, or null when it is a valid [schema.]table. */
export function policyTableProblem(name: string): string | null {
  const parsed = sqlNameParts(name);
  if (typeof parsed === 'string') return `${JSON.stringify(name)} is not a table name: ${parsed}`;
  return parsed.length > 2 ? `${JSON.stringify(name)} is not a table name: ${TABLE_SHAPE}` : null;
}

const COLUMN_SHAPE = 'expected [schema.]table.column, each part an identifier or a "quoted identifier"';

/** Why a policy column name (`write_columns:`) is ill-formed, or null when it is a valid [schema.]table.column. */
export function policyColumnProblem(name: string): string | null {
  const parsed = sqlNameParts(name);
  if (typeof parsed === 'string') return `${JSON.stringify(name)} is not a column name: ${parsed}`;
  return parsed.length === 2 || parsed.length === 3 ? null : `${JSON.stringify(name)} is not a column name: ${COLUMN_SHAPE}`;
}

/**
 * Normalise a column name written in a policy as facts spell it (SourceColumn): the table part
 * by normalizePolicyTable's rules, the column folded unless quoted. Throws on an ill-formed name.
 */
export function normalizePolicyColumn(name: string): SourceColumn {
  const problem = policyColumnProblem(name);
  if (problem) throw new Error(`policy column name: ${problem}`);
  const parts = sqlNameParts(name) as string[];
  const column = parts.at(-1)!;
  return { table: parts.length === 2 ? qualifyTable(null, parts[0]!) : `${parts[0]}.${parts[1]}`, column };
}

/** Facts spelling of a function: pg_catalog (or no schema) dropped, otherwise schema.name. */
export function functionFactName(schema: string | null | undefined, name: string): string {
  if (!schema || schema === 'pg_catalog') return name;
  return `${schema}.${name}`;
}

/** Comparison key for `functions:` entries and calls (`"PG_READ_FILE"`, `pg_catalog.pg_read_file` alike): src/sql-names.ts. */
export { functionKey };

/**
 * The functionKey spellings a deny's `functions:` entry reaches. A name without a schema means
 * what such a call resolves to on the pinned search_path (pg_catalog, then public), so it also
 * reaches `public.name(...)`; and `public.name` reaches `name(...)`. Why: a user function lives in
 * public, a call without its schema is refused there (connector.ts), and `deny: functions:
 * [export_report]` let `public.export_report()` through a grant that named its schema.
 */
export function deniedFunctionKeys(name: string): string[] {
  const key = functionKey(name);
  if (!key.includes('.')) return [key, `public.${key}`];
  return key.startsWith('public.') ? [key, key.slice('public.'.length)] : [key];
}
