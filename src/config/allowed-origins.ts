/**
 * How an `http.allowed_origins` entry is read. Browsers send the full origin (scheme, host,
 * port), and a page on another port of the same host is another origin that shares the
 * reviewer's cookies (cookies are not port-scoped; SameSite ignores ports), so entries are
 * origins, compared whole. A bare hostname is kept for configs that listed names: it stands for
 * that host on this server's own scheme and port (see hostPolicy in server/http-guards.ts).
 */

/** One entry, read: a full http(s) origin, or a bare hostname. */
export type OriginEntry = { kind: 'origin'; origin: string } | { kind: 'hostname'; hostname: string };

const LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOSTNAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`, 'i');
const IPV6 = /^\[[0-9a-f:.]+\]$/i;

/** Why one message: every refused entry gets the same explanation of the two accepted forms. */
export const ORIGIN_ENTRY_HINT =
  'expected an origin such as https://app.example.com or http://localhost:5173 (scheme, host and optional port; no path, wildcard or user), or a bare hostname, which allows that host on this server\'s own scheme and port only';

/**
 * Read an entry; null when it is neither form (the config is then refused: fail closed).
 * Why here: the config schema validates with it and the server expands it, so the two agree.
 */
export function parseOriginEntry(entry: string): OriginEntry | null {
  const e = entry.trim();
  if (e.includes('*')) return null;
  if (e.includes('://')) {
    let u: URL;
    try {
      u = new URL(e);
    } catch {
      return null;
    }
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return null;
    if (u.username || u.password || u.search || u.hash || (u.pathname !== '/' && u.pathname !== '')) return null;
    if (!/^[a-z][a-z0-9+.-]*:\/\/[^/?#@]+\/?$/i.test(e)) return null; // no `?`, `#` or `@` that URL dropped quietly
    return { kind: 'origin', origin: u.origin };
  }
  if (HOSTNAME.test(e) || IPV6.test(e)) {
    try {
      return { kind: 'hostname', hostname: new URL(`http://${e}`).hostname };
    } catch {
      return null;
    }
  }
  return null;
}
