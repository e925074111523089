/**
 * The PostgreSQL transcript store as another PostgreSQL session can recognise it (leaf, no
 * imports; re-exported by tool-api.ts for the postgres family). Why a leaf: the store
 * (recorder/pg-schema.ts) creates these tables, and a query_database connection must never be
 * able to read them (tools/postgres/store-reach.ts), so both read one list.
 */

/**
 * The store's tables that hold what it records or keeps: every session's calls, arguments and
 * results (masked as their agent saw them, but each agent's alone), the approvals and their
 * comments, the rate counters naming principals, and `settings`, which holds the shared key of the
 * `hash` masking strategy (whoever reads it can hash guesses and match them to masked values).
 */
export const PG_STORE_TABLES: readonly string[] = [
  'records', 'sessions', 'calls', 'approvals', 'approval_decisions', 'settings', 'checkpoints', 'signed_head', 'chain_head',
  'rate_usage', 'rate_inflight', 'rate_buckets',
];

/**
 * A schema is a Warden store's when it holds `schema_version` and a `records` table with a
 * `prev_hash` column (the hash chain), as every store version since the first has. Why this
 * fingerprint and not the names alone: an application may have a `settings` or `calls` table.
 */
export const PG_STORE_FINGERPRINT = { versions: 'schema_version', chain: 'records', chainColumn: 'prev_hash' } as const;

/**
 * The cluster's system identifier as text, NULL where the session may not read it (an SQL
 * expression). Why shared: the store reports its cluster and tools/postgres/outbound-reach.ts
 * compares a connection's with it, so both must read the same value the same way.
 */
export const PG_CLUSTER_ID_SQL = `CASE WHEN pg_catalog.has_function_privilege('pg_catalog.pg_control_system()', 'EXECUTE')
    THEN (SELECT system_identifier::text FROM pg_catalog.pg_control_system()) END`;
