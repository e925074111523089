/**
 * The wire budget of one statement (connector.ts, capped-query.ts), against a real server, on a
 * pool of one session: a read whose answer passes four times max_bytes (plus 64 KiB) is stopped
 * there and answers the rows received before, marked truncated, and its session is destroyed,
 * never pooled again (the next read on the one-session pool runs on a fresh one); a write past it
 * is refused and never committed; an answer within it runs as before, on a reused session.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PgConnector, type RunOptions } from '../../../tools/postgres/connector.js';
import type { PostgresConnection } from '../../../tools/postgres/config.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';

const MAX_BYTES = 4096;
/** 4 * 4096 + 65536 = 81920 bytes on the wire. */
const conn = (url: string): PostgresConnection => ({ name: 'db', type: 'postgres', url, statement_timeout: 60_000, max_rows: 1000, max_bytes: MAX_BYTES, pool_size: 1 });

let db: TestDatabase;
let connector: PgConnector;

before(async () => {
  db = await createTestDatabase({ prefix: 'pgwire' });
  await db.query('CREATE TABLE t (id int, v text)');
  await db.query("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 5) g");
  await db.query(`ALTER TABLE t OWNER TO ${db.role}`);
  connector = new PgConnector(conn('env:DB'), { resolve: async () => db.url });
});

after(async () => {
  await connector?.close();
  await db?.drop();
});

// A minute: the statements below build strings of hundreds of MB in PostgreSQL, which on a loaded
// two-core machine took more than 10 s (the wire cut, not the timeout, is what is checked).
const opts = (readOnly: boolean): RunOptions => ({ readOnly, maxRows: 1000, maxBytes: MAX_BYTES, timeoutMs: 60_000 });
const pid = async (): Promise<number> => (await connector.run('SELECT pg_backend_pid() AS p', [], opts(true))).rows[0]![0] as number;

test('an answer within the budget runs as before, and its session is reused', async () => {
  const r = await connector.run("SELECT g, repeat('x', 1000) FROM generate_series(1, 60) g", [], opts(true));
  assert.equal(r.rows.length, 60);
  assert.equal(r.truncated, false);
  assert.equal(r.cut, undefined);
  const first = await pid();
  await new Promise((res) => setTimeout(res, 50)); // the reset runs on a timer
  assert.equal(await pid(), first);
});

test('a read past the budget answers the rows before it, truncated, on a session never pooled again', async () => {
  const before = await pid();
  await new Promise((res) => setTimeout(res, 50));
  const r = await connector.run("SELECT g, repeat('x', 10000) FROM generate_series(1, 100000) g", [], opts(true));
  assert.equal(r.truncated, true);
  assert.equal(r.cut, true);
  // The budget, plus the chunk that crossed it (a socket read is at most 64 KiB): 14 rows at most.
  assert.ok(r.rows.length >= 1 && r.rows.length <= 14, `${r.rows.length} rows of 10 kB under an 80 kB budget`);
  assert.deepEqual(r.rows.map((row) => row[0]), r.rows.map((_, i) => i + 1));
  // One huge cell: no row at all, and the process is still here to say so.
  const huge = await connector.run("SELECT repeat(repeat('x', 10000), 54000) AS v", [], opts(true));
  assert.deepEqual(huge.rows, []);
  assert.equal(huge.truncated, true);
  const after = await pid();
  assert.notEqual(after, before, 'the cut session must not serve again');
  const rows = await connector.run('SELECT id FROM t ORDER BY id', [], opts(true));
  assert.deepEqual(rows.rows, [[1], [2], [3], [4], [5]]);
});

test('a write past the budget is refused and never committed', async () => {
  await assert.rejects(
    connector.run("UPDATE t SET v = 'changed' WHERE id = 2 RETURNING repeat('x', 200000)", [], opts(false)),
    (e: { code?: string; message?: string }) => e.code === 'WARDEN_BACKEND_ERROR' && /nothing was committed/.test(String(e.message)),
  );
  const r = await db.query<{ v: string }>('SELECT v FROM t WHERE id = 2');
  assert.equal(r.rows[0]!.v, 'v2');
  const ok = await connector.run("UPDATE t SET v = 'changed' WHERE id = 3 RETURNING id", [], opts(false));
  assert.deepEqual(ok.rows, [[3]]);
});
