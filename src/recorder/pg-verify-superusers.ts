/**
 * The PostgreSQL verify's superuser-membership check (called by pg-verify-roles.ts after the
 * membership check of the owner and the writing predefined roles, before the superuser check): a
 * role that is a member of a superuser role, directly or through other roles, acts as a superuser
 * and can do anything to the store. On PostgreSQL 15 and older every member may `SET ROLE` to a
 * role it belongs to (NOINHERIT changes nothing), so every grant counts; on 16 and later a grant
 * counts with its SET or INHERIT option, or with ADMIN on a role that is not a superuser (its
 * holder grants itself the rest; ADMIN on a superuser lets only a superuser grant it). That branch
 * reads set_option and inherit_option, which 15 lacks; it is not exercised by the tests (only
 * PostgreSQL 15 runs there). An edge with either option counts, so a chain that mixes an
 * INHERIT-only grant with a SET-only one is reported though PostgreSQL would not follow it.
 * The superusers reached are every role with rolsuper: the bootstrap superuser (oid 10, accepted as
 * an owner-like role elsewhere: its members are the danger), a trusted one and any other (itself
 * reported by the superuser check). Not the owner: its members are pg-verify-roles.ts's "member of
 * the owner" (found first), whether or not it is a superuser. Not reported as a member: the owner
 * (reaching a superuser is its own right), the bootstrap superuser, a trusted role (its members are
 * not trusted: the recursion goes through it) and a superuser (reported as one). The finding names
 * the member farthest from the superuser, and the chain of roles to it, so every role on the way
 * shows. Read from pg_roles and pg_auth_members, which every role (the auditor's) may read.
 */
import type pg from 'pg';

type Q = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** Said after a finding that names a role which transcripts.trusted_roles may excuse. */
const HINT = "; name it in transcripts.trusted_roles if it is your managed service's admin role";

/** SQL: the grant `a` lets its member act as its role (PostgreSQL 16 and later). */
const EDGE_16 = 'AND (a.set_option OR a.inherit_option OR (a.admin_option AND NOT (SELECT r.rolsuper FROM pg_roles r WHERE r.oid = a.roleid)))';

// Every role reaching a superuser other than the owner ($1) through grants that count, with the path.
const MEMBERS = (edge: string) => `
  WITH RECURSIVE m(member, top, path) AS (
    SELECT a.member, a.roleid, ARRAY[a.member, a.roleid] FROM pg_auth_members a JOIN pg_roles s ON s.oid = a.roleid
    WHERE s.rolsuper AND s.rolname <> $1 ${edge}
    UNION
    SELECT a.member, m.top, a.member || m.path FROM pg_auth_members a JOIN m ON a.roleid = m.member
    WHERE NOT a.member = ANY(m.path) AND cardinality(m.path) <= 64 ${edge})
  SELECT pg_get_userbyid(m.member) AS who, pg_get_userbyid(m.top) AS top,
    (SELECT string_agg(pg_get_userbyid(u.r), ' -> ' ORDER BY u.i) FROM unnest(m.path) WITH ORDINALITY u(r, i)) AS chain,
    cardinality(m.path) AS len
  FROM m JOIN pg_roles r ON r.oid = m.member
  WHERE m.member <> 10 AND NOT r.rolsuper AND r.rolname <> $1 AND r.rolname <> ALL($2::text[])
  ORDER BY cardinality(m.path) DESC, 1, 2, 3 LIMIT 1`;

/**
 * The first role (not `owner`, one of `trusted` or a superuser) that can act as a superuser role
 * through its memberships, said as a reason; or null. Why: a superuser can alter the store.
 */
export async function pgSuperuserMemberMismatch(q: Q, owner: string, trusted: readonly string[]): Promise<string | null> {
  const version = Number((await q('SHOW server_version_num')).rows[0]?.server_version_num);
  const sql = MEMBERS(version >= 160000 ? EDGE_16 : '');
  const row = (await q(sql, [owner, trusted])).rows[0] as { who: string; top: string; chain: string; len: number } | undefined;
  if (!row) return null;
  const via = row.len > 2 ? ` through ${row.chain}` : '';
  return `${row.who} is a member of the superuser ${row.top}${via} (it can act as ${row.top}, a superuser)${HINT}`;
}
