/**
 * A connection URL carries the address and the login, never session settings: pg reads the URL's
 * parameters over the options Warden gives it, so `?options=...` (as a hosting provider's URL
 * often has) replaced the read pool's startup options whole (no default_transaction_read_only, no
 * statement_timeout, no pinned search_path or standard_conforming_strings), and
 * `?statement_timeout=0` undid the timeout. Driven through a real `warden serve` over MCP against
 * a real PostgreSQL: the call is refused with WARDEN_CONFIG naming the connection and the
 * parameter, never the URL or the password; the transcript store refuses such a URL at open.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, startSqlWarden, type SqlWarden } from '../../support/sql-warden.js';
import { openPgStore } from '../../../src/recorder/index.js';
import { pgUrlSessionParams } from '../../../src/pg-url-params.js';

let db: TestDatabase;
const wardens: SqlWarden[] = [];

before(async () => {
  db = await createTestDatabase({ prefix: 'url_params' });
  await db.query(`GRANT ALL ON SCHEMA public TO ${db.role}`); // the store creates its tables there
});

after(async () => {
  await Promise.all(wardens.map((w) => w.close()));
  await db?.drop();
});

/** A warden whose connection URL is the test database's with `query` appended. */
async function wardenWith(query: string): Promise<SqlWarden> {
  const w = await startSqlWarden({ ...db, url: `${db.url}${query}` }, { 'p.yaml': ANALYSTS_READ_ALL });
  wardens.push(w);
  return w;
}

for (const [query, named] of [
  ['?options=-c%20search_path%3Dpublic', 'options'],
  ['?options=--default_transaction_read_only%3Doff', 'options'],
  ['?statement_timeout=0', 'statement_timeout'],
  ['?idle_in_transaction_session_timeout=0&query_timeout=0', 'idle_in_transaction_session_timeout, query_timeout'],
] as const) {
  test(`a URL with ${query} is refused (WARDEN_CONFIG naming the parameter, never the URL), and nothing runs`, async () => {
    const w = await wardenWith(query);
    for (const sql of ['SHOW default_transaction_read_only', 'SHOW statement_timeout']) {
      const r = await w.query(sql);
      assert.equal(r.isError, true, `${sql}: ${r.text}`);
      assert.match(r.text, /WARDEN_CONFIG/, r.text);
      assert.match(r.text, new RegExp(`connection db: its URL carries session parameters \\(${named}\\)`), r.text);
      for (const secret of [db.password, db.url, '127.0.0.1']) assert.ok(!r.text.includes(secret), r.text);
    }
  });
}

test('a URL with only address, login and sslmode=disable still connects, read-only with its pinned settings', async () => {
  const w = await wardenWith('?sslmode=disable');
  for (const [name, value] of [['default_transaction_read_only', 'on'], ['standard_conforming_strings', 'on']]) {
    const r = await w.query(`SHOW ${name}`);
    assert.equal(r.isError, false, r.text);
    assert.equal((r.structured as { rows: string[][] }).rows[0]![0], value);
  }
});

test('names in the error are pg parameter names; other keys are counted, never quoted (a password piece could be one)', () => {
  assert.deepEqual(pgUrlSessionParams('postgres://u:p@h/d?host=/s&port=5432&user=u&password=p&sslmode=require'), []);
  assert.deepEqual(pgUrlSessionParams('postgres://u:p@h/d?options=x&Hunter2Secret=1&schema=public&x=y'), ['options', 'schema', '2 other parameters']);
  assert.deepEqual(pgUrlSessionParams('postgres://u:p@h/d'), []);
  assert.deepEqual(pgUrlSessionParams('postgres://u:p@/d?options=x'), ['options'], 'a URL without a host is read as pg reads it');
  assert.deepEqual(pgUrlSessionParams('postgres://u:pa?options=1@h:bad/d'), [], 'a URL that does not parse: pg refuses it itself');
  assert.deepEqual(pgUrlSessionParams('postgres://u:p@ho st/d?options=x'), ['options'], 'pg encodes a space before it parses: so is it read here');
  assert.deepEqual(pgUrlSessionParams('postgres://u:p%zz@h/d?statement_timeout=0'), ['statement_timeout']);
});

test('the transcript store refuses a URL with session parameters at open (its synchronous_commit and an auditor\'s read-only would go)', async () => {
  for (const readOnly of [false, true]) {
    await assert.rejects(openPgStore(`${db.url}?options=-c%20synchronous_commit%3Doff`, { readOnly }), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'WARDEN_CONFIG', e.message);
      assert.match(e.message, /transcript store URL carries session parameters \(options\)/);
      for (const secret of [db.password, db.url]) assert.ok(!e.message.includes(secret), e.message);
      return true;
    });
  }
});
