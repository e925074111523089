/**
 * Parameters of a connection URL. Session parameters (`?options=...`, `?statement_timeout=0`,
 * ...) are refused when the URL is read: pg would apply them over the startup settings the pools
 * give every session (src/pg-url-params.ts says which and why). TLS parameters are tls.ts's
 * refusal. Two harmless ones, as a hosting provider's URL often carries them, are read here and
 * checked: `connect_timeout` (whole seconds, 1 to 60; pg's JavaScript client ignores it in a
 * URL, so it becomes the pools' connectionTimeoutMillis) and `application_name` (what
 * pg_stat_activity and the server log show; printable ASCII, at most 63 bytes, PostgreSQL's
 * limit). Neither changes what a session may do.
 */
import { ErrorCode, pgUrlSessionParams, readPgUrl, WardenError } from '../../src/tool-api.js';
import type { PostgresConnection } from './config.js';

/** The URL parameters a URL may carry: how long to wait and what to be called, never where, as whom or how (connection-target.ts leaves them out of an approval's target). */
export const HARMLESS: ReadonlySet<string> = new Set(['connect_timeout', 'application_name']);

/** Seconds a URL's connect_timeout may say (libpq's unit); 0 (wait forever) is refused. */
export const CONNECT_TIMEOUT_RANGE = { min: 1, max: 60 } as const;

/** What the pools take from the URL's harmless parameters (absent: Warden's defaults). */
export interface UrlPoolOptions {
  connectionTimeoutMillis?: number;
  application_name?: string;
}

/** Refuse a URL that carries anything but address, login, TLS and the harmless parameters (WARDEN_CONFIG, naming the connection and the parameters, never the URL). */
export function refuseSessionParamsInUrl(url: string, conn: Pick<PostgresConnection, 'name'>): void {
  const found = pgUrlSessionParams(url, HARMLESS);
  if (found.length === 0) return;
  throw new WardenError(
    ErrorCode.CONFIG,
    `connection ${conn.name}: its URL carries session parameters (${found.join(', ')}); pg would apply them over the settings Warden gives every session (read-only reads, statement_timeout, the pinned search_path); a URL holds the address and login only (host, port, user, password; connect_timeout and application_name are allowed): remove them`,
    { reason: 'session parameters in the connection URL' },
  );
}

/**
 * The URL's connect_timeout and application_name, checked (call after refuseSessionParamsInUrl).
 * A value out of range, repeated or not plain is refused with WARDEN_CONFIG naming the parameter,
 * never its value (a URL is a secret, and a password pasted in the wrong place would be quoted).
 */
export function urlPoolOptions(url: string, conn: Pick<PostgresConnection, 'name'>): UrlPoolOptions {
  const params = readPgUrl(url)?.searchParams;
  const out: UrlPoolOptions = {};
  if (!params) return out;
  const bad = (name: string, expected: string): WardenError =>
    new WardenError(ErrorCode.CONFIG, `connection ${conn.name}: its URL's ${name} must be ${expected}`, { reason: 'bad connection url parameter', parameter: name });
  const one = (name: string): string | undefined => {
    const all = params.getAll(name);
    if (all.length > 1) throw bad(name, 'given once');
    return all[0];
  };
  const timeout = one('connect_timeout');
  if (timeout !== undefined) {
    const n = /^\d{1,3}$/.test(timeout) ? Number(timeout) : NaN;
    if (!(n >= CONNECT_TIMEOUT_RANGE.min && n <= CONNECT_TIMEOUT_RANGE.max)) throw bad('connect_timeout', `whole seconds from ${CONNECT_TIMEOUT_RANGE.min} to ${CONNECT_TIMEOUT_RANGE.max}`);
    out.connectionTimeoutMillis = n * 1000;
  }
  const app = one('application_name');
  if (app !== undefined) {
    // Printable ASCII: PostgreSQL turns anything else into '?', and a quote or control character has no business in a log line.
    if (!/^[A-Za-z0-9 ._:@/+=,-]{1,63}$/.test(app)) throw bad('application_name', '1 to 63 letters, digits, spaces or . _ : @ / + = , -');
    out.application_name = app;
  }
  return out;
}
