/**
 * Temporary tables cannot shadow a public table from one call to the next. The pinned
 * search_path is pg_catalog, public, pg_temp: an unqualified name public lacks would resolve to
 * pg_temp.<name> while facts say public.<name>. That needs a temporary table in the session the
 * statement runs in, and sessions are pooled; these tests show, on a real server and with one
 * connection per pool (so every call reuses the same session), that no call can leave one
 * behind: a read runs read-only (CREATE TEMP TABLE is refused, also from inside a function), and
 * a write's session is reset by DISCARD ALL (or destroyed on an error) before the next call.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PgConnector } from '../../../tools/postgres/connector.js';
import type { PostgresConnection } from '../../../tools/postgres/config.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';

const conn = (url: string): PostgresConnection => ({ name: 'db', type: 'postgres', url, statement_timeout: 3000, max_rows: 10, max_bytes: 65536, pool_size: 1 });

let db: TestDatabase;
let connector: PgConnector;
const read = { readOnly: true, maxRows: 10, timeoutMs: 3000 };
const write = { readOnly: false, maxRows: 10, timeoutMs: 3000 };

before(async () => {
  db = await createTestDatabase({ prefix: 'temptables' });
  // The test role may create temporary tables (createTestDatabase grants CONNECT only).
  await db.query(`GRANT TEMPORARY ON DATABASE ${db.dbName} TO ${db.role}`);
  await db.query(`CREATE FUNCTION public.make_temp() RETURNS int LANGUAGE plpgsql AS $$
    BEGIN CREATE TEMP TABLE shadow_fn AS SELECT 'from-a-function'::text AS v; RETURN 1; END $$`);
  connector = new PgConnector(conn('env:DB'), { resolve: async () => db.url });
});

after(async () => {
  await connector?.close();
  await db?.drop();
});

const pid = async (o: typeof read): Promise<string> => String((await connector.run('SELECT pg_catalog.pg_backend_pid() AS pid', [], o)).rows[0]![0]);
const tempTables = async (o: typeof read): Promise<unknown> =>
  (await connector.run(`SELECT pg_catalog.count(*) FROM pg_catalog.pg_class WHERE relnamespace = pg_catalog.pg_my_temp_schema() AND relkind = 'r'`, [], o)).rows[0]![0];

test('read-write pool: a temporary table created by one call is gone in the next (same session)', async () => {
  const before = await pid(write);
  const made = await connector.run("CREATE TEMP TABLE shadow AS SELECT 'temp-row'::text AS v", [], write);
  assert.equal(made.command, 'SELECT');
  // Within the call it existed; the next call runs on the same backend and finds nothing.
  assert.equal(await pid(write), before, 'the pool reused the session');
  assert.equal(String(await tempTables(write)), '0');
  await assert.rejects(connector.run('SELECT v FROM shadow', [], write), /relation "shadow" does not exist/);
  await assert.rejects(connector.run('SELECT v FROM pg_temp.shadow', [], write), /relation "pg_temp.shadow" does not exist/);
});

test('read-write pool: ON COMMIT PRESERVE ROWS and a function-made temp table do not survive either', async () => {
  await connector.run('CREATE TEMP TABLE kept (v text) ON COMMIT PRESERVE ROWS', [], write);
  await connector.run('SELECT public.make_temp()', [], write);
  assert.equal(String(await tempTables(write)), '0');
  await assert.rejects(connector.run('SELECT v FROM shadow_fn', [], write), /does not exist/);
});

test('read-write pool: a call that fails after creating a temp table leaves no session behind', async () => {
  const before = await pid(write);
  await assert.rejects(connector.run('CREATE TEMP TABLE broken AS SELECT 1 / 0 AS v', [], write));
  await assert.rejects(connector.run("CREATE TEMP TABLE shadow2 AS SELECT 'x'::text AS v; SELECT 1", [], write));
  assert.notEqual(await pid(write), before, 'the session that saw an error was destroyed');
  assert.equal(String(await tempTables(write)), '0');
});

test('read-only pool: no temporary table can be created, directly or from a function', async () => {
  const before = await pid(read);
  await assert.rejects(connector.run("CREATE TEMP TABLE shadow AS SELECT 'temp-row'::text AS v", [], read), /read-only transaction/);
  await assert.rejects(connector.run('SELECT public.make_temp()', [], read), /read-only transaction/);
  await assert.rejects(connector.run("SELECT 'x' INTO TEMP shadow3", [], read), /read-only transaction/);
  assert.equal(String(await tempTables(read)), '0');
  await assert.rejects(connector.run('SELECT v FROM shadow', [], read), /relation "shadow" does not exist/);
  // (a session that saw an error is replaced; either way no temporary table is there)
  assert.equal(typeof before, 'string');
});

test('the pools are separate: a temp table on the read-write pool is never seen by a read', async () => {
  await connector.run("CREATE TEMP TABLE shadow4 AS SELECT 'temp-row'::text AS v", [], write);
  await assert.rejects(connector.run('SELECT v FROM shadow4', [], read), /does not exist/);
  assert.equal(String(await tempTables(read)), '0');
});
