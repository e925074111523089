/**
 * A connection that can read a Warden transcript store is refused. Why: an agent whose
 * `query_database` connection reaches the store's database with a role that may SELECT its tables
 * (the store's own login, the common one-URL setup, a superuser, pg_read_all_data, or a grant)
 * read `settings` (the shared key of the `hash` masking strategy: every hashed value can then be
 * matched against guesses offline), every other session's calls and results, and the approvals,
 * with a policy that grants reads on `public`. The SQLite store has the same boundary in
 * server/agent-boundary.ts (the agent's OS user must not read the file). Checked once when a pool
 * opens, before its first statement or catalog lookup, so a plain read pays nothing after that;
 * while the check fails the pool is not kept, and every call is refused again (WARDEN_CONFIG).
 */
import type pg from 'pg';
import { ErrorCode, PG_STORE_FINGERPRINT as F, PG_STORE_TABLES, WardenError } from '../../src/tool-api.js';
import { poolSession, withSession } from './pool-session.js';
import { refuseOutboundReach, type StoreCluster } from './outbound-reach.js';
import { ACTORS_SQL, actingAs, viewReaching } from './acting-roles.js';

/**
 * The store tables this session may read (any column, in a schema it may use), by schema, in
 * every schema that holds a Warden store, as its own role or one it can act as (ACTORS_SQL: a
 * role it is a member of, NOINHERIT too; the owner of a SECURITY DEFINER function it runs), or
 * through a view or rule one of them may use (viewReaching), with those roles and views. The
 * catalog is readable by every role, so this needs no privilege of its own; has_any_column_privilege counts table and column grants, superusers and pg_read_all_data alike,
 * and a member of the table's owner (NOINHERIT too: it can SET ROLE to it, and then grant itself
 * the schema) reaches it whatever it holds now.
 */
const REACH_SQL = `SELECT n.nspname AS schema, array_agg(DISTINCT c.relname::text ORDER BY c.relname::text) AS tables,
    array_agg(DISTINCT pg_catalog.jsonb_build_object('actor', act.oid::pg_catalog.regrole::text, 'via', act.via)) FILTER (WHERE act.via <> '') AS actors,
    array_agg(DISTINCT v.through) FILTER (WHERE v.through IS NOT NULL) AS views
  FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace CROSS JOIN (${ACTORS_SQL}) act
    CROSS JOIN LATERAL (SELECT ${viewReaching('c.oid', 'act.oid')} AS through) v
  WHERE c.relname = ANY ($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
    AND (pg_catalog.has_schema_privilege(act.oid, n.oid, 'USAGE') AND pg_catalog.has_any_column_privilege(act.oid, c.oid, 'SELECT')
      OR pg_catalog.pg_has_role(act.oid, c.relowner, 'MEMBER') OR v.through IS NOT NULL)
    AND EXISTS (SELECT 1 FROM pg_catalog.pg_class v WHERE v.relnamespace = n.oid AND v.relname = $2)
    AND EXISTS (SELECT 1 FROM pg_catalog.pg_class r JOIN pg_catalog.pg_attribute a ON a.attrelid = r.oid
      WHERE r.relnamespace = n.oid AND r.relname = $3 AND a.attname = $4 AND NOT a.attisdropped)
  GROUP BY n.nspname ORDER BY n.nspname`;

/** Throw WARDEN_CONFIG when `client` (a session of a connection's pool) can read a Warden transcript store's tables, as its role or one it can act as. */
export async function refuseStoreReach(client: pg.PoolClient, connection: string): Promise<void> {
  const r = await client.query({ text: REACH_SQL, values: [PG_STORE_TABLES, F.versions, F.chain, F.chainColumn] });
  const rows = r.rows as { schema: string; tables: string[]; actors: { actor: string; via: string }[] | null; views: string[] | null }[];
  const how = (x: (typeof rows)[number]): string[] => [...(x.views ?? []).slice(0, 3).map((v) => `through view ${v}`), ...(x.actors ?? []).slice(0, 3).map(actingAs)];
  const found = rows.map((x) => `schema ${x.schema}: ${x.tables.join(', ')}${how(x).length ? ` (${how(x).join('; ')})` : ''}`);
  if (!found.length) return;
  throw new WardenError(
    ErrorCode.CONFIG,
    `connection ${connection} can read the tables of a Warden transcript store (${found.join('; ')}): through it an agent reads every session's calls and results, the approvals and the masking key, so Warden refuses the connection. Give it a role without SELECT on them, or keep the store in a database of its own`,
    { reason: 'connection reaches the transcript store' },
  );
}

/**
 * `pool` once a session of it found that its role reads no transcript store, nor, on the cluster
 * of a PostgreSQL store (`store`), opens connections from SQL, nor elsewhere may use a foreign
 * server other than those `vouched` for (outbound-reach.ts); else the pool is
 * ended and the refusal thrown (`told` hears a store reach first, for the log). A failure to
 * connect is thrown as the statement's own would be (pool-session.ts), and the pool not kept.
 */
export async function storeSafePool(pool: pg.Pool, connection: string, told: (e: WardenError) => void, store?: StoreCluster, vouched?: readonly string[]): Promise<pg.Pool> {
  try {
    await withSession(() => poolSession(pool), async (c) => {
      // No JIT: these catalog queries follow roles, views and functions per role, and the planner's
      // guesses for them passed jit_above_cost (a compile of seconds on a busy server, for a few ms of work).
      await c.query('BEGIN; SET LOCAL jit = off');
      await refuseStoreReach(c, connection);
      if (store) await refuseOutboundReach(c, connection, store, vouched);
      await c.query('COMMIT');
    });
    return pool;
  } catch (e) {
    void pool.end().catch(() => undefined);
    if (e instanceof WardenError && e.code === ErrorCode.CONFIG) told(e);
    throw e;
  }
}
