/**
 * A connection URL may carry connect_timeout and application_name (a hosting provider's URL often
 * does): neither changes what a session may do. They were refused with the session parameters.
 * Driven through a real `warden serve` over MCP against a real PostgreSQL: application_name is the
 * sessions' name in pg_stat_activity (the server's own view), and connect_timeout is accepted;
 * a bad value of either is refused with WARDEN_CONFIG naming the parameter, never the URL, the
 * password or the value; `options`, `fallback_application_name` and the rest stay refused.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, startSqlWarden, type SqlWarden } from '../../support/sql-warden.js';
import { urlPoolOptions } from '../../../tools/postgres/url-params.js';

let db: TestDatabase;
const wardens: SqlWarden[] = [];

before(async () => {
  db = await createTestDatabase({ prefix: 'url_harmless' });
});

after(async () => {
  await Promise.all(wardens.map((w) => w.close()));
  await db?.drop();
});

async function wardenWith(query: string): Promise<SqlWarden> {
  const w = await startSqlWarden({ ...db, url: `${db.url}${query}` }, { 'p.yaml': ANALYSTS_READ_ALL });
  wardens.push(w);
  return w;
}

test('connect_timeout and application_name in the URL are accepted; application_name is what the server shows', async () => {
  const w = await wardenWith('?connect_timeout=7&application_name=warden-analytics');
  const r = await w.query('SHOW application_name');
  assert.equal(r.isError, false, r.text);
  assert.equal((r.structured as { rows: string[][] }).rows[0]![0], 'warden-analytics');
  // The server's own view: the pooled session carries the name.
  const seen = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND usename = $2 AND application_name = 'warden-analytics'`, [db.dbName, db.role]);
  assert.ok(seen.rows[0]!.n >= 1, 'pg_stat_activity shows the name');
  // The session's settings are still Warden's.
  const ro = await w.query('SHOW default_transaction_read_only');
  assert.equal((ro.structured as { rows: string[][] }).rows[0]![0], 'on');
});

for (const [query, param] of [
  ['?connect_timeout=0', 'connect_timeout'],
  ['?connect_timeout=61', 'connect_timeout'],
  ['?connect_timeout=5s', 'connect_timeout'],
  ['?connect_timeout=5&connect_timeout=6', 'connect_timeout'],
  ['?application_name=a%27%3B%20DROP', 'application_name'],
  [`?application_name=${'x'.repeat(64)}`, 'application_name'],
  ['?application_name=', 'application_name'],
] as const) {
  test(`a URL with ${query.slice(0, 40)} is refused (WARDEN_CONFIG naming ${param}, never the URL or the value)`, async () => {
    const w = await wardenWith(query);
    const r = await w.query('SELECT 1 AS one');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /WARDEN_CONFIG/, r.text);
    assert.match(r.text, new RegExp(`connection db: its URL's ${param} must be`), r.text);
    for (const secret of [db.password, db.url, '127.0.0.1', 'DROP', 'xxxxxxxx']) assert.ok(!r.text.includes(secret), r.text);
  });
}

for (const query of ['?application_name=a&options=-c%20search_path%3Dpublic', '?fallback_application_name=x', '?connect_timeout=5&statement_timeout=0']) {
  test(`${query} is still refused as a session parameter`, async () => {
    const w = await wardenWith(query);
    const r = await w.query('SELECT 1 AS one');
    assert.equal(r.isError, true, r.text);
    assert.match(r.text, /WARDEN_CONFIG: connection db: its URL carries session parameters/, r.text);
  });
}

test('connect_timeout becomes the pools\' connection timeout (pg ignores it in a URL)', () => {
  assert.deepEqual(urlPoolOptions('postgres://u:p@h/d?connect_timeout=12', { name: 'db' }), { connectionTimeoutMillis: 12_000 });
  assert.deepEqual(urlPoolOptions('postgres://u:p@h/d', { name: 'db' }), {});
  assert.deepEqual(urlPoolOptions('postgres://u:p@h/d?application_name=app%20one', { name: 'db' }), { application_name: 'app one' });
});
