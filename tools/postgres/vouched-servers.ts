/**
 * The foreign servers an admin vouches for (a postgres connection's `trusted_foreign_servers`):
 * on another cluster than the PostgreSQL transcript store's, a dblink or postgres_fdw server the
 * session may use refuses the connection (outbound-reach.ts), since Warden cannot see where its
 * host leads from there; a listed one is let through, the admin having stated that it does not
 * lead to the store's cluster. Why bound: the list vouches for a name, so a listed name that is
 * no server of the database (a typo, or a name someone may later create to point anywhere), a
 * server the session could repoint itself (ALTER SERVER ... OPTIONS needs only its owner's role,
 * which the session can act as), and a server whose host and port lead to the store URL's (resolved
 * addresses compared, host-places.ts) are refused with WARDEN_CONFIG rather than trusted. Never consulted on the store's own cluster.
 */
import type pg from 'pg';
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import { ACTORS_SQL } from './acting-roles.js';
import { LOCAL, placesOf, systemLookup, type Lookup } from './host-places.js';

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

/** Where the store is and where the connection's server runs, as places (host-places.ts), read once per pool open. */
export interface StoreSite {
  store: Set<string>;
  port: number;
  /** The places of the connection's own server (its loopback is there); null when they could not be read. */
  cluster: Set<string> | null;
}

/** The store's site, or null when the store's host resolves to nothing here. */
export async function storeSite(store: StoreAddress, clusterHost: string | undefined, lookup: Lookup = systemLookup): Promise<StoreSite | null> {
  const [places, cluster] = await Promise.all([placesOf(store.host, lookup), clusterHost === undefined ? null : placesOf(clusterHost, lookup)]);
  return places && { store: places, port: store.port, cluster };
}

/**
 * Whether a server's options (libpq's `key=value`) may lead to the store: any of its hosts or
 * host addresses (comma lists, a hostaddr entry standing for its host's; no host at all means the local socket) resolved to a place of the
 * store's (any loopback address is any other; a loopback or socket of the server's is on the
 * connection's own server, so the store's when that runs on the store's machine, or when that
 * could not be told), and any of its ports (5432 when unset; one that is no number counts as
 * any) the store's. A `service` option (host and port read from a file there) counts as leading
 * to the store. Returns 'store', the first host that resolves to nothing ('unresolvable', host),
 * or null.
 */
export async function namesStore(options: readonly string[], site: StoreSite, lookup: Lookup = systemLookup): Promise<{ found: 'store' | 'unresolvable'; host: string } | null> {
  const get = (k: string) => options.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  if (get('service') !== undefined) return { found: 'store', host: `service ${get('service')}` };
  const [host, hostaddr] = [get('host'), get('hostaddr')];
  // libpq connects to hostaddr's entry, else to the same entry of host (its name then only for TLS and passwords).
  const names = host?.split(',') ?? [''];
  const hosts = hostaddr === undefined ? names : hostaddr.split(',').map((a, i) => a.trim() || (names[i] ?? ''));
  const ports = (get('port') ?? '').split(',').map((p) => Number(p.trim() || 5432));
  if (!ports.some((p) => p === site.port || Number.isNaN(p))) return null;
  const loopbackIsStore = site.store.has(LOCAL) || site.cluster === null || [...site.cluster].some((p) => site.store.has(p));
  for (const h of hosts) {
    const places = await placesOf(h, lookup);
    if (!places) return { found: 'unresolvable', host: h };
    if ([...places].some((p) => site.store.has(p) || (p === LOCAL && loopbackIsStore))) return { found: 'store', host: h };
  }
  return null;
}

/**
 * The names of `vouched` that may pass on a cluster other than the store's; throws WARDEN_CONFIG
 * naming the first listed server that is missing from the connection's database, owned by a role
 * the session can act as, or that may lead to `store` (namesStore: resolved here, once per pool
 * open), or whose host resolves to nothing; and when the store's own host resolves to nothing.
 */
export async function vouchedServers(client: pg.PoolClient, connection: string, vouched: readonly string[], store?: StoreAddress): Promise<string[]> {
  if (!vouched.length) return [];
  const rows = (await client.query({ text: VOUCHED_SQL, values: [vouched] })).rows as { name: string; options: string[] | null; found: boolean; owner: string }[];
  const refuse = (message: string, reason: string): never => {
    throw new WardenError(ErrorCode.CONFIG, `connection ${connection}'s trusted_foreign_servers: ${message}, so Warden refuses the connection`, { reason });
  };
  const clusterHost = (client as unknown as { host?: unknown }).host;
  const site = store ? await storeSite(store, typeof clusterHost === 'string' ? clusterHost : undefined) : undefined;
  if (site === null) refuse("the Warden transcript store's host resolves to no address here, so no server can be told apart from it; fix the store URL", 'store host unresolvable');
  for (const r of rows) {
    if (!r.found) refuse(`${r.name} is no foreign server of its database (a name listed must be one: a typo must not pass, nor a server created later under it); fix or remove the name`, 'trusted foreign server not found');
    if (r.owner) refuse(`${r.name} is owned by a role it can act as (${r.owner}): it could point the server anywhere (ALTER SERVER ... OPTIONS), the store's cluster too; give the server another owner`, 'trusted foreign server owned by the connection');
    const hit = site ? await namesStore(r.options ?? [], site) : null;
    if (hit?.found === 'unresolvable') refuse(`${r.name}'s host ${hit.host} resolves to no address here, so Warden cannot tell it does not lead to the transcript store; use a name that resolves, or remove it from the list`, 'trusted foreign server host unresolvable');
    if (hit) refuse(`${r.name} leads to the Warden transcript store's host and port (its ${hit.host.startsWith('service ') ? hit.host : `host ${hit.host || '(local socket)'}`} resolves to the store's address, loopback addresses being one); remove it from the list`, 'trusted foreign server leads to the store');
  }
  return rows.map((r) => r.name);
}
