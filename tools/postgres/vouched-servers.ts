/**
 * The foreign servers an admin vouches for (a postgres connection's `trusted_foreign_servers`):
 * on another cluster than the PostgreSQL transcript store's, a dblink or postgres_fdw server the
 * session may use refuses the connection (outbound-reach.ts), since Warden cannot see where its
 * host leads from there; a listed one is let through, the admin having stated that it does not
 * lead to the store's cluster. Why bound: the list vouches for a name, so a listed name that is
 * no server of the database (a typo, or a name someone may later create to point anywhere), a
 * server the session could repoint itself (ALTER SERVER ... OPTIONS needs only its owner's role,
 * which the session can act as), and a server whose options name the store URL's host and port
 * are refused with WARDEN_CONFIG rather than trusted. Never consulted on the store's own cluster.
 */
import type pg from 'pg';
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import { ACTORS_SQL } from './acting-roles.js';

/** The host and port of the store's URL as Warden reads it ('' host: the local machine). */
export interface StoreAddress {
  host: string;
  port: number;
}

/**
 * Each listed name with its server's options (NULL when there is no server of that name) and the
 * first role the session can act as (ACTORS_SQL) that is a member of the server's owner ('' none).
 */
const VOUCHED_SQL = `SELECT l.name, s.srvoptions::text[] AS options, s.oid IS NOT NULL AS found,
    COALESCE((SELECT min(a.oid::pg_catalog.regrole::text) FROM (${ACTORS_SQL}) a WHERE pg_catalog.pg_has_role(a.oid, s.srvowner, 'MEMBER')), '') AS owner
  FROM pg_catalog.unnest($1::text[]) l(name) LEFT JOIN pg_catalog.pg_foreign_server s ON s.srvname::text = l.name ORDER BY 1`;

/** A host as a place: loopback names and sockets (no host, a directory, an abstract socket) are one place, as Warden cannot tell them apart across machines. */
function place(host: string): string {
  const h = host.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === '' || h.startsWith('/') || h.startsWith('@') || h === 'localhost' || h === '::1' || /^127(\.\d+){3}$/.test(h) ? 'loopback' : h;
}

/**
 * Whether a server's options (libpq's `key=value`) may lead to `store`'s host and port: any of its
 * hosts or host addresses (comma lists; no host at all means the local socket) at the same place,
 * and any of its ports (5432 when unset) the store's. Names are compared as written: a name
 * another resolves to is not seen (the list vouches for that).
 */
export function namesStore(options: readonly string[], store: StoreAddress): boolean {
  const get = (k: string) => options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  const [host, hostaddr] = [get('host'), get('hostaddr')];
  const hosts = [...(host !== undefined ? host.split(',') : hostaddr === undefined ? [''] : []), ...(hostaddr?.split(',') ?? [])];
  const ports = (get('port') ?? '').split(',').map((p) => Number(p.trim() || 5432));
  return hosts.some((h) => place(h) === place(store.host)) && ports.some((p) => p === store.port || Number.isNaN(p));
}

/**
 * The names of `vouched` that may pass on a cluster other than the store's; throws WARDEN_CONFIG
 * naming the first listed server that is missing from the connection's database, owned by a role
 * the session can act as, or pointing at `store` (its address, when known).
 */
export async function vouchedServers(client: pg.PoolClient, connection: string, vouched: readonly string[], store?: StoreAddress): Promise<string[]> {
  if (!vouched.length) return [];
  const rows = (await client.query({ text: VOUCHED_SQL, values: [vouched] })).rows as { name: string; options: string[] | null; found: boolean; owner: string }[];
  const refuse = (message: string, reason: string): never => {
    throw new WardenError(ErrorCode.CONFIG, `connection ${connection}'s trusted_foreign_servers: ${message}, so Warden refuses the connection`, { reason });
  };
  for (const r of rows) {
    if (!r.found) refuse(`${r.name} is no foreign server of its database (a name listed must be one: a typo must not pass, nor a server created later under it); fix or remove the name`, 'trusted foreign server not found');
    if (r.owner) refuse(`${r.name} is owned by a role it can act as (${r.owner}): it could point the server anywhere (ALTER SERVER ... OPTIONS), the store's cluster too; give the server another owner`, 'trusted foreign server owned by the connection');
    if (store && namesStore(r.options ?? [], store)) refuse(`${r.name} leads to the Warden transcript store's host and port (its options name them as the store's URL does); remove it from the list`, 'trusted foreign server leads to the store');
  }
  return rows.map((r) => r.name);
}
