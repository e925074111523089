/**
 * Where a postgres connection reaches, as its `url:` secret resolves here: a digest of the URL
 * without its password, and of the libpq environment variables node-postgres falls back on for
 * what the URL leaves out. Why: `url: env:DATABASE_URL` names no database, the variable does, so
 * an approval given while it pointed at staging must not run the call on a restart (or a replica
 * of the shared store) where it points at production. The password is left out (rotating it
 * changes no target, and no digest of a secret leaves Warden); the user stays (another role is
 * another reach).
 */
import { createHash } from 'node:crypto';
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import { HARMLESS } from './url-params.js';

/** The libpq variables node-postgres reads for a host, port, database or user the URL omits. */
const PG_ENV = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGUSER'] as const;

/** The target digest of `url` (the resolved connection URL) for connection `name`. */
export function postgresTarget(name: string, url: string, env: NodeJS.ProcessEnv = process.env): string {
  const fallbacks = Object.fromEntries(PG_ENV.flatMap((k) => (env[k] ? [[k, env[k]]] : [])));
  // node-postgres's socket form, `/var/run/postgresql dbname`, carries no password.
  if (url.startsWith('/')) return digest({ socket: url, env: fallbacks });
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    // Never the URL itself in the message: it holds the password.
    throw new WardenError(ErrorCode.CONFIG, `connection ${name}: its URL cannot be read as a URL, so an approval cannot be bound to the database it reaches`, {
      reason: 'unreadable connection url',
    });
  }
  u.password = '';
  // node-postgres also reads a password from the query string. connect_timeout and
  // application_name (the URL parameters allowed besides it: url-params.ts) change how long a
  // session is waited for and what it is called, not where it runs: editing them must not void
  // every pending approval. Host, port, database and user stay (ssl parameters in a URL are
  // refused: TLS is the connection's own setting, not the URL's).
  u.searchParams.delete('password');
  for (const p of HARMLESS) u.searchParams.delete(p);
  return digest({ url: u.href, env: fallbacks });
}

const digest = (v: unknown): string => `sha256:${createHash('sha256').update(JSON.stringify(v), 'utf8').digest('hex')}`;
