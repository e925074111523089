/**
 * Where every query of a connection gets its session: the statement (connector.run) and the
 * catalog lookups its analysis and describe_database make (connector.ts, view-reader.ts). A
 * failure to open one (TLS refused, bad credentials, server unreachable) is mapped here, once, as
 * backendError maps it, so it reads the same to the agent whichever query met it first, and
 * the driver's own words (Node's TLS message, PostgreSQL's naming the login role) never travel.
 * And where a session goes back: only once reset (resetThenRelease).
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

/**
 * Return a session to the pool only once it is as it started (DISCARD ALL), after a write and
 * after a read alike: a read may change its session (set_config(..., false), SET, an advisory lock, LISTEN,
 * a function that does any of these) and the next call on it, whoever makes it, would inherit
 * that: a search_path or standard_conforming_strings of the caller's choosing (the statement
 * the policy saw is not the one the server reads), default_transaction_read_only off, no
 * statement_timeout, a masked value kept in a setting for SHOW to return. DISCARD ALL resets
 * every setting to the session's start (the startup packet's pinned values), releases locks
 * and listens, and drops prepared statements and cursors. A session it fails on is destroyed,
 * never pooled again.
 *
 * It is sent on a timer, not at once: the answer is in (for a write, COMMIT is answered), and
 * the rest of the call (masking, the durable outcome, the response) runs in this turn of the
 * event loop and its immediates, before any timer. So the reset's own work (building and
 * sending the query, reading its answer) lands after the agent has its response, not before.
 * The session is not back in the pool until the reset is answered, so nothing can use it
 * unreset meanwhile; a call that needs a session then takes another (bench: `npm run bench --
 * query`, README Performance). `released` runs once it is back (or destroyed): the caller's
 * share of the pool (pool-shares.ts) counts it until then.
 */
export function resetThenRelease(client: pg.PoolClient, released?: () => void): void {
  setTimeout(() => {
    client.query('DISCARD ALL').then(
      () => client.release(),
      (e: unknown) => client.release(e instanceof Error ? e : new Error('reset failed')),
    ).finally(released);
  }, 0);
}
