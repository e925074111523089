/**
 * The roles a session can act as (tools/postgres/acting-roles.ts) include the code a write of its
 * fires as another role without any SECURITY DEFINER function of its own. The attacks: a foreign
 * key ON DELETE CASCADE from a table the agent may write into a table owned by a role with dblink
 * at the store (the action's DELETE runs as the referencing table's owner, so that table's plain
 * BEFORE trigger does: dblink_exec of a row the agent inserted read the masking key), the same
 * through a table between them and through ON DELETE SET DEFAULT with a default naming a user
 * function, and a SECURITY DEFINER event trigger function (any DDL fires it). Neighbour that must
 * keep working: a cascade into a table of that owner with no code of its own.
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
const cascader = `cascader_${tag}`;
const deep = `deep_${tag}`;
const defaulter = `defaulter_${tag}`;
const calm = `calm_${tag}`;
const urls: Record<string, string> = {};

/** A login of app's database with a password of its own. */
async function login(name: string): Promise<void> {
  const password = randomBytes(12).toString('hex');
  await app.query(`CREATE ROLE ${name} LOGIN PASSWORD '${password}'; GRANT CONNECT ON DATABASE ${pg.escapeIdentifier(app.dbName)} TO ${name};
    GRANT USAGE ON SCHEMA public TO ${name}`);
  const u = new URL(app.url);
  u.username = name;
  u.password = password;
  urls[name] = u.toString();
}

before(async () => {
  [store, app] = await Promise.all([createTestDatabase({ prefix: 'e2ecascstore' }), createTestDatabase({ prefix: 'e2ecascapp' })]);
  await store.query(`GRANT ALL ON SCHEMA public TO ${pg.escapeIdentifier(store.role)}`);
  const lit = pg.escapeLiteral;
  // linker (no login) may run dblink_exec with a server at the store's database whose user mapping holds its login.
  await app.query(`CREATE EXTENSION dblink; REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA public FROM PUBLIC;
    CREATE ROLE ${linker} NOLOGIN; GRANT EXECUTE ON FUNCTION public.dblink_exec(text, text) TO ${linker}; GRANT USAGE ON SCHEMA public TO ${linker};
    CREATE SERVER storelink FOREIGN DATA WRAPPER dblink_fdw OPTIONS (host '127.0.0.1', port ${lit(String(store.port))}, dbname ${lit(store.dbName)});
    CREATE USER MAPPING FOR ${linker} SERVER storelink OPTIONS (user ${lit(store.role)}, password ${lit(store.password)});
    GRANT USAGE ON FOREIGN SERVER storelink TO ${linker};
    CREATE FUNCTION public.job_hook() RETURNS trigger LANGUAGE plpgsql SET search_path = pg_catalog AS $$ BEGIN PERFORM public.dblink_exec('storelink', OLD.cmd); RETURN OLD; END $$;
    CREATE TABLE public.parents (id int PRIMARY KEY); INSERT INTO public.parents VALUES (1), (2), (3);
    CREATE TABLE public.jobs (pid int REFERENCES public.parents ON DELETE CASCADE, cmd text); ALTER TABLE public.jobs OWNER TO ${linker};
    CREATE TRIGGER job_hook BEFORE DELETE ON public.jobs FOR EACH ROW EXECUTE FUNCTION public.job_hook();
    CREATE TABLE public.mids (id int PRIMARY KEY, pid int REFERENCES public.parents ON DELETE CASCADE);
    CREATE TABLE public.leaves (mid int REFERENCES public.mids ON DELETE CASCADE, cmd text); ALTER TABLE public.leaves OWNER TO ${linker};
    CREATE TRIGGER leaf_hook BEFORE DELETE ON public.leaves FOR EACH ROW EXECUTE FUNCTION public.job_hook();
    CREATE FUNCTION public.pick() RETURNS int LANGUAGE sql AS $$ SELECT 1 $$;
    CREATE TABLE public.others (id int PRIMARY KEY); INSERT INTO public.others VALUES (1);
    CREATE TABLE public.picks (pid int DEFAULT public.pick() REFERENCES public.others ON DELETE SET DEFAULT); ALTER TABLE public.picks OWNER TO ${linker};
    CREATE TABLE public.plain_rows (pid int REFERENCES public.parents ON DELETE CASCADE, note text); ALTER TABLE public.plain_rows OWNER TO ${linker}`);
  for (const name of [cascader, deep, defaulter, calm]) await login(name);
  const g = (name: string) => `GRANT SELECT, DELETE ON public.parents TO ${name}`;
  // Each login may delete parents; jobs, leaves and picks each carry code of their own.
  await app.query(`${g(cascader)}; GRANT INSERT ON public.jobs TO ${cascader}; ${g(deep)}; GRANT SELECT ON public.mids TO ${deep}; GRANT SELECT, DELETE ON public.others TO ${defaulter}; ${g(calm)}`);
  await app.query(`REVOKE ALL ON public.jobs, public.leaves, public.picks FROM ${[deep, defaulter, calm].join(', ')}`);
  // deep reaches leaves through mids only; calm and defaulter must not reach jobs or leaves.
  await app.query(`ALTER TABLE public.jobs DISABLE TRIGGER job_hook; ALTER TABLE public.leaves DISABLE TRIGGER leaf_hook`);
});

after(async () => {
  const roles = [linker, cascader, deep, defaulter, calm].join(', ');
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

test('a cascade from a table the role may delete runs the referencing table\'s BEFORE trigger as its owner (dblink at the store): refused, the key unread', async () => {
  await app.query('ALTER TABLE public.jobs ENABLE TRIGGER job_hook');
  try {
    await withWarden(urls[cascader]!, async (w) => {
      // Without the fix the second answered the key (the remote 42703 message, from the trigger run as the jobs' owner).
      const sqls = [`INSERT INTO public.jobs VALUES (1, ${lit(KEY_DO)})`, 'DELETE FROM public.parents WHERE id = 1'];
      const answers: { isError: boolean; text: string }[] = [];
      for (const sql of sqls) answers.push(await query(w, sql));
      assert.ok(!answers.some((r) => r.text.includes(key.slice(0, 32))), 'the masking key is in no answer');
      sqls.forEach((sql, i) => refusedAsReach(answers[i]!, sql, new RegExp(`as role ${linker}, the owner of public\\.jobs.*foreign key action.*storelink`)));
    });
  } finally {
    await app.query('ALTER TABLE public.jobs DISABLE TRIGGER job_hook');
  }
});

test('the same two foreign keys deep, and through ON DELETE SET DEFAULT with a default naming a user function: refused', async () => {
  await app.query('ALTER TABLE public.leaves ENABLE TRIGGER leaf_hook');
  try {
    await withWarden(urls[deep]!, async (w) => {
      const sql = 'SELECT id FROM public.parents';
      refusedAsReach(await query(w, sql), sql, new RegExp(`as role ${linker}, the owner of public\\.leaves.*storelink`));
    });
  } finally {
    await app.query('ALTER TABLE public.leaves DISABLE TRIGGER leaf_hook');
  }
  await withWarden(urls[defaulter]!, async (w) => {
    const sql = 'SELECT id FROM public.others';
    refusedAsReach(await query(w, sql), sql, new RegExp(`as role ${linker}, the owner of public\\.picks.*storelink`));
  });
});

test('a SECURITY DEFINER event trigger function owned by a role with dblink (any DDL fires it): refused', async () => {
  await app.query(`CREATE FUNCTION public.ddl_hook() RETURNS event_trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$ BEGIN PERFORM 1; END $$;
    ALTER FUNCTION public.ddl_hook() OWNER TO ${linker}; REVOKE ALL ON FUNCTION public.ddl_hook() FROM PUBLIC; CREATE EVENT TRIGGER ddl_hook ON ddl_command_start EXECUTE FUNCTION public.ddl_hook()`);
  try {
    await withWarden(urls[calm]!, async (w) => {
      const sql = 'SELECT id FROM public.parents';
      refusedAsReach(await query(w, sql), sql, new RegExp(`as role ${linker}, the owner of SECURITY DEFINER event trigger function (public\\.)?ddl_hook\\(\\).*storelink`));
    });
  } finally {
    await app.query('DROP EVENT TRIGGER ddl_hook; DROP FUNCTION public.ddl_hook()');
  }
});

test('a cascade into a table of that owner with no code of its own (and disabled triggers) opens and runs', async () => {
  await withWarden(urls[calm]!, async (w) => {
    const r = await query(w, 'DELETE FROM public.parents WHERE id = 3');
    assert.equal(r.isError, false, r.text.slice(0, 300));
    const s = await query(w, 'SELECT id FROM public.parents ORDER BY id');
    assert.equal(s.isError, false, s.text.slice(0, 300));
    assert.doesNotMatch(s.text, /\b3\b/);
  });
});
