/**
 * A connection on another cluster than the PostgreSQL transcript store's whose role may use a
 * dblink_fdw or postgres_fdw foreign server (or read one of its foreign tables) is refused
 * (tools/postgres/outbound-reach.ts): Warden cannot tell where a server's host leads from the
 * server it is on. The attack: a second cluster, a postgres_fdw server there at the store's
 * address with a user mapping holding the store's login, a foreign table over `settings`; under a
 * plain allow rule the agent read the masking key in clear. Neighbours that must keep working: the
 * same connection while the store is SQLite, and a connection of that cluster whose role may use
 * no foreign server.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, startPgCluster, type PgCluster, type TestDatabase } from '../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, sqlConfig } from '../support/sql-warden.js';
import { connectWarden, writeWardenDir, type WardenSession } from '../support/warden-process.js';

const storeConfig = sqlConfig().replace('transcripts: { store: sqlite:warden.db }', 'transcripts: { store: env:STORE_URL }');

let cluster: PgCluster;
let store: TestDatabase;
let far: TestDatabase;
let quiet: TestDatabase;
let key = '';

before(async () => {
  cluster = await startPgCluster();
  [store, far, quiet] = await Promise.all([
    createTestDatabase({ prefix: 'e2eforeignstore' }),
    createTestDatabase({ prefix: 'e2eforeignfar', serverUrl: cluster.url }),
    createTestDatabase({ prefix: 'e2eforeignquiet', serverUrl: cluster.url }),
  ]);
  await store.query(`GRANT ALL ON SCHEMA public TO ${pg.escapeIdentifier(store.role)}`);
  const lit = pg.escapeLiteral;
  const role = pg.escapeIdentifier(far.role);
  await far.query(`CREATE EXTENSION postgres_fdw;
    CREATE TABLE public.people (id int, email text); INSERT INTO public.people VALUES (1, 'ann@example.com'); GRANT SELECT ON public.people TO ${role};
    CREATE SERVER storefdw FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port ${lit(String(store.port))}, dbname ${lit(store.dbName)});
    CREATE USER MAPPING FOR PUBLIC SERVER storefdw OPTIONS (user ${lit(store.role)}, password ${lit(store.password)});
    CREATE FOREIGN TABLE public.remote_settings (name text, value text) SERVER storefdw OPTIONS (schema_name 'public', table_name 'settings');
    GRANT SELECT ON public.remote_settings TO ${role}`);
  // The neighbour: postgres_fdw installed, no server its role may use.
  await quiet.query(`CREATE EXTENSION postgres_fdw;
    CREATE TABLE public.people (id int, email text); INSERT INTO public.people VALUES (1, 'bob@example.com'); GRANT SELECT ON public.people TO ${pg.escapeIdentifier(quiet.role)}`);
});

after(async () => {
  await Promise.all([far?.drop(), quiet?.drop(), store?.drop()]);
  await cluster?.stop();
});

/** `warden serve` (a plain allow rule, no masks) with the connection `db` at `connUrl` and the store at `storeUrl` (else SQLite). */
async function withWarden(connUrl: string, storeUrl: string | null, fn: (w: WardenSession) => Promise<void>): Promise<void> {
  const dir = writeWardenDir(storeUrl ? storeConfig : sqlConfig(), { 'p.yaml': ANALYSTS_READ_ALL });
  try {
    const w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: connUrl, ...(storeUrl ? { STORE_URL: storeUrl } : {}) });
    try {
      if (storeUrl) key = String((await store.query(`SELECT value FROM public.settings WHERE name = 'masking.hash_key'`)).rows[0]?.value ?? '');
      await fn(w);
    } finally {
      await w.close();
    }
  } finally {
    dir.cleanup();
  }
}

const query = (w: WardenSession, sql: string) => w.call('query_database', { connection: 'db', sql });

test('a connection on another cluster with a foreign server it may use is refused while the store is PostgreSQL, the masking key unread', async () => {
  await withWarden(far.url, store.url, async (w) => {
    assert.ok(key.length > 32, 'the store keeps the masking key');
    for (const sql of ['SELECT name, value FROM public.remote_settings', 'SELECT id, email FROM public.people']) {
      const r = await query(w, sql);
      // Without the fix the first answered the key in clear.
      assert.ok(!r.text.includes(key), `the masking key is not in the answer: ${r.text.slice(0, 300)}`);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
      assert.match(r.text, /^WARDEN_CONFIG: connection db may use foreign servers of dblink or postgres_fdw \(storefdw/, sql);
    }
  });
});

test('the same connection with a SQLite store, and a connection of that cluster with no usable foreign server, are read as before', async () => {
  await withWarden(far.url, null, async (w) => {
    const r = await query(w, 'SELECT id, email FROM public.people');
    assert.equal(r.isError, false, r.text.slice(0, 300));
    assert.match(r.text, /ann@example\.com/);
  });
  await withWarden(quiet.url, store.url, async (w) => {
    const r = await query(w, 'SELECT id, email FROM public.people');
    assert.equal(r.isError, false, r.text.slice(0, 300));
    assert.match(r.text, /bob@example\.com/);
  });
});
