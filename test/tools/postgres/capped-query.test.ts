/**
 * A read's capped query (capped-query.ts) against a real PostgreSQL: rows come back as arrays,
 * parsed by the pool's type parsers (dates and times as PostgreSQL's text, integers as numbers,
 * numeric as text, NULL as null), at most max_rows of them with `truncated` set past it, a
 * statement with no result columns answers rows with no values, and an error is PostgreSQL's.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PgConnector, type RunOptions } from '../../../tools/postgres/connector.js';
import type { PostgresConnection } from '../../../tools/postgres/config.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';

const conn = (url: string): PostgresConnection => ({ name: 'db', type: 'postgres', url, statement_timeout: 10_000, max_rows: 1000, max_bytes: 1 << 20, pool_size: 2 });
const opts = (maxRows: number): RunOptions => ({ readOnly: true, maxRows, maxBytes: 1 << 20, timeoutMs: 10_000, signal: new AbortController().signal, principal: 'p' });

let db: TestDatabase;
let connector: PgConnector;

before(async () => {
  db = await createTestDatabase({ prefix: 'capped' });
  await db.query(`CREATE TABLE items (id int PRIMARY KEY, name text, total numeric, created timestamptz, day date);
    INSERT INTO items SELECT g, CASE WHEN g = 2 THEN NULL ELSE 'item ' || g END, g * 1.25, '2026-01-01 00:00:00+00'::timestamptz + g * interval '1 minute', '2026-01-01'::date + g FROM generate_series(1, 30) g;
    GRANT SELECT ON items TO ${db.role}`);
  connector = new PgConnector(conn('env:DB'), { resolve: async () => db.url });
});

after(async () => {
  await connector?.close();
  await db?.drop();
});

test('rows are arrays parsed by the pool types: integers as numbers, numeric and dates as PostgreSQL text, NULL as null', async () => {
  const r = await connector.run('SELECT 1', [], opts(10));
  assert.deepEqual(r.rows, [[1]]);
  const q = await connector.run('SELECT id, name, total, created AT TIME ZONE \'UTC\' AS created_utc, day FROM items WHERE id <= $1 ORDER BY id', [3], opts(10));
  assert.deepEqual(q.fields.map((f) => f.name), ['id', 'name', 'total', 'created_utc', 'day']);
  assert.deepEqual(q.rows, [
    [1, 'item 1', '1.25', '2026-01-01 00:01:00', '2026-01-02'],
    [2, null, '2.50', '2026-01-01 00:02:00', '2026-01-03'],
    [3, 'item 3', '3.75', '2026-01-01 00:03:00', '2026-01-04'],
  ]);
  assert.equal(q.command, 'SELECT');
  assert.equal(q.rowCount, 3);
  assert.equal(q.truncated, false);
  // timestamptz stays text too (no Date object): its text form, whatever the session's zone.
  const tz = await connector.run('SELECT created FROM items WHERE id = 1', [], opts(10));
  assert.equal(typeof tz.rows[0]![0], 'string');
});

test('at most max_rows rows, truncated past it; no result columns, empty rows; an error is PostgreSQL\'s', async () => {
  const r = await connector.run('SELECT id FROM items ORDER BY id', [], opts(5));
  assert.deepEqual(r.rows, [[1], [2], [3], [4], [5]]);
  assert.equal(r.truncated, true);
  const none = await connector.run('SELECT FROM items WHERE id = 1', [], opts(5));
  assert.deepEqual(none.fields, []);
  assert.equal(none.rows.length, 1);
  assert.deepEqual(none.rows[0], []);
  await assert.rejects(connector.run('SELECT nope FROM items', [], opts(5)), /nope/);
  // The session that saw the error was destroyed; the next read runs as before.
  assert.deepEqual((await connector.run('SELECT count(*)::int FROM items', [], opts(5))).rows, [[30]]);
});

test('a trailer runs after the statement in its round trip: its rows come back as text, the statement\'s rows untouched', async () => {
  const trailer = { text: 'SELECT $1::text AS a, count(*)::int AS n, NULL::text AS z FROM items WHERE id = ANY($2::int[])', values: ['x', [1, 2, 3]] };
  const r = await connector.run('SELECT id FROM items WHERE id <= 2 ORDER BY id', [], { ...opts(10), trailer });
  assert.deepEqual(r.rows, [[1], [2]], 'the statement\'s rows only');
  assert.equal(r.rowCount, 2);
  assert.deepEqual(r.trailer, [['x', '3', null]], 'the trailer\'s rows, text cells (no type parsing), arrays bound as pg binds them');
  // A statement cut short by max_rows (its portal suspended): the trailer still runs after it.
  const cut = await connector.run('SELECT id FROM items ORDER BY id', [], { ...opts(3), trailer: { text: 'SELECT n FROM generate_series(1, 2) n', values: [] } });
  assert.deepEqual(cut.rows, [[1], [2], [3]]);
  assert.equal(cut.truncated, true);
  assert.deepEqual(cut.trailer, [['1'], ['2']]);
  // A statement with no rows, and one that fails (PostgreSQL runs nothing after the error before Sync).
  const none = await connector.run('SELECT id FROM items WHERE false', [], { ...opts(3), trailer });
  assert.deepEqual(none.rows, []);
  assert.deepEqual(none.trailer, [['x', '3', null]]);
  await assert.rejects(connector.run('SELECT nope FROM items', [], { ...opts(3), trailer }), /nope/);
  // A trailer that fails fails the read (no rows are returned without its answer).
  await assert.rejects(connector.run('SELECT id FROM items', [], { ...opts(3), trailer: { text: 'SELECT 1/0', values: [] } }), /division by zero/);
  // Without a trailer, no trailer answer.
  assert.equal((await connector.run('SELECT 1', [], opts(3))).trailer, undefined);
});
