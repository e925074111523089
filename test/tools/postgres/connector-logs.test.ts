/**
 * What a failed connection leaves in the server's logs, through a real `warden serve` logging at
 * debug: a verify-full connection with a CA that did not sign the server certificate (and a client
 * certificate and key configured), and a URL with a wrong password against the default cluster.
 * No log line carries the password, the URL or any PEM text, nor the driver's own message, and
 * the agent gets a coded error, whether the failure is first met by a catalog lookup of the
 * statement's analysis or by the statement itself.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { testTlsCluster, type PgTlsCluster } from '../../support/pg-tls-cluster.js';
import { ANALYSTS_READ_ALL, NO_KEYS_DENY, sqlConfig } from '../../support/sql-warden.js';
import { connectWarden, writeWardenDir, type WardenDir, type WardenSession } from '../../support/warden-process.js';

const WRONG_PASSWORD = 'Wr0ng-pa55word-7f3c91';

let tls: PgTlsCluster;
let tlsDb: TestDatabase;
let plain: TestDatabase;
let dir: WardenDir;
let w: WardenSession;
let secrets: string[];

before(async () => {
  tls = await testTlsCluster();
  [tlsDb, plain] = await Promise.all([createTestDatabase({ prefix: 'pglog_tls', serverUrl: tls.url }), createTestDatabase({ prefix: 'pglog' })]);
  const badUrl = new URL(plain.url);
  badUrl.password = WRONG_PASSWORD;
  const { cert, key } = tls.clientCert(tlsDb.role);
  // sqlConfig's connection `db` (TEST_DATABASE_URL) gets the wrong password; `secure` is TLS with the wrong CA.
  const config = sqlConfig().replace(
    /^(\s*)db: (.*)$/m,
    '$1db: $2\n$1secure: { type: postgres, url: env:TLS_DATABASE_URL, statement_timeout: 3s, tls: { mode: verify-full, ca: env:PG_CA, cert: env:PG_CERT, key: env:PG_KEY } }',
  );
  assert.match(config, /secure: \{ type: postgres/);
  const policy = ANALYSTS_READ_ALL.replace('on: [db]', 'on: [db, secure]') + NO_KEYS_DENY;
  dir = writeWardenDir(config, { 'p.yaml': policy });
  w = await connectWarden(dir.configPath, {
    TEST_DATABASE_URL: badUrl.toString(),
    TLS_DATABASE_URL: tlsDb.url,
    PG_CA: tls.otherCa,
    PG_CERT: cert,
    PG_KEY: key,
    WARDEN_LOG_LEVEL: 'debug',
  });
  const pemBody = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  secrets = [WRONG_PASSWORD, plain.password, tlsDb.password, badUrl.toString(), tlsDb.url, 'BEGIN', 'PRIVATE KEY', ...[cert, key, tls.otherCa].map((p) => pemBody(p).slice(20, 60))];
});

after(async () => {
  await w?.close();
  dir?.cleanup();
  await Promise.all([tlsDb?.drop(), plain?.drop()]);
});

/** Each call, on `connection`, fails with WARDEN_BACKEND_ERROR matching `coded` and quoting nothing secret. */
async function failsCoded(connection: string, coded: RegExp): Promise<void> {
  const calls: [string, Record<string, unknown>][] = [
    ['query_database', { connection, sql: 'SELECT 1' }],
    // The conditional deny makes the analysis ask the catalog about public.users before it runs.
    ['query_database', { connection, sql: 'SELECT id FROM public.users' }],
    ['query_database', { connection, sql: "SELECT lower('A')" }],
    ['describe_database', { connection }],
  ];
  for (const [tool, args] of calls) {
    const what = `${tool} ${JSON.stringify(args)}`;
    const r = await w.call(tool, args);
    assert.equal(r.isError, true, `${what}: ${r.text}`);
    assert.match(r.text, /^WARDEN_BACKEND_ERROR: /, what);
    assert.match(r.text, coded, what);
    for (const s of secrets) assert.ok(!r.text.includes(s), `${what} quotes ${s}: ${r.text}`);
  }
}

/** The server's log lines so far quote no secret and none of the driver's own wording. */
function logsClean(driverWords: RegExp): void {
  const logs = w.stderr();
  for (const s of secrets) assert.ok(!logs.includes(s), `the logs quote ${s}:\n${logs}`);
  assert.doesNotMatch(logs, driverWords, logs);
}

test('a TLS connection whose server certificate does not chain to the CA: coded error, logs hold no key, certificate or URL', async () => {
  await failsCoded('secure', /TLS to the database failed: the server's certificate does not chain to the configured CA \(tls\.ca\); no statement was sent$/);
  logsClean(/self[- ]signed|certificate chain/i);
});

test('a connection URL with a wrong password: coded error, logs hold neither password nor URL', async () => {
  await failsCoded('db', /invalid authorization specification \(SQLSTATE 28P01\)/);
  logsClean(/password authentication failed/i);
});
