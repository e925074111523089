/**
 * A PostgreSQL approval binds the TLS trust of its connection, not only its configured entry:
 * `tls: { ca: file:/etc/warden/pg-ca.pem }` names a path, the file says whom the connection
 * trusts. Found: a request approved while that file held one CA ran the identical call after a
 * restart (or on a replica of the shared store) where another CA sat at the same path, trusting
 * what may be another server, since neither the entry nor the URL had changed. Bound now as
 * Kubernetes binds its CA (kube-connection-target.test.ts): a digest of the CA and of the client
 * certificate; never the client key, nor a digest of it. A real TLS PostgreSQL cluster, real
 * `warden serve` processes, one SQLite store, the reviewer CLI as its own process.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSqliteStore } from '../../src/recorder/index.js';
import { PgConnector } from '../../tools/postgres/connector.js';
import { postgresTarget } from '../../tools/postgres/connection-target.js';
import type { PostgresConnection } from '../../tools/postgres/config.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { testTlsCluster, type PgTlsCluster } from '../support/pg-tls-cluster.js';
import { ownTables } from '../support/sql-warden.js';
import { connectWarden, writeWardenDir, type WardenDir } from '../support/warden-process.js';
import { approvalsCli } from './support.js';

const POLICY = `rules:
  - id: wipe-with-approval
    effect: allow
    who: { groups: [sre] }
    tool: query_database
    on: [db]
    sql: { statements: [delete], write: [public.orders] }
    approval: { reviewers: { groups: [dba] }, approvals: 1, expires: 30m, wait: 0s }
`;

let tls: PgTlsCluster;
let db: TestDatabase;
let dir: WardenDir;

before(async () => {
  tls = await testTlsCluster();
  db = await createTestDatabase({ prefix: 'warden_tls_target', serverUrl: tls.url });
  await db.query('CREATE TABLE public.orders (id int PRIMARY KEY)');
  await db.query('INSERT INTO public.orders VALUES (1), (2)');
  await ownTables(db, ['orders']);
  dir = writeWardenDir(
    `transcripts: { store: sqlite:warden.db }
identity: { stdio: { subject: sam, groups: [sre] } }
connections:
  db: { type: postgres, url: env:TEST_DATABASE_URL, statement_timeout: 3s, tls: { mode: verify-ca, ca: "file:${join('DIR', 'pg-ca.pem')}" } }
policies: [policies/*.yaml]
`,
    { 'p.yaml': POLICY },
  );
  // The CA file lives in the config folder, made only now.
  writeFileSync(dir.configPath, readFileSync(dir.configPath, 'utf8').replace('DIR', dir.dir));
});

after(async () => {
  await db?.drop();
  dir?.cleanup();
});

/** One `warden serve` whose CA file (same path, same entry, same URL) holds `ca`: the call, then it stops. */
async function callTrusting(ca: string, sql: string) {
  writeFileSync(join(dir.dir, 'pg-ca.pem'), ca, { mode: 0o600 });
  const w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: db.url });
  try {
    return await w.call('query_database', { connection: 'db', sql });
  } finally {
    await w.close();
  }
}

const rows = async () => (await db.query<{ id: number }>('SELECT id FROM public.orders ORDER BY id')).rows.map((r) => r.id);

test('an approval given while the CA file held one CA does not run the call once another CA sits at the same path', async () => {
  const sql = 'DELETE FROM orders WHERE id = 1';
  const first = await callTrusting(tls.ca, sql);
  assert.match(first.text, /^WARDEN_APPROVAL_PENDING/, first.text);
  const store = openSqliteStore(dir.dbPath);
  const [req] = await store.approvals.list({ state: 'pending' });
  await store.close();
  assert.ok(req, 'a pending request');
  const ok = await approvalsCli(['approve', req.id, '--config', dir.configPath, '--as', 'dana', '--groups', 'dba', '--comment', 'fine']);
  assert.equal(ok.code, 0, ok.err);

  const swapped = await callTrusting(tls.otherCa, sql);
  assert.match(swapped.text, /^WARDEN_APPROVAL_PENDING/, `the approval ran under another CA: ${swapped.text}`);
  const after = openSqliteStore(dir.dbPath);
  assert.equal((await after.approvals.get(req.id))?.state, 'approved', 'not used up under the other CA');
  await after.close();

  // Trusting the CA it was given under again, the approval runs the call, once.
  const same = await callTrusting(tls.ca, sql);
  assert.equal(same.isError, false, same.text);
  assert.deepEqual(await rows(), [2]);
});

/** The approval target of a connector whose `tls:` refs resolve to `values`. */
function targetOf(block: Record<string, unknown>, values: Record<string, string>): Promise<string> {
  const conn = { name: 'db', type: 'postgres', url: 'env:DB', tls: block, statement_timeout: 30_000, max_rows: 10, max_bytes: 65536, pool_size: 1 } as unknown as PostgresConnection;
  const all: Record<string, string> = { 'env:DB': 'postgres://u:secret@127.0.0.1:5432/d', ...values };
  const c = new PgConnector(conn, { resolve: async (ref) => all[ref] ?? Promise.reject(new Error(`unset ${ref}`)) });
  return c.target();
}

test('the target binds the CA and the client certificate by their contents, and never the client key', async () => {
  const a = tls.clientCert('alice');
  const b = tls.clientCert('bob');
  const block = { mode: 'verify-ca', ca: 'env:CA', cert: 'env:CERT', key: 'env:KEY' };
  const base = await targetOf(block, { 'env:CA': tls.ca, 'env:CERT': a.cert, 'env:KEY': a.key });
  assert.match(base, /^sha256:[0-9a-f]{64}$/);
  assert.notEqual(await targetOf(block, { 'env:CA': tls.otherCa, 'env:CERT': a.cert, 'env:KEY': a.key }), base, 'another CA is another target');
  assert.notEqual(await targetOf(block, { 'env:CA': tls.ca, 'env:CERT': b.cert, 'env:KEY': a.key }), base, 'another client certificate is another target');
  // The key is no part of it: a rotated key (with its certificate unchanged) is the same target.
  assert.equal(await targetOf(block, { 'env:CA': tls.ca, 'env:CERT': a.cert, 'env:KEY': b.key }), base);
  // With neither a CA nor a client certificate the target is what it was (the URL only): the
  // pending approvals of such connections stay valid across the upgrade.
  for (const plain of [{ mode: 'require' }, { mode: 'disable' }]) {
    assert.equal(await targetOf(plain, {}), postgresTarget('db', 'postgres://u:secret@127.0.0.1:5432/d'), JSON.stringify(plain));
  }
});
