/**
 * The outbound-reach check (tools/postgres/outbound-reach.ts) follows the roles a session can act
 * as. The attacks: on the store's cluster, an admin's SECURITY DEFINER wrapper around dblink_exec
 * owned by a role that may use a dblink server at the store (the agent's role has no dblink right
 * of its own), and a NOINHERIT member of such a role, which gets its privileges inside one
 * statement (set_config('role', ..., true) evaluated before query_to_xml runs its query text, so
 * the claim that one statement and the session reset keep a NOINHERIT member out does not hold).
 * A view over a postgres_fdw foreign table, owned by such a role, reads it as its owner too, and a
 * SECURITY DEFINER trigger function it owns fires on a write to a table the agent may write.
 * Neighbours that must keep working: a SECURITY DEFINER function whose owner has no reach, and a
 * login that may not execute the wrapper.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, sqlConfig } from '../support/sql-warden.js';
import { connectWarden, writeWardenDir, type WardenSession } from '../support/warden-process.js';

const storeConfig = sqlConfig().replace('transcripts: { store: sqlite:warden.db }', 'transcripts: { store: env:STORE_URL }');

let store: TestDatabase;
let app: TestDatabase;
let key = '';
const tag = randomBytes(4).toString('hex');
const linker = `linker_${tag}`;
const member = `member_${tag}`;
const plain = `plain_${tag}`;
const bystander = `bystander_${tag}`;
const viewer = `viewer_${tag}`;
const writer = `writer_${tag}`;
const urls: Record<string, string> = {};

/** A login of app's database with a password of its own. */
async function login(name: string, attrs = ''): Promise<void> {
  const password = randomBytes(12).toString('hex');
  await app.query(`CREATE ROLE ${name} LOGIN ${attrs} PASSWORD '${password}'; GRANT CONNECT ON DATABASE ${pg.escapeIdentifier(app.dbName)} TO ${name};
    GRANT USAGE ON SCHEMA public TO ${name}; GRANT SELECT ON public.people TO ${name}`);
  const u = new URL(app.url);
  u.username = name;
  u.password = password;
  urls[name] = u.toString();
}

before(async () => {
  [store, app] = await Promise.all([createTestDatabase({ prefix: 'e2edefstore' }), createTestDatabase({ prefix: 'e2edefapp' })]);
  await store.query(`GRANT ALL ON SCHEMA public TO ${pg.escapeIdentifier(store.role)}`);
  const lit = pg.escapeLiteral;
  const role = pg.escapeIdentifier(app.role);
  // dblink installed, none of its functions executable by PUBLIC; a role `linker` (no login) may
  // run dblink_exec and use a server at the store's database whose user mapping holds its login.
  await app.query(`CREATE EXTENSION dblink; REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
    CREATE TABLE public.people (id int, email text); INSERT INTO public.people VALUES (1, 'ann@example.com'); GRANT SELECT ON public.people TO ${role};
    CREATE ROLE ${linker} NOLOGIN; GRANT EXECUTE ON FUNCTION public.dblink_exec(text, text) TO ${linker};
    CREATE SERVER storelink FOREIGN DATA WRAPPER dblink_fdw OPTIONS (host '127.0.0.1', port ${lit(String(store.port))}, dbname ${lit(store.dbName)});
    CREATE USER MAPPING FOR ${linker} SERVER storelink OPTIONS (user ${lit(store.role)}, password ${lit(store.password)});
    GRANT USAGE ON FOREIGN SERVER storelink TO ${linker};
    CREATE FUNCTION public.remote_exec(sql text) RETURNS text LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT public.dblink_exec('storelink', sql) $$;
    ALTER FUNCTION public.remote_exec(text) OWNER TO ${linker}; REVOKE ALL ON FUNCTION public.remote_exec(text) FROM PUBLIC;
    GRANT EXECUTE ON FUNCTION public.remote_exec(text) TO ${role};
    CREATE ROLE ${plain} NOLOGIN; GRANT SELECT ON public.people TO ${plain};
    CREATE FUNCTION public.people_count() RETURNS bigint LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog AS $$ SELECT count(*) FROM public.people $$;
    ALTER FUNCTION public.people_count() OWNER TO ${plain}; GRANT EXECUTE ON FUNCTION public.people_count() TO PUBLIC;
    CREATE EXTENSION postgres_fdw;
    CREATE SERVER storefdw FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', port ${lit(String(store.port))}, dbname ${lit(store.dbName)});
    CREATE USER MAPPING FOR ${linker} SERVER storefdw OPTIONS (user ${lit(store.role)}, password ${lit(store.password)});
    GRANT USAGE ON FOREIGN SERVER storefdw TO ${linker};
    CREATE FOREIGN TABLE public.remote_settings (name text, value text) SERVER storefdw OPTIONS (schema_name 'public', table_name 'settings');
    ALTER FOREIGN TABLE public.remote_settings OWNER TO ${linker};
    CREATE VIEW public.app_settings AS SELECT name, value FROM public.remote_settings; ALTER VIEW public.app_settings OWNER TO ${linker};
    CREATE TABLE public.notes (t text);
    CREATE FUNCTION public.note_hook() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$ BEGIN PERFORM public.dblink_exec('storelink', NEW.t); RETURN NEW; END $$;
    ALTER FUNCTION public.note_hook() OWNER TO ${linker}; REVOKE ALL ON FUNCTION public.note_hook() FROM PUBLIC;
    CREATE TRIGGER note_hook AFTER INSERT ON public.notes FOR EACH ROW EXECUTE FUNCTION public.note_hook()`);
  // A NOINHERIT member of linker (no dblink right it uses without SET ROLE), and a login with neither.
  await login(member, 'NOINHERIT');
  await app.query(`GRANT ${linker} TO ${member}`);
  await login(bystander);
  await login(viewer);
  await login(writer);
  await app.query(`GRANT SELECT ON public.app_settings TO ${viewer}; GRANT INSERT ON public.notes TO ${writer}`);
});

after(async () => {
  const roles = [linker, member, plain, bystander, viewer, writer].join(', ');
  await app?.query(`DROP OWNED BY ${roles}; DROP ROLE IF EXISTS ${roles}`).catch(() => undefined);
  await Promise.all([app?.drop(), store?.drop()]);
});

/** `warden serve` (a plain allow rule, no masks) with the connection `db` at `connUrl` and the PostgreSQL store. */
async function withWarden(connUrl: string, fn: (w: WardenSession) => Promise<void>): Promise<void> {
  const dir = writeWardenDir(storeConfig, { 'p.yaml': ANALYSTS_READ_ALL });
  try {
    const w = await connectWarden(dir.configPath, { TEST_DATABASE_URL: connUrl, STORE_URL: store.url });
    try {
      key = String((await store.query(`SELECT value FROM public.settings WHERE name = 'masking.hash_key'`)).rows[0]?.value ?? '');
      await fn(w);
    } finally {
      await w.close();
    }
  } finally {
    dir.cleanup();
  }
}

/** A remote DO block that names a column after the store's masking key: the remote 42703 error quotes it. */
const KEY_DO = `DO $d$ BEGIN EXECUTE 'SELECT ' || (SELECT quote_ident(value) FROM public.settings WHERE name = 'masking.hash_key'); END $d$`;
const lit = (s: string): string => `'${s.replace(/'/g, "''")}'`;
const query = (w: WardenSession, sql: string) => w.call('query_database', { connection: 'db', sql });

function refusedAsReach(r: { isError: boolean; text: string }, sql: string, why: RegExp): void {
  assert.ok(key.length > 32 && !r.text.includes(key.slice(0, 32)), `the masking key is not in the answer: ${r.text.slice(0, 300)}`);
  assert.equal(r.isError, true, `${sql}: ${r.text.slice(0, 300)}`);
  assert.match(r.text, /^WARDEN_CONFIG: connection db is on the cluster of the Warden transcript store and can reach it from SQL/, sql);
  assert.match(r.text, why, sql);
}

test('a SECURITY DEFINER wrapper around dblink the role may execute counts as dblink: refused, the masking key unread', async () => {
  await withWarden(app.url, async (w) => {
    // Without the fix this answered the key (in the remote 42703 message).
    const sql = `SELECT public.remote_exec(${lit(KEY_DO)})`;
    refusedAsReach(await query(w, sql), sql, new RegExp(`as role ${linker}.*SECURITY DEFINER (public\\.)?remote_exec\\(text\\).*storelink`));
  });
});

test('a NOINHERIT member of a role with dblink reaches it within one statement (set_config role, then query text): refused', async () => {
  await withWarden(urls[member]!, async (w) => {
    const inner = `SELECT public.dblink_exec('storelink', ${lit(KEY_DO)})`;
    const sql = `SELECT pg_catalog.set_config('role', ${lit(linker)}, true) AS r, pg_catalog.query_to_xml(${lit(inner)}, false, false, '') AS x`;
    // Without the fix this answered the key: the privileges are linker's once the setting is made.
    refusedAsReach(await query(w, sql), sql, new RegExp(`as role ${linker}.*member.*storelink`));
  });
});

test('a view the role may read over a postgres_fdw foreign table at the store (read as the view\'s owner): refused', async () => {
  await withWarden(urls[viewer]!, async (w) => {
    const sql = 'SELECT name, value FROM public.app_settings';
    // Without the fix this answered the key in clear: the foreign table is read with its owner's user mapping.
    refusedAsReach(await query(w, sql), sql, /storefdw \(through view public\.app_settings\)/);
  });
});

test('a table the role may write whose trigger runs a SECURITY DEFINER function (no EXECUTE asked of the caller): refused', async () => {
  await withWarden(urls[writer]!, async (w) => {
    const sql = `INSERT INTO public.notes VALUES (${lit(KEY_DO)})`;
    // Without the fix this answered the key (in the remote 42703 message, from the trigger).
    refusedAsReach(await query(w, sql), sql, new RegExp(`as role ${linker}.*note_hook\\(\\).*storelink`));
  });
});

test('a SECURITY DEFINER function whose owner has no reach, called by a login that may not run the wrapper, works', async () => {
  await withWarden(urls[bystander]!, async (w) => {
    const r = await query(w, 'SELECT public.people_count() AS n');
    assert.equal(r.isError, false, r.text.slice(0, 300));
    assert.match(r.text, /\b1\b/);
    const s = await query(w, `SELECT public.remote_exec(${lit(KEY_DO)})`);
    assert.equal(s.isError, true);
    assert.match(s.text, /permission denied for function remote_exec/);
    assert.doesNotMatch(s.text, /WARDEN_CONFIG/, 'refused by PostgreSQL (no EXECUTE), not as a store reach');
  });
});
