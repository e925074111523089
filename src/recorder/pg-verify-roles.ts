/**
 * The PostgreSQL verify's role and schema check (called by pg-verify-privileges.ts once every table
 * is the owner's and no other role holds a write right on one): the ways to write the transcript
 * that no table ACL shows. Each is a finding that fails verify:
 * - a function the store creates (the append-only guard, the rate and liveness functions) owned by
 *   another role: its owner can replace it, and the writer runs it with its own rights;
 * - a role that is a member of the owner, directly or through other roles, with any option
 *   (inheritance, SET ROLE, or ADMIN, with which it grants itself the rest): it writes as the
 *   owner. So is a member of pg_write_all_data (writes every table), pg_execute_server_program or
 *   pg_write_server_files (run programs or write files as the server, a superuser's reach);
 * - a role that can reach a superuser role (the bootstrap one included) through memberships: it
 *   acts as a superuser (pg-verify-superusers.ts; the owner's members are reported above instead);
 * - a superuser other than the cluster's bootstrap superuser (oid 10: `postgres`, `rdsadmin` on
 *   RDS) and the owner. The bootstrap role is in every cluster and cannot be dropped, and no
 *   catalog check binds a superuser anyway (it can edit the catalog verify reads): the signed head
 *   and the anchors kept off the host are what catch it. Every other one is a choice to report;
 * - on PostgreSQL 15 and older, a role with CREATEROLE (not the owner) while the owner is not a
 *   superuser: it can grant itself the owner's role or set its password (16 and later require
 *   ADMIN on the role, a membership reported above);
 * - default privileges of the owner (in the store's schema or in all schemas) that give a write
 *   right on new tables to another role or PUBLIC: the next migration's tables would carry it;
 * - the store's schema owned by another role than the owner or the bootstrap superuser (or
 *   pg_database_owner, when the database is theirs): a schema's owner drops any table in it;
 * - CREATE on the store's schema held by another role or PUBLIC: a function or operator it
 *   creates there can outmatch a built-in one for the store's queries and run with the writer's
 *   rights (CVE-2018-1058); `REVOKE CREATE ON SCHEMA public FROM PUBLIC` on PostgreSQL 14 and older.
 * `trusted` (transcripts.trusted_roles) names roles trusted like the owner, for a managed service's
 * admin role that cannot be removed (the RDS master user has CREATEROLE, and on 16 and later ADMIN
 * on every role it creates): they are not reported as members, superusers, CREATEROLE holders, the
 * schema's (or the database's) owner or CREATE holders. Why only here: these are rights to take
 * the owner's place, which an admin the operator trusts has anyway. A write right on a store table
 * (pg-verify-privileges.ts), a default privilege that will put one on the next migration's tables,
 * a trigger or rule, and a store function's owner stay findings for them too: those are standing
 * changes to what the writer writes or runs, open to whoever logs in as that role, and nothing a
 * managed service needs. A trusted role's members are not trusted: one reaching the owner through
 * it is still reported (the recursion goes through trusted roles; only the role itself is excused).
 * BYPASSRLS is not reported: it skips row-level security only, which verify requires to be off on
 * every store table, and grants no write right. Read from pg_roles, pg_auth_members,
 * pg_default_acl, pg_namespace and pg_database, which every role (the auditor's) may read.
 */
import type pg from 'pg';
import { pgSuperuserMemberMismatch } from './pg-verify-superusers.js';

type Q = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** The write rights on a table (pg-verify-privileges.ts reports them on the store's tables). */
export const WRITE_RIGHTS = ['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER'];

/** Predefined roles whose members write every table, or act as the server does. */
const WRITING_ROLES: Record<string, string> = {
  pg_write_all_data: 'which writes every table',
  pg_execute_server_program: 'which runs programs as the server',
  pg_write_server_files: 'which writes files as the server',
};

// Every role reaching the owner or a writing role through pg_auth_members, with the role it reaches.
const MEMBERS = `
  WITH RECURSIVE target AS (SELECT oid FROM pg_roles WHERE rolname = $1 OR rolname = ANY($2::text[])),
  m(member, top, depth) AS (
    SELECT a.member, a.roleid, 1 FROM pg_auth_members a WHERE a.roleid IN (SELECT oid FROM target)
    UNION
    SELECT a.member, m.top, m.depth + 1 FROM pg_auth_members a JOIN m ON a.roleid = m.member WHERE m.depth < 64)
  SELECT pg_get_userbyid(member) AS who, pg_get_userbyid(top) AS top FROM m
  WHERE member <> 10 AND pg_get_userbyid(member) <> $1 AND pg_get_userbyid(member) <> ALL($3::text[])
  ORDER BY (pg_get_userbyid(top) = $1) DESC, depth, 1, 2 LIMIT 1`;

/** The functions the store creates (pg-schema.ts, pg-rate-sql.ts, pg-liveness-sql.ts). */
export const STORE_FUNCTIONS = ['warden_records_append_only', 'warden_owner_dead', 'warden_rate_now', 'warden_rate_lock', 'warden_rate_release_dead', 'warden_rate_admit', 'warden_rate_take'];

const FUNCTIONS = `
  SELECT p.proname AS name, pg_get_userbyid(p.proowner) AS owner FROM pg_proc p
  WHERE p.pronamespace = $1::oid AND p.proname = ANY($2::text[]) AND pg_get_userbyid(p.proowner) <> $3 ORDER BY 1 LIMIT 1`;

const ADMINS = `
  SELECT r.rolname AS who, r.rolsuper AS super FROM pg_roles r
  WHERE r.oid <> 10 AND r.rolname <> $1 AND r.rolname <> ALL($2::text[]) AND (r.rolsuper OR (r.rolcreaterole
    AND current_setting('server_version_num')::int < 160000 AND NOT COALESCE((SELECT o.rolsuper FROM pg_roles o WHERE o.rolname = $1), false)))
  ORDER BY r.rolsuper DESC, r.rolname LIMIT 1`;

const DEFAULTS = `
  SELECT d.defaclnamespace = 0 AS everywhere, CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END AS who, a.privilege_type AS priv
  FROM pg_default_acl d, aclexplode(d.defaclacl) a
  WHERE d.defaclrole = (SELECT oid FROM pg_roles WHERE rolname = $1) AND d.defaclnamespace IN (0, $2::oid)
    AND d.defaclobjtype = 'r' AND a.grantee <> d.defaclrole AND a.privilege_type = ANY($3::text[])
  ORDER BY 1 DESC, 2, 3 LIMIT 1`;

const SCHEMA = `
  SELECT n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner, pg_get_userbyid(d.datdba) AS dba,
    n.nspowner = 10 OR pg_get_userbyid(n.nspowner) = $2 OR pg_get_userbyid(n.nspowner) = ANY($3::text[])
      OR (pg_get_userbyid(n.nspowner) = 'pg_database_owner' AND (d.datdba = 10 OR pg_get_userbyid(d.datdba) = $2 OR pg_get_userbyid(d.datdba) = ANY($3::text[]))) AS trusted,
    (SELECT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END FROM aclexplode(n.nspacl) a
     WHERE a.privilege_type = 'CREATE' AND a.grantee <> n.nspowner AND pg_get_userbyid(a.grantee) <> $2
       AND (a.grantee = 0 OR pg_get_userbyid(a.grantee) <> ALL($3::text[])) ORDER BY 1 LIMIT 1) AS creator
  FROM pg_namespace n, pg_database d WHERE n.oid = $1::oid AND d.datname = current_database()`;

/** Said after a finding that names a role which transcripts.trusted_roles may excuse. */
const HINT = "; name it in transcripts.trusted_roles if it is your managed service's admin role";

/**
 * The first role or schema right that lets another role than `owner` (or one of `trusted`,
 * transcripts.trusted_roles) write the store's tables (in `schema`, their namespace's oid), said as
 * a reason; or null. Why: pgPrivilegeMismatch sees only the tables' own ACLs.
 */
export async function pgRoleMismatch(q: Q, owner: string, schema: number, trusted: readonly string[] = []): Promise<string | null> {
  const fn = (await q(FUNCTIONS, [schema, STORE_FUNCTIONS, owner])).rows[0] as { name: string; owner: string } | undefined;
  if (fn) return `function ${fn.name} is owned by ${fn.owner}, not ${owner} (its owner can replace what the writer runs)`;
  const member = (await q(MEMBERS, [owner, Object.keys(WRITING_ROLES), trusted])).rows[0] as { who: string; top: string } | undefined;
  if (member) {
    const what = member.top === owner ? `the owner ${owner} (it writes as the owner)` : `${member.top} (${WRITING_ROLES[member.top] ?? 'which writes'})`;
    return `${member.who} is a member of ${what}${HINT}`;
  }
  const superMember = await pgSuperuserMemberMismatch(q, owner, trusted);
  if (superMember) return superMember;
  const admin = (await q(ADMINS, [owner, trusted])).rows[0] as { who: string; super: boolean } | undefined;
  if (admin) {
    return admin.super
      ? `${admin.who} is a superuser (only the bootstrap superuser and the owner ${owner} may be)${HINT}`
      : `${admin.who} has CREATEROLE and can make itself the owner ${owner} (PostgreSQL 15 and older)${HINT}`;
  }
  const def = (await q(DEFAULTS, [owner, schema, WRITE_RIGHTS])).rows[0] as { everywhere: boolean; who: string; priv: string } | undefined;
  if (def) return `the default privileges of ${owner} give ${def.priv} on new tables ${def.everywhere ? 'in every schema' : 'in the store\'s schema'} to ${def.who}`;
  const nsp = (await q(SCHEMA, [schema, owner, trusted])).rows[0] as { name: string; owner: string; dba: string; trusted: boolean; creator: string | null } | undefined;
  if (!nsp) return 'the store\'s schema is missing';
  if (!nsp.trusted) {
    const shown = nsp.owner === 'pg_database_owner' ? `pg_database_owner (the database's owner ${nsp.dba})` : nsp.owner;
    return `schema ${nsp.name} is owned by ${shown}, not ${owner} (its owner drops any table in it)${HINT}`;
  }
  if (nsp.creator !== null) return `${nsp.creator} holds CREATE on schema ${nsp.name} (a function or operator it creates there runs with the writer's rights)${nsp.creator === 'PUBLIC' ? '' : HINT}`;
  return null;
}
