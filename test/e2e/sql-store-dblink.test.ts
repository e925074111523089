/**
 * A query_database connection on the PostgreSQL transcript store's cluster that can reach the
 * store from SQL is refused (tools/postgres/outbound-reach.ts). The
 * attack: the store in a database of its own (store-reach's own check sees nothing in the
 * agent's database), and in the agent's database dblink or postgres_fdw usable by its role: a
 * foreign server an admin left with a user mapping, or a superuser login (trust on loopback needs
 * no password), or EXECUTE on pg_read_binary_file (the store's pages). Under a plain allow rule (no masks, no deny rules) the agent read the store's
 * `settings` (the `hash` masking key) through `dblink('server', 'SELECT ...')` or a foreign
 * table. Neighbours that must keep working: a database of the same cluster where dblink is
 * installed but its role may not execute it, and a connection whose store is SQLite.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, sqlConfig } from '../support/sql-warden.js';
import { connectWarden, writeWardenDir, type WardenSession } from '../support/warden-process.js';

const storeConfig = sqlConfig().replace('transcripts: { store: sqlite:warden.db }', 'transcripts: { store: env:STORE_URL }');

let store: TestDatabase;
let app: TestDatabase;
let quiet: TestDatabase;
let key = '';

before(async () => {
  [store, app, quiet] = await Promise.all([
    createTestDatabase({ prefix: 'e2edblinkstore' }),
    createTestDatabase({ prefix: 'e2edblinkapp' }),
    createTestDatabase({ prefix: 'e2edblinkquiet' }),
  ]);
  await store.query(`GRANT ALL ON SCHEMA public TO ${pg.escapeIdentifier(store.role)}`);
  const role = pg.escapeIdentifier(app.role);
  const lit = pg.escapeLiteral;
  // What an admin left in the agent's database: dblink and postgres_fdw, a server of each at the
  // store's database with a user mapping holding the store's login, usable by the agent's role.
  await app.query(`CREATE EXTENSION dblink; CREATE EXTENSION postgres_fdw;
    CREATE TABLE public.people (id int, email text); INSERT INTO public.people VALUES (1, 'ann@example.com'); GRANT SELECT ON public.people TO ${role};
    CREATE SERVER storelink FOREIGN DATA WRAPPER dblink_fdw OPTIONS (host '127.0.0.1', port ${lit(String(store.port))}, dbname ${lit(store.dbName)});
    CREATE USER MAPPING FOR PUBLIC SERVER storelink OPTIONS (user ${lit(store.role)}, password ${lit(store.password)});
    GRANT USAGE ON FOREIGN SERVER storelink TO ${role};
    CREATE SERVER storefdw FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port ${lit(String(store.port))}, dbname ${lit(store.dbName)});
    CREATE USER MAPPING FOR PUBLIC SERVER storefdw OPTIONS (user ${lit(store.role)}, password ${lit(store.password)});
    CREATE FOREIGN TABLE public.remote_settings (name text, value text) SERVER storefdw OPTIONS (schema_name 'public', table_name 'settings');
    GRANT SELECT ON public.remote_settings TO ${role}`);
  // The neighbour: dblink installed, its functions not executable by the role, no server it may use.
  await quiet.query(`CREATE EXTENSION dblink; REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
    CREATE TABLE public.people (id int, email text); INSERT INTO public.people VALUES (1, 'bob@example.com'); GRANT SELECT ON public.people TO ${pg.escapeIdentifier(quiet.role)}`);
});

after(async () => {
  await Promise.all([app?.drop(), quiet?.drop()]);
  await store?.drop();
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

/**
 * A read of the store's masking key through dblink_exec (it returns text, so no column definition
 * list, which Warden's parser does not take): the remote DO block names a column after the key,
 * and the remote 42703 error, passed on by dblink, quotes it.
 */
const KEY_AS_COLUMN_NAME = (conn: string): string =>
  `SELECT public.dblink_exec('${conn.replace(/'/g, "''")}', 'DO $d$ BEGIN EXECUTE ''SELECT '' || (SELECT quote_ident(value) FROM public.settings WHERE name = ''masking.hash_key''); END $d$')`;

const query = (w: WardenSession, sql: string) => w.call('query_database', { connection: 'db', sql });

function refusedAsReach(r: { isError: boolean; text: string }, sql: string, why: RegExp): void {
  assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
  assert.match(r.text, /^WARDEN_CONFIG: connection db is on the cluster of the Warden transcript store and can reach it from SQL/, sql);
  assert.match(r.text, why, sql);
  // A 42703 message quotes the key cut to 63 bytes (NAMEDATALEN): its first half stands for it.
  assert.ok(key.length > 32 && !r.text.includes(key.slice(0, 32)), 'the masking key is not in the answer');
}

test('a connection on the store cluster with a dblink or postgres_fdw server it may use is refused, the masking key unread', async () => {
  await withWarden(app.url, store.url, async (w) => {
    // Without the fix each of the first two answered the key: in a 42703 message, in clear.
    for (const sql of [
      KEY_AS_COLUMN_NAME('storelink'),
      'SELECT name, value FROM public.remote_settings',
      'SELECT id, email FROM public.people',
    ]) refusedAsReach(await query(w, sql), sql, /dblink|storelink|storefdw/);
    const d = await w.call('describe_database', { connection: 'db' });
    assert.equal(d.isError, true, 'describe_database is refused too');
    assert.match(d.text, /WARDEN_CONFIG/);
  });
});

test('a superuser login on the store cluster is refused (trust on loopback: dblink needs no password)', async () => {
  await withWarden(app.adminUrl, store.url, async (w) => {
    const sql = KEY_AS_COLUMN_NAME(`host=127.0.0.1 port=${store.port} dbname=${store.dbName} user=postgres`);
    refusedAsReach(await query(w, sql), sql, /superuser/);
  });
});

test('a role granted EXECUTE on pg_read_binary_file on the store cluster is refused (the store\'s data files are in the data directory)', async () => {
  const path = String((await store.query(`SELECT pg_catalog.pg_relation_filepath('public.settings') AS p`)).rows[0]?.p);
  await store.query('CHECKPOINT');
  await quiet.query(`GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) TO ${pg.escapeIdentifier(quiet.role)}`);
  try {
    await withWarden(quiet.url, store.url, async (w) => {
      await store.query('CHECKPOINT');
      const sql = `SELECT (pg_catalog.regexp_match(pg_catalog.encode(pg_catalog.pg_read_binary_file('${path}'), 'escape'), '[0-9a-f]{64}'))[1] AS k`;
      // Without the fix this answered the key (the page of settings, its text run of 64 hex digits).
      refusedAsReach(await query(w, sql), sql, /pg_read_binary_file/);
    });
  } finally {
    await quiet.query(`REVOKE EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) FROM ${pg.escapeIdentifier(quiet.role)}`);
  }
});

test('a database of the same cluster whose role may use neither extension works', async () => {
  await withWarden(quiet.url, store.url, async (w) => {
    const r = await query(w, 'SELECT id, email FROM public.people');
    assert.equal(r.isError, false, r.text.slice(0, 300));
    assert.match(r.text, /bob@example\.com/);
    const s = await query(w, KEY_AS_COLUMN_NAME(`host=127.0.0.1 port=${store.port} dbname=${store.dbName} user=postgres`));
    assert.equal(s.isError, true);
    assert.match(s.text, /permission denied for function dblink_exec/);
    assert.doesNotMatch(s.text, /WARDEN_CONFIG/, 'refused by PostgreSQL (no EXECUTE), not as a store reach');
  });
});

test('with a SQLite store the same dblink-enabled connection is read as before', async () => {
  await withWarden(app.url, null, async (w) => {
    const r = await query(w, 'SELECT id, email FROM public.people');
    assert.equal(r.isError, false, r.text.slice(0, 300));
    assert.match(r.text, /ann@example\.com/);
  });
});
