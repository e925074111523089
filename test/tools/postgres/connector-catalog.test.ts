/**
 * The executor's catalog check of qualified columns (`t.x` is the call x(t) when t has no
 * column x): it costs no round trip when nothing is qualified, and a table the catalog did not
 * know is asked about again rather than trusted as "unknown" for the cache's lifetime.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PgConnector } from '../../../tools/postgres/connector.js';
import type { PostgresConnection } from '../../../tools/postgres/config.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';

const conn = (url: string): PostgresConnection => ({ name: 'db', type: 'postgres', url, statement_timeout: 3000, max_rows: 10, max_bytes: 65536, pool_size: 2 });
const resolver = (url: string) => ({ resolve: async () => url });

let db: TestDatabase;
let connector: PgConnector;

before(async () => {
  db = await createTestDatabase({ prefix: 'catalog' });
  connector = new PgConnector(conn('env:DB'), resolver(db.url));
});

after(async () => {
  await connector?.close();
  await db?.drop();
});

test('nothing qualified: no round trip (not even a connection)', async () => {
  let resolved = 0;
  const offline = new PgConnector(conn('env:NONE'), { resolve: async () => (resolved++, 'postgresql://nobody@127.0.0.1:1/none') });
  await offline.checkQualifiedColumns([]);
  assert.equal(resolved, 0, 'the pool was never opened');
  await assert.rejects(offline.checkQualifiedColumns([{ table: 'public.t', column: 'x' }]));
  await offline.close();
});

test('a table the catalog did not know is looked up again once it exists', async () => {
  await connector.checkQualifiedColumns([{ table: 'public.later', column: 'json_agg' }]); // unknown table: PostgreSQL refuses it itself
  await db.query('CREATE TABLE later (id int)');
  await assert.rejects(connector.checkQualifiedColumns([{ table: 'public.later', column: 'json_agg' }]), /has no column "json_agg"/);
  await connector.checkQualifiedColumns([{ table: 'public.later', column: 'id' }]);
});

test('unqualified pg_* names: no names, no round trip', async () => {
  let resolved = 0;
  const offline = new PgConnector(conn('env:NONE'), { resolve: async () => (resolved++, 'postgresql://nobody@127.0.0.1:1/none') });
  await offline.checkUnqualifiedPgNames([], []);
  assert.equal(resolved, 0, 'the pool was never opened');
  await assert.rejects(offline.checkUnqualifiedPgNames(['pg_class'], []));
  await offline.close();
});

test('an unqualified pg_* relation must be in pg_catalog (else PostgreSQL reads public.pg_*)', async () => {
  await db.query('CREATE TABLE public.pg_secret (v text)');
  await connector.checkUnqualifiedPgNames(['pg_class', 'pg_stat_activity'], []);
  await assert.rejects(connector.checkUnqualifiedPgNames(['pg_class', 'pg_secret'], []), (e: unknown) => {
    assert.equal((e as { code?: string }).code, 'WARDEN_PARSE');
    assert.match((e as Error).message, /pg_secret is not a relation of pg_catalog.*public\.pg_secret/);
    return true;
  });
  // Not cached as refused: once the name is qualified in the statement, it is no longer asked.
  await assert.rejects(connector.checkUnqualifiedPgNames(['pg_nothing_here'], []), /pg_nothing_here is not a relation of pg_catalog/);
});

test('an unqualified pg_* function must not also exist in public (an overload there can win)', async () => {
  await connector.checkUnqualifiedPgNames([], ['pg_size_pretty', 'pg_typeof']);
  await db.query(`CREATE FUNCTION public.pg_typeof(int) RETURNS text LANGUAGE sql AS 'SELECT ''shadow'''`);
  await db.query(`CREATE FUNCTION public.pg_shadow_only() RETURNS int LANGUAGE sql AS 'SELECT 1'`);
  for (const name of ['pg_shadow_only', 'pg_typeof']) {
    const fresh = new PgConnector(conn('env:DB'), resolver(db.url));
    await assert.rejects(fresh.checkUnqualifiedPgNames([], [name]), new RegExp(`public\\.${name}`), name);
    await fresh.close();
  }
});

/** Count the catalog lookups the connector makes on its read-only pool (a session each) and the statements they send. */
async function countQueries(c: PgConnector): Promise<{ n: number; texts: string[] }> {
  type Client = { query: (...a: unknown[]) => unknown };
  const pool = await (c as unknown as { pool(kind: 'ro' | 'rw'): Promise<{ connect: () => Promise<Client> }> }).pool('ro');
  const seen = { n: 0, texts: [] as string[] };
  const connect = pool.connect.bind(pool);
  const spied = new WeakSet<Client>();
  pool.connect = async () => {
    seen.n++;
    const client = await connect();
    if (!spied.has(client)) {
      spied.add(client);
      const query = client.query.bind(client);
      client.query = (...a: unknown[]) => {
        seen.texts.push(String((a[0] as { text?: string })?.text ?? a[0]));
        return query(...a);
      };
    }
    return client;
  };
  return seen;
}

test('any unqualified function that public also has is refused (public.lower(int) wins for lower(1))', async () => {
  const fresh = new PgConnector(conn('env:DB'), resolver(db.url));
  try {
    await fresh.checkUnqualifiedPgNames([], ['lower', 'upper', 'count']);
    await db.query(`CREATE FUNCTION public.lower(int) RETURNS text LANGUAGE sql AS 'SELECT ''shadow'''`);
    // Sanity: PostgreSQL does call public's overload for the unqualified name.
    const sanity = (await db.query(`BEGIN; SET LOCAL search_path = pg_catalog, public, pg_temp; SELECT lower(1) AS v; COMMIT`)) as unknown as { rows: { v: string }[] }[];
    assert.equal(sanity[2]!.rows[0]!.v, 'shadow');
    const other = new PgConnector(conn('env:DB'), resolver(db.url));
    try {
      await assert.rejects(other.checkUnqualifiedPgNames([], ['count', 'lower']), (e: unknown) => {
        assert.equal((e as { code?: string }).code, 'WARDEN_PARSE');
        assert.match((e as Error).message, /public\.lower exists.*pg_catalog\.lower/);
        return true;
      });
      await other.checkUnqualifiedPgNames([], ['upper', 'count']);
      // A refusal is not cached: once the overload is gone, the name is asked again and passes.
      await db.query('DROP FUNCTION public.lower(int)');
      await other.checkUnqualifiedPgNames([], ['lower']);
    } finally {
      await other.close();
    }
  } finally {
    await db.query('DROP FUNCTION IF EXISTS public.lower(int)');
    await fresh.close();
  }
});

test('a shadowing overload of any argument type counts (varchar, several overloads)', async () => {
  await db.query(`CREATE FUNCTION public.upper(varchar) RETURNS text LANGUAGE sql AS 'SELECT ''shadow'''`);
  await db.query(`CREATE FUNCTION public.length(int, int) RETURNS int LANGUAGE sql AS 'SELECT 0'`);
  const fresh = new PgConnector(conn('env:DB'), resolver(db.url));
  try {
    await assert.rejects(fresh.checkUnqualifiedPgNames([], ['upper']), /public\.upper exists/);
    await assert.rejects(fresh.checkUnqualifiedPgNames([], ['abs', 'length']), /public\.length exists/);
  } finally {
    await fresh.close();
    await db.query('DROP FUNCTION public.upper(varchar); DROP FUNCTION public.length(int, int)');
  }
});

test('unqualified functions: names asked in one query, then cached clean with no round trip', async () => {
  const fresh = new PgConnector(conn('env:DB'), resolver(db.url));
  try {
    const seen = await countQueries(fresh);
    await fresh.checkUnqualifiedPgNames(['pg_class'], ['lower', 'upper', 'count', 'coalesce', 'pg_typeof_nothing']);
    assert.equal(seen.n, 1, 'several names, one lookup');
    await fresh.checkUnqualifiedPgNames(['pg_class'], ['count', 'lower']);
    await fresh.checkUnqualifiedPgNames([], ['upper']);
    assert.equal(seen.n, 1, 'all names known clean: no round trip');
    await fresh.checkUnqualifiedPgNames([], ['upper', 'trim']);
    assert.equal(seen.n, 2, 'only the new name is asked');
    assert.match(seen.texts[1]!, /pg_proc/);
  } finally {
    await fresh.close();
  }
});

test('a refused function name is asked again on every call (refusals are not cached)', async () => {
  await db.query(`CREATE FUNCTION public.initcap(int) RETURNS text LANGUAGE sql AS 'SELECT ''shadow'''`);
  const fresh = new PgConnector(conn('env:DB'), resolver(db.url));
  try {
    const seen = await countQueries(fresh);
    await assert.rejects(fresh.checkUnqualifiedPgNames([], ['initcap']), /public\.initcap/);
    await assert.rejects(fresh.checkUnqualifiedPgNames([], ['initcap']), /public\.initcap/);
    assert.equal(seen.n, 2);
  } finally {
    await fresh.close();
    await db.query('DROP FUNCTION public.initcap(int)');
  }
});
