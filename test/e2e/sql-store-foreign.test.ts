/**
 * A connection on another cluster than the PostgreSQL transcript store's whose role may use a
 * dblink_fdw or postgres_fdw foreign server (or read one of its foreign tables) is refused
 * (tools/postgres/outbound-reach.ts): Warden cannot tell where a server's host leads from the
 * server it is on. The attack: a second cluster, a postgres_fdw server there at the store's
 * address with a user mapping holding the store's login, a foreign table over `settings`; under a
 * plain allow rule the agent read the masking key in clear. Neighbours that must keep working: the
 * same connection while the store is SQLite, and a connection of that cluster whose role may use
 * no foreign server. The opt-out: a connection's trusted_foreign_servers lets those servers through
 * on another cluster only (vouched-servers.ts), never one that is missing, that the connection's
 * role could repoint (its owner), or whose options name the store's host and port.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import pg from 'pg';
import { createTestDatabase, startPgCluster, type PgCluster, type TestDatabase } from '../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, sqlConfig } from '../support/sql-warden.js';
import { connectWarden, writeWardenDir, type WardenSession } from '../support/warden-process.js';

const storeConfig = sqlConfig().replace('transcripts: { store: sqlite:warden.db }', 'transcripts: { store: env:STORE_URL }');

let cluster: PgCluster;
let store: TestDatabase;
let far: TestDatabase;
let quiet: TestDatabase;
let vouch: TestDatabase;
let near: TestDatabase;
let alias: TestDatabase;
let key = '';

before(async () => {
  cluster = await startPgCluster();
  [store, far, quiet, vouch, near, alias] = await Promise.all([
    createTestDatabase({ prefix: 'e2eforeignstore' }),
    createTestDatabase({ prefix: 'e2eforeignfar', serverUrl: cluster.url }),
    createTestDatabase({ prefix: 'e2eforeignquiet', serverUrl: cluster.url }),
    createTestDatabase({ prefix: 'e2eforeignvouch', serverUrl: cluster.url }),
    createTestDatabase({ prefix: 'e2eforeignnear' }),
    createTestDatabase({ prefix: 'e2eforeignalias', serverUrl: cluster.url }),
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
  // A server an admin vouches for: `reporting`, into quiet's people (not the store), in vouch and
  // far (both on the other cluster) and in near (on the store's cluster).
  const reporting = (db: TestDatabase) => `CREATE EXTENSION IF NOT EXISTS postgres_fdw;
    CREATE SERVER reporting FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host ${lit(quiet.host)}, port ${lit(String(quiet.port))}, dbname ${lit(quiet.dbName)});
    CREATE USER MAPPING FOR PUBLIC SERVER reporting OPTIONS (user ${lit(quiet.role)}, password ${lit(quiet.password)});
    CREATE FOREIGN TABLE public.remote_people (id int, email text) SERVER reporting OPTIONS (schema_name 'public', table_name 'people');
    GRANT SELECT ON public.remote_people TO ${pg.escapeIdentifier(db.role)}; GRANT USAGE ON FOREIGN SERVER reporting TO ${pg.escapeIdentifier(db.role)}`;
  await Promise.all([vouch.query(reporting(vouch)), far.query(reporting(far)), near.query(reporting(near))]);
  // Servers at the store's address spelled otherwise than its URL (127.0.0.1): each one granted and vouched for in turn (grantOnly).
  const spelled = (name: string, where: string) => `CREATE SERVER ${name} FOREIGN DATA WRAPPER postgres_fdw OPTIONS (${where}, port ${lit(String(store.port))}, dbname ${lit(store.dbName)});
    CREATE USER MAPPING FOR PUBLIC SERVER ${name} OPTIONS (user ${lit(store.role)}, password ${lit(store.password)});
    CREATE FOREIGN TABLE public.${name}_settings (name text, value text) SERVER ${name} OPTIONS (schema_name 'public', table_name 'settings')`;
  await alias.query(`CREATE EXTENSION postgres_fdw; ${spelled('short', "host '127.1'")}; ${spelled('numeric', "host '2130706433'")};
    ${spelled('named', `host ${lit(hostname())}`)}; ${spelled('byaddr', "host 'reports.invalid', hostaddr '127.0.0.1'")}; ${spelled('nowhere', "host 'nowhere.invalid'")}`);
});

after(async () => {
  await Promise.all([far?.drop(), quiet?.drop(), vouch?.drop(), near?.drop(), alias?.drop(), store?.drop()]);
  await cluster?.stop();
});

/** `warden serve` (a plain allow rule, no masks) with the connection `db` at `connUrl` (vouching for `trusted`) and the store at `storeUrl` (else SQLite). */
async function withWarden(connUrl: string, storeUrl: string | null, fn: (w: WardenSession) => Promise<void>, trusted?: string[]): Promise<void> {
  const config = storeUrl ? storeConfig : sqlConfig();
  const vouching = trusted ? config.replace('statement_timeout: 3s }', `statement_timeout: 3s, trusted_foreign_servers: [${trusted.join(', ')}] }`) : config;
  assert.equal(vouching.includes('trusted_foreign_servers'), trusted !== undefined);
  const dir = writeWardenDir(vouching, { 'p.yaml': ANALYSTS_READ_ALL });
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
      assert.match(r.text, /^WARDEN_CONFIG: connection db may use foreign servers of dblink or postgres_fdw \(reporting, storefdw\)/, sql);
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

test('trusted_foreign_servers: a listed server lets a connection on another cluster open, and a query through its foreign table runs', async () => {
  await withWarden(vouch.url, store.url, async (w) => {
    const r = await query(w, 'SELECT id, email FROM public.remote_people');
    assert.equal(r.isError, false, r.text.slice(0, 300));
    assert.match(r.text, /bob@example\.com/);
  }, ['reporting']);
  // Unlisted, the same connection is refused as before.
  await withWarden(vouch.url, store.url, async (w) => {
    const r = await query(w, 'SELECT id, email FROM public.remote_people');
    assert.equal(r.isError, true, r.text.slice(0, 300));
    assert.match(r.text, /^WARDEN_CONFIG: connection db may use foreign servers of dblink or postgres_fdw \(reporting\)/);
    assert.match(r.text, /trusted_foreign_servers/, 'the refusal names the opt-out');
  });
});

test('trusted_foreign_servers: an unlisted server still refuses, as does a listed one pointing at the store\'s host and port, the key unread', async () => {
  await withWarden(far.url, store.url, async (w) => {
    const r = await query(w, 'SELECT name, value FROM public.remote_settings');
    assert.ok(!r.text.includes(key), `the masking key is not in the answer: ${r.text.slice(0, 300)}`);
    assert.equal(r.isError, true, r.text.slice(0, 300));
    // Only the unlisted one is named.
    assert.match(r.text, /^WARDEN_CONFIG: connection db may use foreign servers of dblink or postgres_fdw \(storefdw\)/);
  }, ['reporting']);
  await withWarden(far.url, store.url, async (w) => {
    const r = await query(w, 'SELECT name, value FROM public.remote_settings');
    assert.ok(!r.text.includes(key), `the masking key is not in the answer: ${r.text.slice(0, 300)}`);
    assert.equal(r.isError, true, r.text.slice(0, 300));
    assert.match(r.text, /^WARDEN_CONFIG: connection db's trusted_foreign_servers: storefdw leads to the Warden transcript store's host and port/);
  }, ['reporting', 'storefdw']);
});

test('trusted_foreign_servers: a listed name that is no server of the database, or a server the role could repoint (its owner), is refused', async () => {
  await withWarden(vouch.url, store.url, async (w) => {
    const r = await query(w, 'SELECT id, email FROM public.remote_people');
    assert.equal(r.isError, true, r.text.slice(0, 300));
    assert.match(r.text, /^WARDEN_CONFIG: connection db's trusted_foreign_servers: reportnig is no foreign server of its database/);
  }, ['reporting', 'reportnig']);
  const role = pg.escapeIdentifier(vouch.role);
  await vouch.query(`GRANT USAGE ON FOREIGN DATA WRAPPER postgres_fdw TO ${role}; ALTER SERVER reporting OWNER TO ${role}`);
  try {
    await withWarden(vouch.url, store.url, async (w) => {
      const r = await query(w, 'SELECT id, email FROM public.remote_people');
      assert.equal(r.isError, true, r.text.slice(0, 300));
      assert.match(r.text, /^WARDEN_CONFIG: connection db's trusted_foreign_servers: reporting is owned by a role it can act as/);
    }, ['reporting']);
  } finally {
    await vouch.query(`ALTER SERVER reporting OWNER TO CURRENT_USER; REVOKE USAGE ON FOREIGN DATA WRAPPER postgres_fdw FROM ${role}`);
  }
});

test("trusted_foreign_servers changes nothing on the store's own cluster: a listed server there is refused as before", async () => {
  await withWarden(near.url, store.url, async (w) => {
    const r = await query(w, 'SELECT id, email FROM public.remote_people');
    assert.equal(r.isError, true, r.text.slice(0, 300));
    assert.match(r.text, /^WARDEN_CONFIG: connection db is on the cluster of the Warden transcript store and can reach it from SQL \(.*foreign servers reporting/);
  }, ['reporting']);
});

/** Let alias's role read the foreign table of server `name` only (the others then are no server it may use). */
async function grantOnly(name: string): Promise<void> {
  const role = pg.escapeIdentifier(alias.role);
  await alias.query(`REVOKE ALL ON ALL TABLES IN SCHEMA public FROM ${role}; GRANT USAGE ON SCHEMA public TO ${role}; GRANT SELECT ON public.${name}_settings TO ${role}`);
}

test("trusted_foreign_servers: a listed server at the store's address spelled otherwise (127.1, a number, the machine's name, hostaddr) is refused, the key unread", async () => {
  for (const name of ['short', 'numeric', 'named', 'byaddr']) {
    await grantOnly(name);
    await withWarden(alias.url, store.url, async (w) => {
      const r = await query(w, `SELECT name, value FROM public.${name}_settings`);
      // Without the fix 127.1 and the others were not the store's 127.0.0.1: the key was answered in clear.
      assert.ok(!r.text.includes(key), `${name}: the masking key is not in the answer: ${r.text.slice(0, 300)}`);
      assert.equal(r.isError, true, `${name}: ${r.text.slice(0, 300)}`);
      assert.match(r.text, new RegExp(`^WARDEN_CONFIG: connection db's trusted_foreign_servers: ${name} leads to the Warden transcript store's host and port`), name);
    }, [name]);
  }
});

test('trusted_foreign_servers: a listed server whose host resolves to nothing is refused (where it leads cannot be told)', async () => {
  await grantOnly('nowhere');
  await withWarden(alias.url, store.url, async (w) => {
    const r = await query(w, 'SELECT 1 AS one');
    assert.equal(r.isError, true, r.text.slice(0, 300));
    assert.match(r.text, /^WARDEN_CONFIG: connection db's trusted_foreign_servers: nowhere's host nowhere\.invalid resolves to no address here/);
  }, ['nowhere']);
});

test("a connection on another cluster on the store's host whose role reads the host's files (pg_read_server_files, lo_import) is refused", async () => {
  const role = pg.escapeIdentifier(quiet.role);
  for (const [grant, revoke, why] of [
    [`GRANT pg_read_server_files TO ${role}`, `REVOKE pg_read_server_files FROM ${role}`, /member of pg_read_server_files/],
    [`GRANT EXECUTE ON FUNCTION pg_catalog.lo_import(text) TO ${role}`, `REVOKE EXECUTE ON FUNCTION pg_catalog.lo_import(text) FROM ${role}`, /EXECUTE on lo_import\(text\)/],
  ] as const) {
    await quiet.query(grant);
    try {
      await withWarden(quiet.url, store.url, async (w) => {
        // Without the fix this opened: the store's data directory (same host, same OS user) was the agent's to read.
        const r = await query(w, 'SELECT id, email FROM public.people');
        assert.equal(r.isError, true, r.text.slice(0, 300));
        assert.match(r.text, /^WARDEN_CONFIG: connection db is on another cluster on the host of the Warden transcript store/);
        assert.match(r.text, why);
      });
    } finally {
      await quiet.query(revoke);
    }
  }
});
