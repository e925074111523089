/**
 * TLS to PostgreSQL, from a connection's `tls:` block (config.ts), with libpq's meanings:
 * `require` encrypts without checking the certificate, `verify-ca` checks its chain against `ca`,
 * `verify-full` checks the chain and that the certificate names the server (`server_name`, else
 * the URL host). The same options serve the pool (pg's `ssl` option) and the CancelRequest
 * (statement-cancel.ts), so a cancel never goes in clear where the session is encrypted.
 *
 * TLS is configured here only: ssl parameters in the URL (sslmode, sslrootcert, ...) are refused,
 * since pg would let them override the `ssl` option with its own reading of sslmode (its
 * `require` is not libpq's) and read files the secret resolver never checked.
 */
import { checkServerIdentity, type ConnectionOptions } from 'node:tls';
import { ErrorCode, WardenError, type SecretResolver } from '../../src/tool-api.js';
import type { PostgresConnection, TlsMode } from './config.js';

/** What one connection does about TLS: pg's `ssl` option, and the mode the cancel obeys. */
export interface TlsPlan {
  mode: TlsMode;
  /** false for mode disable; else the options of tls.connect (pg passes them through). */
  ssl: false | ConnectionOptions;
}

/** Query parameters of a connection URL that configure TLS (pg, pg-connection-string and libpq spellings). */
const SSL_PARAM = /^(ssl.*|uselibpqcompat|requiressl)$/i;

/**
 * Refuse a URL that carries ssl parameters (WARDEN_CONFIG, naming the connection and the
 * parameter names, never the URL). Only `sslmode=disable` is let through, and only when the
 * connection has no TLS either (no `tls:` block, or mode disable): it says what is done anyway.
 */
export function refuseSslInUrl(url: string, conn: Pick<PostgresConnection, 'name' | 'tls'>): void {
  const q = url.indexOf('?');
  if (q < 0) return;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(url.slice(q + 1).split('#')[0]);
  } catch {
    return; // pg refuses it itself, without our help
  }
  const off = (conn.tls?.mode ?? 'disable') === 'disable';
  const found = [...new Set([...params.entries()].filter(([k, v]) => SSL_PARAM.test(k) && !(off && k === 'sslmode' && v === 'disable')).map(([k]) => k))];
  if (found.length === 0) return;
  const names = found.map((k) => (/^[A-Za-z0-9_]{1,40}$/.test(k) ? k : 'ssl...')).join(', ');
  throw new WardenError(
    ErrorCode.CONFIG,
    `connection ${conn.name}: its URL carries TLS parameters (${names}); TLS is set by the connection's tls: block only (tls: { mode: verify-full, ca: file:... }); remove them from the URL`,
    { reason: 'ssl parameters in the connection URL' },
  );
}

/** Resolve the `tls:` block's secret references and build the options both sockets use. */
export async function tlsPlan(conn: Pick<PostgresConnection, 'tls'>, secrets: SecretResolver): Promise<TlsPlan> {
  const t = conn.tls;
  if (!t || t.mode === 'disable') return { mode: 'disable', ssl: false };
  const [ca, cert, key] = await Promise.all([t.ca, t.cert, t.key].map((r) => (r === undefined ? undefined : secrets.resolve(r))));
  const ssl: ConnectionOptions = { rejectUnauthorized: t.mode !== 'require' };
  if (ca !== undefined) ssl.ca = ca;
  if (cert !== undefined) ssl.cert = cert;
  if (key !== undefined) ssl.key = key;
  if (t.server_name !== undefined) ssl.servername = t.server_name;
  if (t.mode === 'verify-ca') ssl.checkServerIdentity = () => undefined;
  if (t.mode === 'verify-full') {
    // Checked here rather than left to tls.connect: pg replaces `servername` with the URL host
    // whenever that is a name, and server_name must win.
    const expected = t.server_name;
    ssl.checkServerIdentity = (host, peer) => checkServerIdentity(expected ?? host, peer);
  }
  return { mode: t.mode, ssl };
}

/** Node's certificate-chain error codes: the certificate does not lead to the configured CA. */
const UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_SIGNATURE_FAILURE', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'INVALID_CA',
]);

/**
 * A TLS failure of a connection attempt as a coded WARDEN_BACKEND_ERROR saying which check
 * failed, or null when `e` is not one. Never the underlying message: it can name hosts and
 * certificate fields, and says nothing an operator needs beyond this.
 */
export function tlsFailure(e: unknown): WardenError | null {
  const err = e as { code?: unknown; message?: unknown } | null;
  const code = typeof err?.code === 'string' ? err.code : '';
  const msg = typeof err?.message === 'string' ? err.message : '';
  const fail = (why: string) => new WardenError(ErrorCode.BACKEND, `TLS to the database failed: ${why}; no statement was sent`, { reason: 'tls' });
  if (msg === 'The server does not support SSL connections') return fail("the server does not accept TLS and the connection's tls.mode requires it");
  if (UNTRUSTED.has(code)) return fail("the server's certificate does not chain to the configured CA (tls.ca)");
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return fail("the server's certificate does not name the expected host (tls.server_name, else the URL host)");
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return fail("the server's certificate is outside its validity period");
  if (msg === 'There was an error establishing an SSL connection') return fail('the server answered the TLS request with an error');
  if (/^ERR_(SSL|OSSL|TLS)_/.test(code) || /SSL routines|DECODER routines|PEM routines/.test(msg)) return fail('the TLS handshake or the tls.ca/cert/key material was refused');
  return null;
}
