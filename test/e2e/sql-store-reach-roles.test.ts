/**
 * The store-reach check (tools/postgres/store-reach.ts) follows the roles a session can act as.
 * The attacks, the store in the connection's own database under its own login: a NOINHERIT member
 * of a role granted SELECT on the store's `settings` (set_config('role', ..., true) in the select
 * list gives query_to_xml's query that role's privileges), and an admin's SECURITY DEFINER
 * function owned by such a role that the connection's role may execute, or a view such a role owns
 * (a view reads its relations as its owner). Neighbour that must keep working: a login that may
 * execute a SECURITY DEFINER function, and read a view, whose owner reads no store.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { openPgStore } from '../../src/recorder/index.js';
import { ANALYSTS_READ_ALL, sqlConfig } from '../support/sql-warden.js';
import { connectWarden, writeWardenDir, type WardenSession } from '../support/warden-process.js';

const storeConfig = sqlConfig().replace('transcripts: { store: sqlite:warden.db }', 'transcripts: { store: env:STORE_URL }');

let db: TestDatabase;
const tag = randomBytes(4).toString('hex');
const keeper = `keeper_${tag}`;
const plain = `plain_${tag}`;
const logins = { member: `member_${tag}`, caller: `caller_${tag}`, viewer: `viewer_${tag}`, bystander: `bystander_${tag}` };
const urls: Record<string, string> = {};

async function login(name: string, attrs = ''): Promise<void> {
  const password = randomBytes(12).toString('hex');
  await db.query(`CREATE ROLE ${name} LOGIN ${attrs} PASSWORD '${password}'; GRANT CONNECT ON DATABASE ${pg.escapeIdentifier(db.dbName)} TO ${name};
    GRANT USAGE ON SCHEMA public TO ${name}; GRANT SELECT ON public.people TO ${name}`);
  const u = new URL(db.url);
  u.username = name;
  u.password = password;
  urls[name] = u.toString();
}

before(async () => {
  db = await createTestDatabase({ prefix: 'e2estoreroles' });
  await db.query(`GRANT ALL ON SCHEMA public TO ${pg.escapeIdentifier(db.role)}`);
  // The store's tables, created by the store itself under its own login.
  const store = await openPgStore(db.url);
  await store.close();
  await db.query(`CREATE TABLE public.people (id int, email text); INSERT INTO public.people VALUES (1, 'ann@example.com');
    CREATE ROLE ${keeper} NOLOGIN; GRANT USAGE ON SCHEMA public TO ${keeper}; GRANT SELECT ON public.settings TO ${keeper};
    CREATE FUNCTION public.setting(n text) RETURNS text LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT value FROM public.settings WHERE name = n $$;
    ALTER FUNCTION public.setting(text) OWNER TO ${keeper}; REVOKE ALL ON FUNCTION public.setting(text) FROM PUBLIC;
    CREATE ROLE ${plain} NOLOGIN; GRANT USAGE ON SCHEMA public TO ${plain}; GRANT SELECT ON public.people TO ${plain};
    CREATE FUNCTION public.people_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT count(*) FROM public.people $$;
    ALTER FUNCTION public.people_count() OWNER TO ${plain};
    CREATE VIEW public.app_settings AS SELECT name, value FROM public.settings; ALTER VIEW public.app_settings OWNER TO ${keeper};
    CREATE VIEW public.app_config AS SELECT name, value FROM public.app_settings; ALTER VIEW public.app_config OWNER TO ${keeper};
    CREATE VIEW public.people_view AS SELECT id FROM public.people; ALTER VIEW public.people_view OWNER TO ${plain}`);
  await login(logins.member, 'NOINHERIT');
  await login(logins.caller);
  await login(logins.viewer);
  await login(logins.bystander);
  await db.query(`GRANT ${keeper} TO ${logins.member}; GRANT EXECUTE ON FUNCTION public.setting(text) TO ${logins.caller};
    GRANT SELECT ON public.app_config TO ${logins.viewer}; GRANT SELECT ON public.people_view TO ${logins.bystander}`);
});

after(async () => {
  const roles = [keeper, plain, ...Object.values(logins)].join(', ');
  await db?.query(`DROP OWNED BY ${roles}; DROP ROLE IF EXISTS ${roles}`).catch(() => undefined);
  await db?.drop();
});

async function withWarden(connUrl: string, fn: (w: WardenSession, key: string) => Promise<void>): Promise<void> {
  const dir = writeWardenDir(storeConfig, { 'p.yaml': ANALYSTS_READ_ALL });
  try {
    const w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: connUrl, STORE_URL: db.url });
    try {
      const key = String((await db.query(`SELECT value FROM public.settings WHERE name = 'masking.hash_key'`)).rows[0]?.value ?? '');
      assert.ok(key.length > 32, 'the store keeps the masking key');
      await fn(w, key);
    } finally {
      await w.close();
    }
  } finally {
    dir.cleanup();
  }
}

const query = (w: WardenSession, sql: string) => w.call('query_database', { connection: 'db', sql });

function refusedAsStoreReach(r: { isError: boolean; text: string }, key: string, how: RegExp): void {
  assert.ok(!r.text.includes(key), `the masking key is not in the answer: ${r.text.slice(0, 300)}`);
  assert.equal(r.isError, true, r.text.slice(0, 300));
  assert.match(r.text, /^WARDEN_CONFIG: connection db can read the tables of a Warden transcript store \(schema public: settings/);
  assert.match(r.text, how);
}

test('a NOINHERIT member of a role that may read the store reads it within one statement (set_config role): refused', async () => {
  await withWarden(urls[logins.member]!, async (w, key) => {
    const sql = `SELECT pg_catalog.set_config('role', '${keeper}', true) AS r, pg_catalog.query_to_xml('SELECT value FROM public.settings', false, false, '') AS x`;
    // Without the fix this answered the key, in the XML.
    refusedAsStoreReach(await query(w, sql), key, new RegExp(`as role ${keeper}, a role it is a member of`));
  });
});

test('a SECURITY DEFINER function owned by a role that may read the store, executable by the role: refused', async () => {
  await withWarden(urls[logins.caller]!, async (w, key) => {
    // Without the fix this answered the key.
    refusedAsStoreReach(await query(w, `SELECT public.setting('masking.hash_key') AS v`), key, new RegExp(`as role ${keeper}, the owner of SECURITY DEFINER (public\\.)?setting\\(text\\)`));
  });
});

test('a view the role may read, over a view over the store\'s settings, owned by a role that may read them: refused', async () => {
  await withWarden(urls[logins.viewer]!, async (w, key) => {
    // Without the fix this answered the key: a view reads its relations as its owner.
    refusedAsStoreReach(await query(w, `SELECT value FROM public.app_config WHERE name = 'masking.hash_key'`), key, /through view public\.app_config/);
  });
});

test('a login that may execute only a SECURITY DEFINER function, and read only a view, whose owner reads no store works', async () => {
  await withWarden(urls[logins.bystander]!, async (w) => {
    const r = await query(w, 'SELECT public.people_count() AS n');
    assert.equal(r.isError, false, r.text.slice(0, 300));
    assert.match(r.text, /\b1\b/);
    const v = await query(w, 'SELECT id FROM public.people_view');
    assert.equal(v.isError, false, v.text.slice(0, 300));
  });
});
