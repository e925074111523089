/**
 * The PostgreSQL verify's checks beyond the store's own objects (called by pg-verify-privileges.ts
 * after the role and schema checks of pg-verify-roles.ts), each a finding that fails verify:
 * - an enabled event trigger (CREATE EVENT TRIGGER: a superuser's, but it then fires for every
 *   role's DDL in the database, the store's migrations included, and can rewrite or block them)
 *   owned by another role than the owner, a trusted role or the bootstrap superuser, or whose
 *   function is: the function's owner replaces what it runs (CREATE OR REPLACE), as whoever runs
 *   the DDL. So is a member of either owner (not a superuser, reported by pg-verify-roles.ts): with
 *   SET ROLE it acts as that owner (a member of a superuser owner is reported before, by
 *   pg-verify-superusers.ts, as one). A disabled event trigger fires for nobody and is not reported;
 * - a schema on the search path, other than the store's (checked by pg-verify-roles.ts), in which
 *   another role than the owner, a trusted role or the bootstrap superuser (or PUBLIC) can CREATE,
 *   as a grantee or as its owner; or a schema the path names that does not exist while such a role
 *   holds CREATE on the database (or owns it), and so can create it: `"$user"` is in the default
 *   path. A table created in a schema before the store's shadows the store's tables, and a function
 *   or operator anywhere on the path can outmatch a built-in for an unqualified call (a closer
 *   argument type wins, CVE-2018-1058); it then runs with the writer's rights. The paths read: the
 *   owner's (pg_db_role_setting: the owner in this database, the owner, this database, every role,
 *   in that order; else the server's, as this session's reset value shows it), with `$user` as the
 *   owner, and this session's (the writer's verify runs as the owner with its connection's options;
 *   an auditor's reads resolve through its own), with `$user` as current_user; and the search_path
 *   a store function pins (proconfig). A store function that pins its search_path resolves
 *   through that one only, so the session's path is moot for it: the finding says which of the
 *   store's functions it reaches (none when all pin theirs, the writer's own statements still do).
 *   pg_temp is the session's own and is not read.
 * `trusted` (transcripts.trusted_roles) excuses a role as for the schema checks. Read from
 * pg_event_trigger, pg_proc, pg_roles, pg_db_role_setting, pg_settings, pg_namespace and
 * pg_database, which every role (the auditor's) may read.
 */
import type pg from 'pg';
import { STORE_FUNCTIONS } from './pg-verify-roles.js';

type Q = (sql: string, params?: unknown[]) => Promise<pg.QueryResult>;

/** Said after a finding that names a role which transcripts.trusted_roles may excuse. */
const HINT = "; name it in transcripts.trusted_roles if it is your managed service's admin role";

/** SQL: role oid `r` is the owner ($1), a trusted role ($2) or the bootstrap superuser. */
const TRUSTED = (r: string) => `(${r} = 10 OR pg_get_userbyid(${r}) = $1 OR pg_get_userbyid(${r}) = ANY($2::text[]))`;

/** Roles (not superusers, not trusted) that are members of role oid `r`, comma-separated. */
const MEMBERS_OF = (r: string) => `(SELECT string_agg(m.rolname, ', ' ORDER BY m.rolname) FROM pg_roles m
  WHERE NOT m.rolsuper AND m.oid <> ${r} AND NOT ${TRUSTED('m.oid')} AND pg_has_role(m.oid, ${r}, 'MEMBER'))`;

const EVENT_TRIGGERS = `
  SELECT e.evtname AS name, pg_get_userbyid(e.evtowner) AS owner, e.evtfoid::regprocedure::text AS fn,
    pg_get_userbyid(p.proowner) AS fn_owner, ${TRUSTED('e.evtowner')} AS owner_trusted, ${TRUSTED('p.proowner')} AS fn_trusted,
    ${MEMBERS_OF('e.evtowner')} AS owner_members, ${MEMBERS_OF('p.proowner')} AS fn_members
  FROM pg_event_trigger e JOIN pg_proc p ON p.oid = e.evtfoid WHERE e.evtenabled <> 'D' ORDER BY e.evtname`;

interface EventTriggerRow {
  name: string; owner: string; fn: string; fn_owner: string; owner_trusted: boolean; fn_trusted: boolean;
  owner_members: string | null; fn_members: string | null;
}

/** Why the enabled event trigger `e` lets an untrusted role run code on the store's DDL, or null. */
function eventTriggerDifference(e: EventTriggerRow, owner: string): string | null {
  const said = `event trigger ${e.name} (owned by ${e.owner}, calling ${e.fn} owned by ${e.fn_owner}) fires on every role's DDL, the store's migrations included`;
  if (!e.owner_trusted) return `${said}, and its owner ${e.owner} is not ${owner}${HINT}`;
  if (!e.fn_trusted) return `${said}, and ${e.fn_owner} can replace what it runs${HINT}`;
  if (e.owner_members !== null) return `${said}, and ${e.owner_members} can act as its owner ${e.owner} (a member of it)`;
  if (e.fn_members !== null) return `${said}, and ${e.fn_members} can replace what it runs (a member of ${e.fn_owner})`;
  return null;
}

/** The names of a search_path setting, as PostgreSQL splits them (quoted kept, unquoted lower-cased). */
export function searchPathNames(setting: string): string[] {
  const names: string[] = [];
  for (let i = 0; i < setting.length; ) {
    while (/\s/.test(setting[i] ?? '')) i++;
    let name = '';
    if (setting[i] === '"') {
      for (i++; i < setting.length; i++) {
        if (setting[i] === '"' && setting[i + 1] === '"') name += setting[++i];
        else if (setting[i] === '"') break;
        else name += setting[i];
      }
      i++;
      while (i < setting.length && setting[i] !== ',') i++;
    } else {
      const end = setting.indexOf(',', i);
      name = setting.slice(i, end < 0 ? setting.length : end).trim().toLowerCase();
      i = end < 0 ? setting.length : end;
    }
    if (name !== '') names.push(name);
    i++;
  }
  return names;
}

const OWNER_PATH = `
  SELECT substr(c, 13) AS path FROM pg_db_role_setting s, unnest(s.setconfig) c
  WHERE s.setrole IN (0, (SELECT oid FROM pg_roles WHERE rolname = $1)) AND s.setdatabase IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
    AND c LIKE 'search\\_path=%'
  ORDER BY (s.setrole <> 0) DESC, (s.setdatabase <> 0) DESC LIMIT 1`;

const SESSION_PATH = `SELECT current_setting('search_path') AS now, reset_val AS reset, current_user AS me FROM pg_settings WHERE name = 'search_path'`;

const PINNED = `
  SELECT p.proname AS name, (SELECT substr(c, 13) FROM unnest(p.proconfig) c WHERE c LIKE 'search\\_path=%' LIMIT 1) AS path
  FROM pg_proc p WHERE p.pronamespace = $1::oid AND p.proname = ANY($2::text[]) ORDER BY 1`;

// Who can CREATE in each named schema (its owner and CREATE grantees), or, for one that does not
// exist, who can create it (the database's owner and CREATE grantees); the trusted left out.
const CREATORS = `
  SELECT s.name, n.oid IS NOT NULL AS present, (SELECT string_agg(DISTINCT CASE WHEN g = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(g) END, ', ') FROM (
      SELECT a.grantee AS g FROM aclexplode(CASE WHEN n.oid IS NULL THEN COALESCE(d.datacl, acldefault('d', d.datdba)) ELSE COALESCE(n.nspacl, acldefault('n', n.nspowner)) END) a
      WHERE a.privilege_type = 'CREATE'
      UNION SELECT COALESCE(n.nspowner, d.datdba)) c
    WHERE g = 0 OR NOT (${TRUSTED('g')} OR (pg_get_userbyid(g) = 'pg_database_owner' AND ${TRUSTED('d.datdba')}))) AS creators
  FROM unnest($3::text[]) WITH ORDINALITY AS s(name, i) LEFT JOIN pg_namespace n ON n.nspname = s.name, pg_database d
  WHERE d.datname = current_database() ORDER BY s.i`;

interface PathEntry { name: string; where: string; before: boolean; reaches: string }

/** The entries of path `setting` (read `where`), `$user` as `user`, the store's schema and pg_temp left out. */
function entries(setting: string, user: string, where: string, store: string, reaches: string): PathEntry[] {
  const names = searchPathNames(setting).map((n) => (n === '$user' ? user : n));
  const at = names.indexOf(store);
  return names.flatMap((name, i) => (name === store || /^pg_temp/.test(name) ? [] : [{ name, where, before: at < 0 || i < at, reaches }]));
}

/**
 * The first enabled event trigger, or schema on a search path the store's names resolve through,
 * that lets another role than `owner` (or one of `trusted`) change what the store runs, said as a
 * reason; or null. `schema`: the store's namespace oid.
 */
export async function pgSearchPathMismatch(q: Q, owner: string, schema: number, trusted: readonly string[] = []): Promise<string | null> {
  for (const e of (await q(EVENT_TRIGGERS, [owner, trusted])).rows as EventTriggerRow[]) {
    const why = eventTriggerDifference(e, owner);
    if (why) return why;
  }
  const store = ((await q('SELECT nspname FROM pg_namespace WHERE oid = $1::oid', [schema])).rows[0] as { nspname: string } | undefined)?.nspname ?? '';
  const pinned = (await q(PINNED, [schema, STORE_FUNCTIONS])).rows as Array<{ name: string; path: string | null }>;
  const loose = pinned.filter((p) => p.path === null).map((p) => p.name);
  const session = loose.length
    ? `the writer's statements and the store's functions that do not pin their search_path (${loose.join(', ')})`
    : "the writer's statements (the store's functions pin their search_path)";
  const configured = ((await q(OWNER_PATH, [owner])).rows[0] as { path: string } | undefined)?.path;
  const now = (await q(SESSION_PATH)).rows[0] as { now: string; reset: string; me: string };
  const list = [
    ...entries(configured ?? now.reset, owner, `the search_path of ${owner}`, store, session),
    ...entries(now.now, now.me, "this session's search_path", store, session),
    ...pinned.flatMap((p) => (p.path === null ? [] : entries(p.path, owner, `the search_path function ${p.name} pins`, store, `function ${p.name}`))),
  ];
  const seen = new Set<string>();
  const unique = list.filter((e) => !seen.has(e.name) && seen.add(e.name));
  if (!unique.length) return null;
  const rows = (await q(CREATORS, [owner, trusted, unique.map((e) => e.name)])).rows as Array<{ name: string; present: boolean; creators: string | null }>;
  for (const [i, r] of rows.entries()) {
    if (r.creators === null) continue;
    const e = unique[i]!;
    const place = e.before ? `before the store's schema ${store}` : `after the store's schema ${store}`;
    const what = e.before ? 'a table, function or operator' : 'a function or operator';
    const hint = r.creators === 'PUBLIC' ? '' : HINT;
    return r.present
      ? `${r.creators} can CREATE in schema ${e.name}, on ${e.where} ${place}: ${what} created there can shadow a name resolved by ${e.reaches}${hint}`
      : `schema ${e.name}, on ${e.where} ${place}, does not exist and ${r.creators} can create it (CREATE on the database): ${what} created there can shadow a name resolved by ${e.reaches}${hint}`;
  }
  return null;
}
