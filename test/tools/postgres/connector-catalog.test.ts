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
