/**
 * A query_database connection that can read the PostgreSQL transcript store is refused
 * (tools/postgres/store-reach.ts). The attack: the connection and the store on one database with
 * one login (the common one-URL setup), a policy granting reads on the connection; the agent read
 * `public.settings` (the `hash` masking key: every hashed value then matched against guesses
 * offline) and every session's calls. Neighbours that must keep working: the store in the same
 * database under a role the connection's role cannot read through, and an application whose own
 * tables are named `settings`, `calls` and `records`.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { PG_STORE_TABLES } from '../../src/tool-api.js';
import { ANALYSTS_READ_ALL, sqlConfig } from '../support/sql-warden.js';
import { connectWarden, writeWardenDir, type WardenSession } from '../support/warden-process.js';

const MASKS = `
masking:
  columns:
    - { column: public.people.email, with: hash }
`;

/** warden.yaml with the PostgreSQL store at STORE_URL and the connection `db` at TEST_DATABASE_URL. */
const storeConfig = sqlConfig().replace('transcripts: { store: sqlite:warden.db }', 'transcripts: { store: env:STORE_URL }');

let db: TestDatabase;
let other: TestDatabase;
let readerUrl: string;
const reader = `reader_${randomBytes(4).toString('hex')}`;

before(async () => {
  [db, other] = await Promise.all([createTestDatabase({ prefix: 'e2estorereach' }), createTestDatabase({ prefix: 'e2eappsettings' })]);
  const role = pg.escapeIdentifier(db.role);
  await db.query(`GRANT ALL ON SCHEMA public TO ${role};
    CREATE TABLE public.people (id int, email text); INSERT INTO public.people VALUES (1, 'ann@example.com');
    ALTER TABLE public.people OWNER TO ${role}`);
  // A second login of the same database that may read people and nothing of the store.
  const password = randomBytes(12).toString('hex');
  await db.query(`CREATE ROLE ${reader} LOGIN PASSWORD '${password}'; GRANT CONNECT ON DATABASE ${pg.escapeIdentifier(db.dbName)} TO ${reader};
    GRANT USAGE ON SCHEMA public TO ${reader}; GRANT SELECT ON public.people TO ${reader}`);
  const u = new URL(db.url);
  u.username = reader;
  u.password = password;
  readerUrl = u.toString();
  // An application's own tables of those names, no store: not a store's.
  await other.query(`CREATE TABLE public.settings (name text, value text); CREATE TABLE public.calls (id int); CREATE TABLE public.records (id int, note text);
    INSERT INTO public.settings VALUES ('theme', 'dark');
    ALTER TABLE public.settings OWNER TO ${pg.escapeIdentifier(other.role)}; ALTER TABLE public.calls OWNER TO ${pg.escapeIdentifier(other.role)}; ALTER TABLE public.records OWNER TO ${pg.escapeIdentifier(other.role)}`);
});

after(async () => {
  await db?.query(`DROP OWNED BY ${reader}; DROP ROLE IF EXISTS ${reader}`).catch(() => undefined);
  await Promise.all([db?.drop(), other?.drop()]);
});

/** `warden serve` with the connection `db` at `connUrl` and the store at `storeUrl` (else SQLite). */
async function withWarden(connUrl: string, storeUrl: string | null, fn: (w: WardenSession) => Promise<void>): Promise<void> {
  const dir = writeWardenDir(storeUrl ? storeConfig : sqlConfig(), { 'p.yaml': MASKS + ANALYSTS_READ_ALL });
  try {
    const w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: connUrl, ...(storeUrl ? { STORE_URL: storeUrl } : {}) });
    try {
      await fn(w);
    } finally {
      await w.close();
    }
  } finally {
    dir.cleanup();
  }
}

const query = (w: WardenSession, sql: string) => w.call('query_database', { connection: 'db', sql });

test('a connection whose role can read the transcript store is refused: no masking key, no other session, no statement at all', async () => {
  await withWarden(db.url, db.url, async (w) => {
    const key = (await db.query(`SELECT value FROM public.settings WHERE name = 'masking.hash_key'`)).rows[0]?.value as string | undefined;
    assert.ok(key, 'the store keeps the hash masking key in settings');
    for (const sql of ['SELECT name, value FROM public.settings', 'SELECT tool, args FROM public.calls', 'SELECT id, email FROM public.people']) {
      const r = await query(w, sql);
      assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
      assert.match(r.text, /^WARDEN_CONFIG: connection db can read the tables of a Warden transcript store \(schema public: .*settings/, sql);
      assert.ok(!r.text.includes(key), 'the masking key is not in the answer');
    }
    // The list the check reads names tables the store really creates (src/pg-store-tables.ts).
    const made = new Set((await db.query(`SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = 'public'`)).rows.map((x) => String(x.tablename)));
    for (const t of PG_STORE_TABLES) assert.ok(made.has(t), `the store creates ${t}`);
    const d = await w.call('describe_database', { connection: 'db' });
    assert.equal(d.isError, true, 'describe_database is refused too');
    assert.match(d.text, /WARDEN_CONFIG/);
    assert.ok(!/masking\.hash_key|[0-9a-f]{64}/.test(d.text));
  });
});

test('the store in the same database under a role the connection cannot read through: the connection works, hashed values stay hashed', async () => {
  await withWarden(readerUrl, db.url, async (w) => {
    const r = await query(w, 'SELECT id, email FROM public.people');
    assert.equal(r.isError, false, r.text.slice(0, 300));
    assert.match(r.text, /hash:[0-9a-f]+/);
    assert.ok(!r.text.includes('ann@example.com'));
    const s = await query(w, 'SELECT name, value FROM public.settings');
    assert.equal(s.isError, true, 'the role may not read the store');
    assert.doesNotMatch(s.text, /WARDEN_CONFIG/, 'refused by PostgreSQL, not as a store reach');
  });
});

test('an application with its own settings, calls and records tables (no store) is read as before', async () => {
  await withWarden(other.url, null, async (w) => {
    const r = await query(w, 'SELECT name, value FROM public.settings');
    assert.equal(r.isError, false, r.text.slice(0, 300));
    assert.match(r.text, /theme\s+dark|theme\\tdark/);
  });
});
