/**
 * Where a postgres connection reaches, as its `url:` secret resolves here: a digest of the URL
 * without its password, and of the libpq environment variables node-postgres falls back on for
 * what the URL leaves out. Why: `url: env:DATABASE_URL` names no database, the variable does, so
 * an approval given while it pointed at staging must not run the call on a restart (or a replica
 * of the shared store) where it points at production. The password is left out (rotating it
 * changes no target, and no digest of a secret leaves Warden); the user stays (another role is
 * another reach). With TLS, the CA the connection trusts (`tls.ca`) and its client certificate
 * (`tls.cert`) are bound by a digest of their contents, as Kubernetes binds its CA: the entry
 * names a file, so a restart with another CA at the same path may trust another server. The
 * client key is never in it, nor a digest of it (the certificate names who Warden is).
 */
import { createHash } from 'node:crypto';
import { ErrorCode, WardenError } from '../../src/tool-api.js';
import { HARMLESS } from './url-params.js';
import type { TlsPlan } from './tls.js';

/** The libpq variables node-postgres reads for a host, port, database or user the URL omits. */
const PG_ENV = ['PGHOST', 'PGHOSTADDR', 'PGPORT', 'PGDATABASE', 'PGUSER'] as const;

const sha256 = (s: string | Buffer): string => createHash('sha256').update(s).digest('hex');

/** A digest of PEM material the connection was given (public: a CA or a certificate), or null. */
function pemIdentity(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  const parts = Array.isArray(v) ? v : [v];
  return sha256(parts.map((p) => (typeof p === 'string' ? p : Buffer.isBuffer(p) ? p.toString('utf8') : String(p))).join('\n'));
}

/** Whom the connection trusts and presents over TLS: digests of its CA and client certificate (never the key). */
function trustOf(tls: TlsPlan | undefined): Record<string, string | null> | null {
  if (!tls || tls.ssl === false) return null;
  const ca = pemIdentity(tls.ssl.ca);
  const cert = pemIdentity(tls.ssl.cert);
  return ca === null && cert === null ? null : { ca, cert };
}

/** The target digest of `url` (the resolved connection URL) for connection `name`, with the TLS it trusts (`tls`, tls.ts). */
export function postgresTarget(name: string, url: string, env: NodeJS.ProcessEnv = process.env, tls?: TlsPlan): string {
  const fallbacks = Object.fromEntries(PG_ENV.flatMap((k) => (env[k] ? [[k, env[k]]] : [])));
  // Only with a CA or client certificate: a connection with neither binds as it did before.
  const trust = trustOf(tls);
  const withTrust = (v: Record<string, unknown>) => (trust ? { ...v, tls: trust } : v);
  // node-postgres's socket form, `/var/run/postgresql dbname`, carries no password.
  if (url.startsWith('/')) return digest(withTrust({ socket: url, env: fallbacks }));
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
  return digest(withTrust({ url: u.href, env: fallbacks }));
}

const digest = (v: unknown): string => `sha256:${createHash('sha256').update(JSON.stringify(v), 'utf8').digest('hex')}`;
