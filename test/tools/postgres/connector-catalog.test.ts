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
