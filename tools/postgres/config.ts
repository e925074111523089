/**
 * The `type: postgres` connection entry. Credentials are a reference (env:/file:) to a URL;
 * the agent never sees or supplies it. TLS to the server is the `tls:` block only (tls.ts):
 * ssl parameters in the URL are refused when the URL is read.
 */
import { z } from 'zod';
import type { ConnectionType } from '../../src/tool-api.js';
import { byteCap } from '../shared/byte-cap.js';
import { connectionDuration as duration } from '../shared/duration.js';

const ref = z.string().regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, 'must be a secret reference: env:NAME or file:/path (inline secrets are refused)');

/** libpq's sslmode values Warden supports (no `allow`/`prefer`: a mode either requires TLS or never uses it). */
export const TLS_MODES = ['disable', 'require', 'verify-ca', 'verify-full'] as const;
export type TlsMode = (typeof TLS_MODES)[number];

/** The `tls:` block: libpq's meanings for the modes; ca/cert/key are secret references to PEM text. */
export const postgresTlsSchema = z
  .object({
    mode: z
      .enum(TLS_MODES)
      .describe('disable: no TLS; require: encrypted, the certificate is not checked; verify-ca: the chain must lead to `ca`; verify-full: chain and host name (server_name, else the URL host)'),
    ca: ref.optional().describe('PEM of the CA(s) the server certificate must chain to (verify-ca: required; verify-full: default the public CAs Node trusts)'),
    cert: ref.optional().describe('PEM client certificate (with key), for servers that ask for one'),
    key: ref.optional().describe('PEM private key of the client certificate'),
    server_name: z
      .string()
      .regex(/^[A-Za-z0-9.:*-]+$/, 'must be a host name or IP address')
      .max(253)
      .optional()
      .describe('the SNI name sent and, under verify-full, the name the server certificate must carry; default the URL host'),
  })
  .strict()
  .superRefine((t, ctx) => {
    const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    if ((t.cert === undefined) !== (t.key === undefined)) problem(t.cert === undefined ? 'cert' : 'key', 'cert and key go together');
    if (t.mode === 'disable') {
      for (const k of ['ca', 'cert', 'key', 'server_name'] as const) if (t[k] !== undefined) problem(k, 'not used with mode: disable');
    }
    if (t.mode === 'require') {
      // libpq would verify the chain when a root certificate is present; say which one is meant.
      if (t.ca !== undefined) problem('ca', 'mode: require does not check the certificate; use mode: verify-ca or verify-full with a ca');
    }
    if (t.mode === 'verify-ca' && t.ca === undefined) problem('ca', 'verify-ca needs a ca (with the public CAs any of their customers would pass); or use verify-full');
  });

/** A foreign server's name (trusted_foreign_servers): at most 63 bytes (NAMEDATALEN), no control characters. */
const serverName = z
  .string()
  .min(1)
  .refine((n) => Buffer.byteLength(n) <= 63 && !/[\u0000-\u001f\u007f]/.test(n), 'a PostgreSQL foreign server name: at most 63 bytes, no control characters');

/** Schema of a postgres connection (name and type are handled by the config loader). */
export const postgresConnectionSchema = z
  .object({
    url: ref.describe('Secret reference to the connection URL (postgres://user:password@host:5432/db), credentials included; the agent never sees it. TLS parameters (sslmode, ...) in it are refused: use tls:'),
    tls: postgresTlsSchema.optional().describe('TLS to the server (libpq sslmode meanings). Omitted: no TLS'),
    // prefault: the default is written as in warden.yaml (the published schema and reference show it so).
    statement_timeout: duration
      .prefault('5s')
      .describe('PostgreSQL statement_timeout of every statement (reads, writes, describe_database); a statement past it is cancelled (WARDEN_TIMEOUT). Warden also gives up on a server that does not answer 5s after it'),
    max_rows: z.number().int().min(1).max(1_000_000).default(1000).describe('Most rows one query_database call returns; the agent may ask for fewer, never more. The rest is cut and the result marked truncated'),
    max_bytes: byteCap('Size cap on the rows one query_database call returns (at most limits.max_result_bytes; about the text length of their values; arrays, json and bytea by their text); rows past it are cut and the result marked truncated. A statement whose answer passes four times this plus 64 KiB on the wire is stopped there: a read returns the rows before, truncated, a write is refused and rolled back'),
    pool_size: z.number().int().min(1).max(100).default(5).describe('Sessions Warden keeps to this database per pool; reads and writes have a pool each, so up to twice this'),
    max_per_principal: z
      .number()
      .int()
      .min(1)
      .max(100)
      .optional()
      .describe(
        "Most sessions of each pool that one principal's statements hold at once (default pool_size - 1, at least 1), so another principal always finds one; past it a call waits behind that principal's own calls for the pool's wait (5s, or the URL's connect_timeout), then is refused (WARDEN_RATE_LIMITED). At most pool_size",
      ),
    trusted_foreign_servers: z
      .array(serverName)
      .refine((xs) => new Set(xs).size === xs.length, 'each server once')
      .optional()
      .describe(
        "PostgreSQL transcript store only: foreign servers (pg_foreign_server.srvname, exactly) of dblink or postgres_fdw in this connection's database that the admin states do not lead to the store's cluster. A connection on another cluster than the store's whose role may use such a server is otherwise refused; listed ones are let through there (never on the store's own cluster). The list vouches for the name: a listed name that is no server of the database, a server the connection's role (or a role it can act as) owns, or one whose host and port options name the store URL's are refused (WARDEN_CONFIG)",
      ),
    description: z.string().optional().describe('Shown to agents by list_connections'),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.max_per_principal !== undefined && c.max_per_principal > c.pool_size) ctx.addIssue({ code: 'custom', path: ['max_per_principal'], message: `must be at most pool_size (${c.pool_size})` });
  });

/** A validated `tls:` block. */
export interface PostgresTls {
  mode: TlsMode;
  ca?: string;
  cert?: string;
  key?: string;
  server_name?: string;
}

/** A validated postgres connection. */
export interface PostgresConnection {
  name: string;
  type: 'postgres';
  url: string;
  /** Absent: no TLS (mode disable). */
  tls?: PostgresTls;
  statement_timeout: number;
  max_rows: number;
  max_bytes: number;
  pool_size: number;
  /** Sessions of each pool one principal's statements hold at most; absent: pool_size - 1, at least 1 (connector.ts). */
  max_per_principal?: number;
  /** Foreign servers the admin vouches do not lead to a PostgreSQL transcript store's cluster (vouched-servers.ts); absent: none. */
  trusted_foreign_servers?: string[];
  description?: string;
}

/** The family's connection type as reading warden.yaml needs it, without its tools (tools/connection-types.ts). */
export const postgresConnectionType: ConnectionType = { name: 'postgres', connectionType: 'postgres', connectionSchema: postgresConnectionSchema };
