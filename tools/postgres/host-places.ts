/**
 * Where a PostgreSQL host name leads, as resolved addresses, for the check that a vouched foreign
 * server does not lead to the transcript store (vouched-servers.ts). Why: compared as text, the
 * store at `127.0.0.1` and a server at `127.1`, `2130706433`, `::ffff:127.0.0.1`, `0.0.0.0`, the
 * machine's own name or its interface address, or a DNS alias of the store's name, were different
 * places, and the server was trusted while it led to the store.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { networkInterfaces } from 'node:os';

/** Resolves a host name to its addresses (getaddrinfo, as libpq does); throws when it cannot. */
export type Lookup = (host: string) => Promise<string[]>;

/** The system resolver, every address of a name. */
export const systemLookup: Lookup = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => a.address);

/** The place that stands for "this machine": loopback, the unspecified address, a socket, or an address of one of its interfaces. */
export const LOCAL = 'local';

/** This machine's interface addresses, read once. */
let own: Set<string> | undefined;
function ownAddresses(): Set<string> {
  own ??= new Set(Object.values(networkInterfaces()).flatMap((xs) => (xs ?? []).map((x) => bare(x.address))));
  return own;
}

/** An address without brackets, zone, case or IPv4-mapped prefix. */
function bare(address: string): string {
  return address.trim().toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
}

/** An address as a place: LOCAL for this machine's (any loopback address is any other), else the address itself. */
export function placeOfAddress(address: string): string {
  const a = bare(address);
  return /^127\./.test(a) || a === '::1' || a === '0.0.0.0' || a === '::' || a === '0:0:0:0:0:0:0:1' || ownAddresses().has(a) ? LOCAL : a;
}

/**
 * The places a libpq host leads to: LOCAL for no host, a socket directory or an abstract socket;
 * else every address the name resolves to. Null when it resolves to nothing (the caller refuses:
 * Warden cannot tell where it leads).
 */
export async function placesOf(host: string, lookup: Lookup = systemLookup): Promise<Set<string> | null> {
  const h = host.trim().replace(/^\[(.*)\]$/, '$1');
  if (h === '' || h.startsWith('/') || h.startsWith('@')) return new Set([LOCAL]);
  try {
    const addresses = await lookup(h);
    return addresses.length ? new Set(addresses.map(placeOfAddress)) : null;
  } catch {
    return null;
  }
}
