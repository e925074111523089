/**
 * Where every query of a connection gets its session: the statement (connector.run) and the
 * catalog lookups its analysis and describe_database make (connector.ts, view-reader.ts). A
 * failure to open one (TLS refused, bad credentials, server unreachable) is mapped here, once, as
 * backendError maps it, so it reads the same to the agent whichever query met it first, and
 * the driver's own words (Node's TLS message, PostgreSQL's naming the login role) never travel.
 */
import type pg from 'pg';
import { backendError } from './backend-error.js';

/** A session from `pool`, a failure to connect coded (backend-error.ts, tls.ts). */
export async function poolSession(pool: pg.Pool | Promise<pg.Pool>): Promise<pg.PoolClient> {
  const p = await pool;
  try {
    return await p.connect();
  } catch (e) {
    throw backendError(e);
  }
}

/**
 * Run `fn` on a session of its own; released after, and destroyed (never pooled again) after an
 * error. A session that breaks while `fn` runs (the network cut, the server gone) is coded as
 * backendError codes it, like a failure to open one: never the driver's words.
 */
export async function withSession<T>(session: () => Promise<pg.PoolClient>, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await session();
  let broken: Error | undefined;
  try {
    return await fn(client);
  } catch (e) {
    broken = e instanceof Error ? e : new Error('query failed');
    throw backendError(e);
  } finally {
    client.release(broken);
  }
}
