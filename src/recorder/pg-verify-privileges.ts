/**
 * The PostgreSQL verify's ownership and privilege check (called by pg-verify-schema.ts): every
 * table the store creates must be owned by the store's role, and no other role (nor PUBLIC) may
 * hold a right that writes or alters one: INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES or TRIGGER,
 * on the table or on one of its columns. Why: a grant or a new owner lets another login append,
 * edit or empty the transcript, add triggers, or (as owner) change everything verify compares,
 * and the chain only shows the damage after the fact. SELECT (an auditor's) is not a finding.
 * The store's role: `transcripts.owner` when set (the writer's and an auditor's verify alike).
 * Unset, the writer's verify runs as it (current_user); an auditor's connections run with
 * default_transaction_read_only (pg-readonly.ts) as another role, and take the owner of
 * `schema_version` (the first table the writer's migration creates) instead, so there a new
 * owner of every table at once is seen only by the writer's verify. Read from pg_class and
 * pg_attribute ACLs, which every role may read. Then the writes no table ACL shows: role
 * memberships, superusers, default privileges and the schema's own rights (pg-verify-roles.ts),
 * then event triggers and the schemas on the search path (pg-verify-schema-path.ts).
 */
import type pg from 'pg';
import { pgRoleMismatch, WRITE_RIGHTS } from './pg-verify-roles.js';
import { pgSearchPathMismatch } from './pg-verify-schema-path.js';

type Q = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** The tables the store creates (pg-schema.ts, pg-rate-sql.ts, pg-liveness-sql.ts), verified or not. */
export const STORE_TABLES = [
  'schema_version', 'records', 'chain_head', 'sessions', 'calls', 'approvals', 'approval_decisions', 'settings', 'signed_head', 'checkpoints',
  'rate_usage', 'rate_inflight', 'rate_buckets', 'liveness_marks',
];

const GRANTS = `
  WITH t AS (SELECT c.oid, c.relname, c.relowner, c.relacl FROM pg_class c WHERE c.oid = ANY($1::oid[])),
  acl AS (
    SELECT t.relname AS rel, NULL::name AS col, t.relowner, a.grantee, a.privilege_type FROM t, aclexplode(t.relacl) a
    UNION ALL
    SELECT t.relname, at.attname, t.relowner, a.grantee, a.privilege_type
    FROM t JOIN pg_attribute at ON at.attrelid = t.oid AND at.attnum > 0 AND NOT at.attisdropped, aclexplode(at.attacl) a)
  SELECT rel, col, CASE WHEN grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(grantee) END AS who, privilege_type AS priv
  FROM acl WHERE grantee <> relowner AND privilege_type = ANY($2::text[])
  ORDER BY rel, col NULLS FIRST, who, priv LIMIT 1`;

/**
 * The first table not owned by the store's role (`configured`: transcripts.owner), or write right
 * held by another role, said as a reason; or null. `trusted` (transcripts.trusted_roles) excuses
 * roles in the role and schema checks only (pg-verify-roles.ts): a write grant on a table is a
 * finding whoever holds it.
 */
export async function pgPrivilegeMismatch(q: Q, configured?: string, trusted: readonly string[] = []): Promise<string | null> {
  const differs = (what: string) => `the privileges differ from what the store creates: ${what}`;
  const tables = (await q(
    `SELECT t.name, c.oid, c.relnamespace AS nsp, pg_get_userbyid(c.relowner) AS owner FROM unnest($1::text[]) WITH ORDINALITY AS t(name, i)
     JOIN pg_class c ON c.oid = to_regclass(quote_ident(t.name)) ORDER BY t.i`,
    [STORE_TABLES],
  )).rows as Array<{ name: string; oid: number; nsp: number; owner: string }>;
  const mode = (await q(`SELECT current_user AS me, current_setting('default_transaction_read_only')::boolean AS auditor`)).rows[0] as { me: string; auditor: boolean };
  const versions = tables.find((t) => t.name === 'schema_version');
  const [owner, whose] = configured !== undefined ? [configured, 'transcripts.owner'] : mode.auditor ? [versions?.owner, 'the owner of schema_version'] : [mode.me, "the store's role"];
  const other = tables.find((t) => t.owner !== owner);
  if (other) return differs(`${other.name} is owned by ${other.owner}, not ${owner ?? '(no schema_version)'} (${whose})`);
  const grant = (await q(GRANTS, [tables.map((t) => t.oid), WRITE_RIGHTS])).rows[0] as { rel: string; col: string | null; who: string; priv: string } | undefined;
  if (grant) return differs(`${grant.who} holds ${grant.priv} on ${grant.rel}${grant.col === null ? '' : `.${grant.col}`} (only the owner ${owner} may)`);
  const records = tables.find((t) => t.name === 'records');
  if (owner === undefined || !records) return null;
  const role = (await pgRoleMismatch(q, owner, records.nsp, trusted)) ?? (await pgSearchPathMismatch(q, owner, records.nsp, trusted));
  return role ? differs(role) : null;
}
