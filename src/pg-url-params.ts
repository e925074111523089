/**
 * Query parameters of a PostgreSQL connection URL that Warden lets through. pg reads the URL's
 * parameters OVER the options Warden gives it (pg's ConnectionParameters: `Object.assign({},
 * config, parse(connectionString))`), so `?options=...` replaces the startup `options` whole: the
 * read pool's default_transaction_read_only=on, statement_timeout, the pinned search_path and
 * standard_conforming_strings (the query_database pools), synchronous_commit=on and an auditor's
 * read-only session (the transcript store) are all gone, silently. `statement_timeout=0`,
 * `idle_in_transaction_session_timeout=0`, `query_timeout`, `replication`, `binary` and
 * `client_encoding` do the same piece by piece. A URL copied from a hosting provider often
 * carries one (`options=endpoint%3D...`, `options=-c%20search_path%3D...`). So only the
 * connection's address and login are read from the URL; everything else is refused, by name.
 * Leaf (no imports): the postgres family (through tool-api.ts) and the transcript store use it.
 */

/** Parameters that say where to connect and as whom, and nothing about the session. */
const ADDRESS = new Set(['host', 'port', 'user', 'password']);

const NONE: ReadonlySet<string> = new Set();

/** TLS parameters, left alone here: the store reads them (pg's TLS); the postgres family refuses them itself (tools/postgres/tls.ts). */
const SSL_PARAM = /^(ssl.*|uselibpqcompat|requiressl)$/i;

/** Names printed in an error: pg's own parameter names; anything else is counted, never quoted (the URL is a secret). */
const NAMED = /^(options|statement_timeout|lock_timeout|idle_in_transaction_session_timeout|query_timeout|replication|binary|client_encoding|application_name|fallback_application_name|database|dbname|db|encoding|schema|connect_timeout|target_session_attrs|keepalives\w*)$/;

/**
 * The parameters of `url` that are neither address, login nor TLS, as words for an error: pg's
 * parameter names, plus "N other parameter(s)" for the rest. Read step for step as
 * pg-connection-string reads a URL (a socket path has none; spaces and stray `%` are encoded
 * first; a URL without a host is tried again with one), so what pg would apply is what is seen
 * here, and a `?` inside a password is not read as a query. Empty when pg cannot read the URL
 * either (it then refuses it itself). `allowed`: parameters the caller reads and checks itself
 * (the postgres family's connect_timeout and application_name: tools/postgres/url-params.ts).
 */
export function pgUrlSessionParams(url: string, allowed: ReadonlySet<string> = NONE): string[] {
  const params = readPgUrl(url)?.searchParams;
  if (!params) return [];
  const named = new Set<string>();
  let others = 0;
  for (const key of new Set(params.keys())) {
    if (ADDRESS.has(key) || SSL_PARAM.test(key) || allowed.has(key)) continue;
    if (NAMED.test(key)) named.add(key);
    else others++;
  }
  const out = [...named];
  if (others) out.push(`${others} other parameter${others === 1 ? '' : 's'}`);
  return out;
}

/**
 * A PostgreSQL URL as pg-connection-string reads it (a socket path `/dir dbname`, or a URL pg cannot read: null).
 * Why exported: warden.yaml's check for a password inline in transcripts.store must see what pg sees.
 */
export function readPgUrl(url: string): URL | null {
  if (url.startsWith('/')) return null; // `/socket/dir dbname`: pg reads no parameters from it
  const str = / |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(url) ? encodeURI(url).replace(/%25(\d\d)/g, '%$1') : url;
  try {
    return new URL(str, 'postgres://base');
  } catch {
    try {
      return new URL(str.replace('@/', '@___DUMMY___/'), 'postgres://base');
    } catch {
      return null;
    }
  }
}

/**
 * Where `url` connects as pg reads it: `?host=`/`?port=` over the authority, then PGHOST/PGPORT
 * ('' for the local machine: no host, or a socket path; port 5432 by default). Why: a foreign server
 * an admin vouches for must not name the transcript store's address (tools/postgres/vouched-servers.ts).
 */
export function pgUrlAddress(url: string): { host: string; port: number } {
  const u = readPgUrl(url);
  const name = u && /^[a-z][a-z0-9+.-]*:\/\//i.test(url) && u.hostname !== '___DUMMY___' ? decodeURIComponent(u.hostname) : '';
  const host = u?.searchParams.get('host') || name || process.env['PGHOST'] || '';
  return { host: host.startsWith('/') ? '' : host, port: Number(u?.searchParams.get('port') || u?.port || process.env['PGPORT'] || 5432) };
}
