/**
 * Session parameters in a connection URL (`?options=...`, `?statement_timeout=0`, ...), refused
 * when the URL is read: pg would apply them over the startup settings the pools give every
 * session (src/pg-url-params.ts says which and why). TLS parameters are tls.ts's refusal.
 */
import { ErrorCode, pgUrlSessionParams, WardenError } from '../../src/tool-api.js';
import type { PostgresConnection } from './config.js';

/** Refuse a URL that carries anything but address, login and TLS (WARDEN_CONFIG, naming the connection and the parameters, never the URL). */
export function refuseSessionParamsInUrl(url: string, conn: Pick<PostgresConnection, 'name'>): void {
  const found = pgUrlSessionParams(url);
  if (found.length === 0) return;
  throw new WardenError(
    ErrorCode.CONFIG,
    `connection ${conn.name}: its URL carries session parameters (${found.join(', ')}); pg would apply them over the settings Warden gives every session (read-only reads, statement_timeout, the pinned search_path); a URL holds the address and login only (host, port, user, password): remove them`,
    { reason: 'session parameters in the connection URL' },
  );
}
