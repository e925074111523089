/**
 * A connection on the PostgreSQL transcript store's cluster that can reach the store from SQL (open
 * connections of its own, read the cluster's files) is refused. Why: store-reach.ts sees only the connection's own database; with the
 * store in another database of the same cluster, an agent under a plain allow rule read the
 * store's `settings` (the `hash` masking key) through `public.dblink_exec('server', ...)` (the
 * remote error quoting what the remote statement read) or a postgres_fdw foreign table over a
 * server an admin left with a user mapping; and a superuser needs no password at all where
 * loopback is `trust`; a role granted pg_read_binary_file read the store's pages (its data
 * directory is the cluster's). Judged on the role's privileges, not on statements: a
 * schema-qualified call, a view, a foreign table or a function all rest on the same privilege. Same cluster: the same system identifier (pg_control_system()); a connection that
 * cannot read its own counts as the same (fail closed), as does a store that could not read its.
 * Checked once when a pool opens, with store-reach.ts (a plain read pays nothing after that).
 */
import type pg from 'pg';
import { ErrorCode, PG_CLUSTER_ID_SQL, WardenError } from '../../src/tool-api.js';

/** The store's cluster as the family hears it (FamilyDeps.storeCluster): its system identifier, null when it could not be read. */
export interface StoreCluster {
  systemIdentifier: string | null;
}

/** The shared libraries whose functions open connections to a PostgreSQL server. */
const LIBRARIES = `'(^|/)(dblink|postgres_fdw)(\\.[a-z]+)?$'`;

/**
 * What this session's role can open connections with, or read the store's data files with:
 * superuser (or a member of one), the predefined roles that read or write server files or run
 * programs, the built-in functions that read a file of the data directory without those roles
 * (pg_read_file, pg_read_binary_file, server-side lo_import: EXECUTE is revoked from PUBLIC, an
 * admin may grant it), dblink's functions it may execute (any schema; the validator opens
 * nothing), foreign servers of dblink_fdw or postgres_fdw it may use
 * or whose foreign tables it may read, and those wrappers when it may create servers of them.
 */
const OUTBOUND_SQL = `SELECT
  ${PG_CLUSTER_ID_SQL} AS cluster,
  EXISTS (SELECT 1 FROM pg_catalog.pg_roles r WHERE r.rolsuper AND pg_catalog.pg_has_role(r.oid, 'MEMBER')) AS superuser,
  ARRAY(SELECT r.rolname::text FROM pg_catalog.pg_roles r WHERE r.rolname IN ('pg_read_server_files', 'pg_write_server_files', 'pg_execute_server_program')
    AND pg_catalog.pg_has_role(r.oid, 'MEMBER') ORDER BY 1) AS roles,
  ARRAY(SELECT p.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc p
    WHERE p.probin ~ '(^|/)dblink(\\.[a-z]+)?$' AND p.proname <> 'dblink_fdw_validator' AND pg_catalog.has_function_privilege(p.oid, 'EXECUTE') ORDER BY 1) AS functions,
  ARRAY(SELECT p.oid::pg_catalog.regprocedure::text FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace
    AND p.proname IN ('pg_read_file', 'pg_read_binary_file', 'lo_import') AND pg_catalog.has_function_privilege(p.oid, 'EXECUTE') ORDER BY 1) AS files,
  ARRAY(SELECT s.srvname::text FROM pg_catalog.pg_foreign_server s JOIN pg_catalog.pg_foreign_data_wrapper w ON w.oid = s.srvfdw
    WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.oid IN (w.fdwhandler, w.fdwvalidator) AND p.probin ~ ${LIBRARIES})
      AND (pg_catalog.has_server_privilege(s.oid, 'USAGE') OR EXISTS (SELECT 1 FROM pg_catalog.pg_foreign_table t
        WHERE t.ftserver = s.oid AND pg_catalog.has_any_column_privilege(t.ftrelid, 'SELECT'))) ORDER BY 1) AS servers,
  ARRAY(SELECT w.fdwname::text FROM pg_catalog.pg_foreign_data_wrapper w
    WHERE EXISTS (SELECT 1 FROM pg_catalog.pg_proc p WHERE p.oid IN (w.fdwhandler, w.fdwvalidator) AND p.probin ~ ${LIBRARIES})
      AND pg_catalog.has_foreign_data_wrapper_privilege(w.oid, 'USAGE') ORDER BY 1) AS wrappers`;

interface Outbound {
  cluster: string | null;
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

/** Throw WARDEN_CONFIG when `client` (a session of a connection's pool) is on the store's cluster and its role can reach the store from SQL. */
export async function refuseOutboundReach(client: pg.PoolClient, connection: string, store: StoreCluster): Promise<void> {
  const o = (await client.query(OUTBOUND_SQL)).rows[0] as Outbound;
  if (o.cluster !== null && store.systemIdentifier !== null && o.cluster !== store.systemIdentifier) return;
  const found = o.superuser ? ['a superuser (dblink without a password where loopback is trust, the store\'s files)'] : [
    ...(o.roles.length ? [`member of ${o.roles.join(', ')} (the server's files and programs)`] : []),
    ...(o.functions.length ? [`EXECUTE on dblink's ${some(o.functions)}`] : []),
    ...(o.files.length ? [`EXECUTE on ${some(o.files)} (the store's data files, in the data directory)`] : []),
    ...(o.servers.length ? [`foreign servers ${some(o.servers)} (USAGE or their foreign tables)`] : []),
    ...(o.wrappers.length ? [`USAGE on the foreign-data wrappers ${some(o.wrappers)}`] : []),
  ];
  if (!found.length) return;
  throw new WardenError(
    ErrorCode.CONFIG,
    `connection ${connection} is on the cluster of the Warden transcript store and can reach it from SQL (${found.join('; ')}): through them an agent reads the store in its own database (every session's calls and results, the approvals and the masking key), so Warden refuses the connection. Revoke these from its role, or keep the store on a cluster of its own`,
    { reason: 'connection reaches the transcript store from SQL' },
  );
}
