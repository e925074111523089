/**
 * TLS to PostgreSQL against a real server with `ssl = on` (test/support/pg-tls-cluster.ts) and the
 * default one without TLS: verify-full connects with the right CA and name and fails closed with
 * a wrong CA, a wrong name or no TLS at all; verify-ca checks the chain only; require encrypts
 * without a CA; a client certificate is presented; ssl parameters in the URL are refused; and a
 * cancelled statement is stopped by a CancelRequest sent inside TLS, never in clear. A TLS failure
 * reads the same to the agent whichever query of a call first meets it: the statement's own or a
 * catalog lookup of its analysis (view reader, name checks, field origins, describe_database).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { ExecContext, CallJudge } from '../../../src/tool-api.js';
import { analyzeSql } from '../../../tools/postgres/analysis/index.js';
import { PgConnector, type RunOptions } from '../../../tools/postgres/connector.js';
import { describeDatabaseTool } from '../../../tools/postgres/describe-database.js';
import { queryDatabaseTool } from '../../../tools/postgres/query-database.js';
import type { PostgresConnection } from '../../../tools/postgres/config.js';
import { sendCancelRequest } from '../../../tools/postgres/statement-cancel.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { CERT_USERS, testTlsCluster, type PgTlsCluster } from '../../support/pg-tls-cluster.js';

let tls: PgTlsCluster;
let db: TestDatabase;
let plain: TestDatabase;
const connectors: PgConnector[] = [];

before(async () => {
  tls = await testTlsCluster();
  db = await createTestDatabase({ prefix: 'pgtls', serverUrl: tls.url });
  plain = await createTestDatabase({ prefix: 'pgtls_plain' });
});

after(async () => {
  await Promise.all(connectors.map((c) => c.close()));
  await db?.drop();
  await plain?.drop();
});

/** A connector for `url` with this `tls:` block; its secrets resolve from `refs` (CA/CERT/KEY). */
function connector(url: string, block: Record<string, unknown> | undefined, refs: Record<string, string> = {}): PgConnector {
  // Built as warden.yaml gives it; cast so the file also compiles against a schema without tls.
  const conn = { name: 'main', type: 'postgres', url: 'env:DB', ...(block ? { tls: block } : {}), statement_timeout: 30_000, max_rows: 10, max_bytes: 65536, pool_size: 1 } as unknown as PostgresConnection;
  const values: Record<string, string> = { 'env:DB': url, 'env:CA': tls.ca, 'env:OTHER_CA': tls.otherCa, ...refs };
  const c = new PgConnector(conn, {
    resolve: async (ref) => {
      const v = values[ref];
      if (v === undefined) throw new Error(`unset ${ref}`);
      return v;
    },
  });
  connectors.push(c);
  return c;
}

const ro = (signal?: AbortSignal): RunOptions => ({ readOnly: true, maxRows: 10, timeoutMs: 30_000, ...(signal ? { signal } : {}) });
const SSL_OF_SESSION = 'SELECT ssl FROM pg_catalog.pg_stat_ssl WHERE pid = pg_catalog.pg_backend_pid()';
const sessionSsl = async (c: PgConnector): Promise<string> => String((await c.run(SSL_OF_SESSION, [], ro())).rows[0]![0]);

/** The call fails with WARDEN_BACKEND_ERROR matching `why`, and says nothing secret. */
async function failsClosed(c: PgConnector, why: RegExp): Promise<void> {
  await assert.rejects(c.run('SELECT 1', [], ro()), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'WARDEN_BACKEND_ERROR', e.message);
    assert.match(e.message, why);
    for (const secret of [db.password, plain.password, 'BEGIN', tls.ca.slice(30, 60)]) assert.ok(!e.message.includes(secret), e.message);
    return true;
  });
}

test('verify-full with the right CA and a server_name the certificate carries connects, encrypted', async () => {
  assert.equal(await sessionSsl(connector(db.url, { mode: 'verify-full', ca: 'env:CA', server_name: 'localhost' })), 'true');
  assert.equal(await sessionSsl(connector(db.url, { mode: 'verify-full', ca: 'env:CA' })), 'true', 'no server_name: the URL host 127.0.0.1 is in the SAN');
});

test('verify-full with a CA that did not sign the server certificate fails closed', async () => {
  await failsClosed(connector(db.url, { mode: 'verify-full', ca: 'env:OTHER_CA' }), /TLS to the database failed: the server's certificate does not chain to the configured CA/);
});

test('a TLS failure first met by a catalog lookup reads as the coded TLS error, as one met by the statement does', async () => {
  const UNTRUSTED = "TLS to the database failed: the server's certificate does not chain to the configured CA (tls.ca); no statement was sent";
  const wrongCa = () => connector(db.url, { mode: 'verify-full', ca: 'env:OTHER_CA' });
  // A conditional deny rule: the analysis asks the catalog what the statement's relations reach.
  const judge: CallJudge = { call: () => ({ allowed: true, reason: '', ruleIds: [] }), denies: () => () => ({ allowed: true, reason: '', ruleIds: [] }) };
  const ctx = (extra: Record<string, unknown> = {}) =>
    ({
      principal: { subject: 'agent', groups: [], claims: {}, authMethod: 'stdio' },
      connection: { name: 'main', type: 'postgres', url: 'env:DB', statement_timeout: 30_000, max_rows: 10, max_bytes: 65536, pool_size: 1 },
      limits: { timeoutMs: 30_000, maxRows: 10, maxBytes: 65536 },
      masking: { columns: [], onDerived: 'deny', apply: (v: unknown) => v },
      signal: new AbortController().signal,
      readOnly: true,
      log: () => undefined,
      judge,
      ...extra,
    }) as unknown as ExecContext;
  const query = (sql: string) => queryDatabaseTool(wrongCa).execute({ connection: 'main', sql }, analyzeSql(sql), ctx());
  const calls: [string, () => Promise<unknown>][] = [
    ['a plain statement (its own query meets the failure)', () => query('SELECT 1')],
    ['an unqualified function (the name check asks first)', () => query("SELECT lower('A')")],
    ['a view under a conditional deny (the view reader asks first)', () => query('SELECT id FROM public.some_view')],
    ['describe_database', () => describeDatabaseTool(wrongCa).execute({ connection: 'main' }, { family: 'sql-describe', summary: 'describe' }, ctx({ grants: [{}] }))],
    ['a qualified column check', () => wrongCa().checkQualifiedColumns([{ table: 'public.t', column: 'x' }])],
    ['a field origin', () => wrongCa().fieldOrigin(1259, 1)],
  ];
  for (const [what, call] of calls) {
    await assert.rejects(call(), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WARDEN_BACKEND_ERROR', `${what}: ${e.message}`);
      assert.equal(e.message, UNTRUSTED, what);
      assert.ok(!/self[- ]signed|certificate chain/i.test(e.message), `${what}: ${e.message}`);
      return true;
    }, what);
  }
});

test('a server_name the certificate lacks fails verify-full, and passes verify-ca (chain only)', async () => {
  await failsClosed(connector(db.url, { mode: 'verify-full', ca: 'env:CA', server_name: 'db.internal' }), /does not name the expected host/);
  assert.equal(await sessionSsl(connector(db.url, { mode: 'verify-ca', ca: 'env:CA', server_name: 'db.internal' })), 'true');
  await failsClosed(connector(db.url, { mode: 'verify-ca', ca: 'env:OTHER_CA' }), /does not chain to the configured CA/);
});

test('require encrypts without checking the certificate; no tls: block stays in clear', async () => {
  assert.equal(await sessionSsl(connector(db.url, { mode: 'require' })), 'true');
  assert.equal(await sessionSsl(connector(db.url, undefined)), 'false');
});

test('verify-full and require against a server without TLS fail closed', async () => {
  await failsClosed(connector(plain.url, { mode: 'verify-full', ca: 'env:CA' }), /the server does not accept TLS/);
  await failsClosed(connector(plain.url, { mode: 'require' }), /the server does not accept TLS/);
});

test('a client certificate and key are presented to a server that requires one', async () => {
  await db.query(`GRANT ${CERT_USERS} TO ${db.role}`);
  const { cert, key } = tls.clientCert(db.role);
  assert.equal(await sessionSsl(connector(db.url, { mode: 'verify-full', ca: 'env:CA', cert: 'env:CERT', key: 'env:KEY' }, { 'env:CERT': cert, 'env:KEY': key })), 'true');
  await assert.rejects(connector(db.url, { mode: 'verify-full', ca: 'env:CA' }).run('SELECT 1', [], ro()), (e: Error & { code?: string }) => e.code === 'WARDEN_BACKEND_ERROR' && !e.message.includes(key.slice(40, 80)));
  await db.query(`REVOKE ${CERT_USERS} FROM ${db.role}`);
});

test('ssl parameters in the URL are refused (WARDEN_CONFIG naming the connection, never the URL); sslmode=disable alone is let through', async () => {
  const refused = async (url: string, block: Record<string, unknown> | undefined) =>
    assert.rejects(connector(url, block).run('SELECT 1', [], ro()), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WARDEN_CONFIG', e.message);
      assert.match(e.message, /connection main: its URL carries TLS parameters \(ssl\w*\).*tls: block/);
      assert.ok(!e.message.includes(db.password) && !e.message.includes('127.0.0.1'), e.message);
      return true;
    });
  await refused(`${db.url}?sslmode=require`, { mode: 'verify-full', ca: 'env:CA' });
  await refused(`${db.url}?sslmode=disable`, { mode: 'verify-full', ca: 'env:CA' });
  await refused(`${db.url}?sslmode=require`, undefined);
  await refused(`${db.url}?sslrootcert=/etc/ssl/ca.pem`, undefined);
  assert.equal(await sessionSsl(connector(`${db.url}?sslmode=disable`, undefined)), 'false');
});

/** A TCP relay to the TLS cluster that passes only connections opening with SSLRequest, as a network that allows nothing in clear. */
async function tlsOnlyRelay(target: number): Promise<{ server: Server; port: number; clear: number; encrypted: number }> {
  const stats = { clear: 0, encrypted: 0 };
  const server = createServer((client: Socket) => {
    client.once('data', (first: Buffer) => {
      if (first.length < 8 || first.readInt32BE(0) !== 8 || first.readInt32BE(4) !== 80877103) {
        stats.clear++;
        return client.destroy();
      }
      stats.encrypted++;
      const up = connect(target, '127.0.0.1', () => {
        up.write(first);
        client.pipe(up).pipe(client);
      });
      up.on('error', () => client.destroy());
      client.on('error', () => up.destroy());
    });
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  const port = (server.address() as { port: number }).port;
  return Object.assign(stats, { server, port });
}

test('a cancelled long statement on a TLS connection is stopped by a CancelRequest sent inside TLS', async () => {
  const relay = await tlsOnlyRelay(tls.cluster.port);
  try {
    const url = new URL(db.url);
    url.port = String(relay.port);
    const c = connector(url.toString(), { mode: 'verify-full', ca: 'env:CA' });
    const t0 = Date.now();
    await assert.rejects(c.run('SELECT pg_catalog.pg_sleep(30)', [], ro(AbortSignal.timeout(500))), (e: Error & { code?: string }) => e.code === 'WARDEN_CANCELLED');
    assert.ok(Date.now() - t0 < 2_000, `answered after ${Date.now() - t0} ms (the statement ran to the grace period)`);
    assert.equal(relay.clear, 0, 'nothing was sent in clear');
    assert.ok(relay.encrypted >= 2, `the session and the cancel both went through TLS (${relay.encrypted})`);
    // The backend reports itself idle just after it answers the cancel, so on a loaded machine
    // the first look may still see it active: look again for up to 5 s (a statement the cancel
    // missed would sleep 30 s, so it is still caught).
    const active = async () => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE '%pg_sleep(30)%' AND pid <> pg_backend_pid()`, [db.dbName])).rows[0]!.n;
    let left = await active();
    for (const until = Date.now() + 5_000; left !== 0 && Date.now() < until; left = await active()) await new Promise((r) => setTimeout(r, 50));
    assert.equal(left, 0, 'the statement no longer runs in PostgreSQL');
  } finally {
    relay.server.close();
  }
});

test("a server that answers the CancelRequest's SSLRequest with 'N' is sent nothing in clear", async () => {
  const received: Buffer[] = [];
  const server = createServer((s) => {
    s.on('data', (d: Buffer) => {
      received.push(d);
      if (received.length === 1) s.write('N');
    });
    s.on('error', () => undefined);
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  try {
    const port = (server.address() as { port: number }).port;
    const send = sendCancelRequest as (...a: unknown[]) => Promise<void>;
    await send({ host: '127.0.0.1', port, processID: 4242, secretKey: 77 }, { mode: 'require', ssl: { rejectUnauthorized: false } });
    const all = Buffer.concat(received);
    assert.equal(all.length, 8, `only the SSLRequest was sent (${all.length} bytes)`);
    assert.equal(all.readInt32BE(4), 80877103);
  } finally {
    server.close();
  }
});
