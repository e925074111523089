/**
 * A connection on the PostgreSQL transcript store's cluster that can reach the store from SQL (open
 * connections of its own, read the cluster's files) is refused. Why: store-reach.ts sees only the connection's own database; with the
 * store in another database of the same cluster, an agent under a plain allow rule read the
 * store's `settings` (the `hash` masking key) through `public.dblink_exec('server', ...)` (the
 * remote error quoting what the remote statement read) or a postgres_fdw foreign table over a
 * server an admin left with a user mapping; and a superuser needs no password at all where
 * loopback is `trust`; a role granted pg_read_binary_file read the store's pages (its data
 * directory is the cluster's). Judged on the role's privileges, not on statements: a
 * schema-qualified call, a view, a foreign table or a function all rest on the same privilege,
 * held by the session's role or one it can act as (ACTORS_SQL: an admin's SECURITY DEFINER
 * wrapper around dblink_exec, or a NOINHERIT membership and set_config('role', ...), read the key
 * as well). Same cluster: the same system identifier (pg_control_system()); a connection that
 * cannot read its own counts as the same (fail closed), as does a store that could not read its.
 * On another cluster a foreign server of dblink or postgres_fdw the session may use is refused
 * too: its host is resolved where it is defined, so Warden cannot rule out the store's cluster (a
 * foreign table there over the store's settings read the key in clear), unless the connection's
 * trusted_foreign_servers vouches for it (vouched-servers.ts); and on another cluster on the
 * store's host, superuser and the server-file roles (refuseStoreHostFiles).
 * Checked once when a pool opens, with store-reach.ts (a plain read pays nothing after that).
 */
import type pg from 'pg';
import { ErrorCode, PG_CLUSTER_ID_SQL, WardenError } from '../../src/tool-api.js';
import { ACTORS_SQL, actingAs, viewReaching } from './acting-roles.js';
import { storeSite, vouchedServers, type StoreAddress } from './vouched-servers.js';

/** The store's cluster as the family hears it (FamilyDeps.storeCluster): its system identifier, null when it could not be read; its URL's host and port. */
export interface StoreCluster {
  systemIdentifier: string | null;
  address?: StoreAddress;
}

/** The shared libraries whose functions open connections to a PostgreSQL server. */
const LIBRARIES = `'(^|/)(dblink|postgres_fdw)(\\.[a-z]+)?$'`;

/**
 * What each role the session can act as (ACTORS_SQL) can open connections with, or read the
 * store's data files with: superuser (or a member of one), the predefined roles that read or
 * write server files or run programs, the built-in functions that read a file of the data
 * directory without those roles (pg_read_file, pg_read_binary_file, server-side lo_import: EXECUTE
 * is revoked from PUBLIC, an admin may grant it), dblink's functions it may execute (any schema;
 * the validator opens nothing), foreign servers of dblink_fdw or postgres_fdw it may use or whose
 * foreign tables it may read (or a view over one: it reads as the view's owner), and those wrappers
 * when it may create servers of them. A row per
 * role that has any (the session's own first). $1: servers not counted (vouched for, on another
 * cluster than the store's: vouched-servers.ts; empty on the store's).
 */
const OUTBOUND_SQL = `SELECT x.* FROM (SELECT
  a.oid::pg_catalog.regrole::text AS actor, a.via,
  EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolsuper AND pg_catalog.pg_has_role(a.oid, r.oid, 'MEMBER')) AS superuser,
  ARRAY(SELECT r.rolname::text FROM pg_catalog.pg_roles r WHERE r.rolname IN ('pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program')
    AND pg_catalog.pg_has_role(a.oid, r.oid, 'MEMBER') ORDER BY 1) AS roles,
  ARRAY(SELECT p.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc p
    WHERE p.probin ~ '(^|/)dblink(\\.[a-z]+)?$' AND p.proname <> 'dblink_fdw_validator' AND pg_catalog.has_function_privilege(a.oid, p.oid, 'EXECUTE') ORDER BY 1) AS functions,
  ARRAY(SELECT p.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace
    AND p.proname IN ('pg_read_file', 'pg_read_binary_file', 'lo_import') AND pg_catalog.has_function_privilege(a.oid, p.oid, 'EXECUTE') ORDER BY 1) AS files,
  ARRAY(SELECT s.srvname::text || COALESCE(' (through view ' || v.through || ')', '') FROM pg_catalog.pg_foreign_server s JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
    CROSS JOIN LATERAL (SELECT min(${viewReaching('t.ftrelid', 'a.oid')}) AS through FROM pg_catalog.pg_foreign_table t WHERE t.ftserver = s.oid) v
    WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.oid IN (w.fdwhandler, w.fdwvalidator) AND p.probin ~ ${LIBRARIES})
      AND s.srvname::text <> ALL ($1::text[]) AND (pg_catalog.has_server_privilege(a.oid, s.oid, 'USAGE') OR v.through IS NOT NULL OR EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_table t
        WHERE t.ftserver = s.oid AND pg_catalog.has_any_column_privilege(a.oid, t.ftrelid, 'SELECT'))) ORDER BY 1) AS servers,
  ARRAY(SELECT w.fdwname::text FROM pg_catalog.pg_foreign_data_wrapper w
    WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.oid IN (w.fdwhandler, w.fdwvalidator) AND p.probin ~ ${LIBRARIES})
      AND pg_catalog.has_foreign_data_wrapper_privilege(a.oid, w.oid, 'USAGE') ORDER BY 1) AS wrappers
  FROM (${ACTORS_SQL}) a) x
  WHERE x.superuser OR x.roles <> '{}' OR x.functions <> '{}' OR x.files <> '{}' OR x.servers <> '{}' OR x.wrappers <> '{}'
  ORDER BY x.via <> '', x.actor`;

/** What one role the session can act as reaches, and how the session acts as it ('' its own role, 'member', or the SECURITY DEFINER function). */
interface Outbound {
  actor: string;
  via: string;
  superuser: boolean;
  roles: string[];
  functions: string[];
  files: string[];
  servers: string[];
  wrappers: string[];
}

/** The first few of a list, and how many more. */
function some(xs: string[]): string {
  return xs.length > 4 ? `${xs.slice(0, 4).join(', ')} and ${xs.length - 4} more` : xs.join(', ');
}

/** What `o` reaches, in words, led by how the session acts as its role when that is not its own. */
function reaches(o: Outbound): string {
  const found = o.superuser ? ['a superuser (dblink without a password where loopback is trust, the store\'s files)'] : [
    ...(o.roles.length ? [`member of ${o.roles.join(', ')} (the server's files and programs)`] : []),
    ...(o.functions.length ? [`EXECUTE on dblink's ${some(o.functions)}`] : []),
    ...(o.files.length ? [`EXECUTE on ${some(o.files)} (the store's data files, in the data directory)`] : []),
    ...(o.servers.length ? [`foreign servers ${some(o.servers)} (USAGE or their foreign tables)`] : []),
    ...(o.wrappers.length ? [`USAGE on the foreign-data wrappers ${some(o.wrappers)}`] : []),
  ];
  return o.via ? `${actingAs(o)}: ${found.join('; ')}` : found.join('; ');
}

/**
 * On another cluster that runs on the store's host (the connection's host and the store's resolve
 * to one place, loopback addresses and sockets being one; not told apart: counted as the same), a
 * role that reads any file or runs programs as the OS user (superuser, pg_read_server_files,
 * pg_write_server_files, pg_execute_server_program, or EXECUTE on server-side lo_import, which
 * reads any path) is refused: the store's data directory is on that host, most often under the
 * same OS user. Why: the cluster identifiers differ, so the same-cluster check let it through.
 */
async function refuseStoreHostFiles(client: pg.PoolClient, connection: string, store: StoreCluster, rows: Outbound[]): Promise<void> {
  const found = rows.filter((o) => o.superuser || o.roles.length || o.files.some((f) => f.startsWith('lo_import(')));
  if (!found.length) return;
  const host = (client as unknown as { host?: unknown }).host;
  const site = store.address ? await storeSite(store.address, typeof host === 'string' ? host : undefined) : null;
  if (site?.cluster && ![...site.cluster].some((p) => site.store.has(p))) return;
  const what = found.map((o) => ({ ...o, functions: [], servers: [], wrappers: [], files: o.files.filter((f) => f.startsWith('lo_import(')) })).map(reaches);
  throw new WardenError(
    ErrorCode.CONFIG,
    `connection ${connection} is on another cluster on the host of the Warden transcript store (or one Warden cannot tell from it) and can read the host's files or run programs there (${what.join('; ')}): through them an agent reads the store's data files (every session's calls and results, the approvals and the masking key), so Warden refuses the connection. Revoke these from its role, or keep the store on a host of its own`,
    { reason: 'connection reaches the transcript store host files' },
  );
}

/**
 * Throw WARDEN_CONFIG when `client` (a session of a connection's pool) can reach the store from
 * SQL, as its own role or one it can act as: on the store's cluster by any of OUTBOUND_SQL's
 * privileges; on another cluster by a foreign server of dblink or postgres_fdw (its host is read
 * where that server runs, so Warden cannot tell it is not the store's; the other privileges need
 * a password of the store's the agent does not have), except those of `vouched` (the connection's
 * trusted_foreign_servers) that vouched-servers.ts lets through; on the store's cluster `vouched`
 * changes nothing.
 */
export async function refuseOutboundReach(client: pg.PoolClient, connection: string, store: StoreCluster, vouched: readonly string[] = []): Promise<void> {
  const cluster = (await client.query(`SELECT ${PG_CLUSTER_ID_SQL} AS cluster`)).rows[0]?.cluster as string | null;
  const elsewhere = cluster !== null && store.systemIdentifier !== null && cluster !== store.systemIdentifier;
  const trusted = elsewhere ? await vouchedServers(client, connection, vouched, store.address) : [];
  const rows = (await client.query({ text: OUTBOUND_SQL, values: [trusted] })).rows as Outbound[];
  if (elsewhere) await refuseStoreHostFiles(client, connection, store, rows);
  if (elsewhere) {
    const servers = rows.filter((o) => o.servers.length).map((o) => (o.via ? `${some(o.servers)} ${actingAs(o)}` : some(o.servers)));
    if (!servers.length) return;
    throw new WardenError(
      ErrorCode.CONFIG,
      `connection ${connection} may use foreign servers of dblink or postgres_fdw (${servers.join('; ')}) while the Warden transcript store is PostgreSQL: a server's host and port are read on the server it is defined on, so Warden cannot tell it does not lead to the store's cluster (a foreign table over the store's settings read the masking key), and refuses the connection. Revoke USAGE on them and their foreign tables from its role, list those that do not lead there in the connection's trusted_foreign_servers, or keep the transcripts in SQLite`,
      { reason: 'connection may reach the transcript store through a foreign server' },
    );
  }
  if (!rows.length) return;
  throw new WardenError(
    ErrorCode.CONFIG,
    `connection ${connection} is on the cluster of the Warden transcript store and can reach it from SQL (${rows.map(reaches).join('; ')}): through them an agent reads the store in its own database (every session's calls and results, the approvals and the masking key), so Warden refuses the connection. Revoke these from its role, or keep the store on a cluster of its own`,
    { reason: 'connection reaches the transcript store from SQL' },
  );
}
