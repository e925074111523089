/**
 * A client's cancel that arrives while PostgreSQL runs the statement (the call's signal aborts)
 * stops it there, against a real server: a write is cancelled and never committed, a read is
 * cancelled and frees its pool slot (one connection per pool, so the next call needs it back),
 * both answer WARDEN_CANCELLED at once; a cancel that arrives once COMMIT is sent finds the
 * write done and the call answers with its result; an uncancelled call runs as before.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PgConnector, type RunOptions } from '../../../tools/postgres/connector.js';
import type { PostgresConnection } from '../../../tools/postgres/config.js';
import { createTestDatabase, type TestDatabase } from '../../support/pg-cluster.js';

const conn = (url: string): PostgresConnection => ({ name: 'db', type: 'postgres', url, statement_timeout: 10_000, max_rows: 10, max_bytes: 65536, pool_size: 1 });

let db: TestDatabase;
let connector: PgConnector;

before(async () => {
  db = await createTestDatabase({ prefix: 'pgcancel' });
  await db.query('CREATE TABLE t (v int)');
  await db.query(`ALTER TABLE t OWNER TO ${db.role}`);
  // A deferred constraint trigger runs at COMMIT: it holds the COMMIT open for a while.
  await db.query(`CREATE TABLE slow_commit (v int)`);
  await db.query(`ALTER TABLE slow_commit OWNER TO ${db.role}`);
  await db.query(`CREATE FUNCTION public.sleep_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_catalog.pg_sleep(1); RETURN NULL; END $$`);
  await db.query(`CREATE CONSTRAINT TRIGGER sleepy AFTER INSERT ON slow_commit DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION public.sleep_at_commit()`);
  connector = new PgConnector(conn('env:DB'), { resolve: async () => db.url });
  // Each pool's one session connected beforehand: under load a first connection took longer
  // than the tests' 300 ms cancel, which then came before the statement was sent.
  await connector.run('SELECT 1', [], { readOnly: true, maxRows: 1, timeoutMs: 10_000 });
  await connector.run('SELECT 1', [], { readOnly: false, maxRows: 1, timeoutMs: 10_000 });
});

after(async () => {
  await connector?.close();
  await db?.drop();
});

const opts = (readOnly: boolean, signal?: AbortSignal): RunOptions => ({ readOnly, maxRows: 10, timeoutMs: 10_000, ...(signal ? { signal } : {}) });
const abortAfter = (ms: number): AbortSignal => AbortSignal.timeout(ms);
const count = async (table: string): Promise<number> => (await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]!.n;

/** Backends of this test's database still running pg_sleep (a statement the cancel did not reach). */
const sleepers = async (): Promise<number> => {
  for (let i = 0; i < 20; i++) {
    const r = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1 AND state = 'active' AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()`,
      [db.dbName],
    );
    if (r.rows[0]!.n === 0) return 0;
    await new Promise((res) => setTimeout(res, 50));
  }
  return 1;
};

async function cancelled(p: Promise<unknown>): Promise<{ ms: number; message: string }> {
  const t0 = Date.now();
  const err = await p.then(
    () => assert.fail('the cancelled call returned a result'),
    (e: unknown) => e as { code?: string; message?: string },
  );
  assert.equal(err.code, 'WARDEN_CANCELLED', String(err.message));
  return { ms: Date.now() - t0, message: String(err.message) };
}

test('a write cancelled while it runs is cancelled in PostgreSQL, never committed, and answers at once', async () => {
  const t0 = Date.now();
  const { message } = await cancelled(connector.run('INSERT INTO t SELECT 1 FROM pg_catalog.pg_sleep(3)', [], opts(false, abortAfter(300))));
  assert.ok(Date.now() - t0 < 2000, `answered after ${Date.now() - t0} ms`);
  assert.match(message, /nothing was committed/);
  assert.equal(await sleepers(), 0, 'the statement no longer runs in PostgreSQL');
  assert.equal(await count('t'), 0, 'no row');
  // Past the time the statement would have taken: still nothing committed.
  await new Promise((res) => setTimeout(res, 3000 - (Date.now() - t0)));
  assert.equal(await count('t'), 0, 'no row later either');
  // The write pool (one connection) still works.
  const ok = await connector.run('INSERT INTO t VALUES (2)', [], opts(false, new AbortController().signal));
  assert.equal(ok.rowCount, 1);
  assert.equal(await count('t'), 1);
  await db.query('TRUNCATE t');
});

test('a read cancelled while it runs is cancelled in PostgreSQL and frees its pool slot', async () => {
  const t0 = Date.now();
  await cancelled(connector.run('SELECT pg_catalog.pg_sleep(5)', [], opts(true, abortAfter(300))));
  assert.ok(Date.now() - t0 < 2000, `answered after ${Date.now() - t0} ms`);
  assert.equal(await sleepers(), 0, 'the statement no longer runs in PostgreSQL');
  const t1 = Date.now();
  const r = await connector.run('SELECT 41 + 1', [], opts(true, new AbortController().signal));
  assert.equal(String(r.rows[0]![0]), '42');
  // Uncancelled, the slot would come back with pg_sleep(5)'s end, 5 s after it started.
  assert.ok(Date.now() - t1 < 3000, 'the pool (one connection) had its slot back');
});

test('a call whose signal aborted before it started never reaches PostgreSQL', async () => {
  const ac = new AbortController();
  ac.abort();
  await cancelled(connector.run('INSERT INTO t VALUES (3)', [], opts(false, ac.signal)));
  assert.equal(await count('t'), 0);
});

test('a cancel that arrives once COMMIT is sent finds the write done, and the call returns its result', async () => {
  const ac = new AbortController();
  const running = connector.run('INSERT INTO slow_commit VALUES (1)', [], opts(false, ac.signal));
  // The INSERT itself is instant; COMMIT runs the deferred trigger (1 s).
  await new Promise((res) => setTimeout(res, 300));
  ac.abort();
  const r = await running;
  assert.equal(r.rowCount, 1, 'the call says the write ran');
  assert.equal(await count('slow_commit'), 1, 'and it did');
});

test('uncancelled calls with a signal run as before', async () => {
  const signal = new AbortController().signal;
  const w = await connector.run('INSERT INTO t SELECT 7 FROM pg_catalog.pg_sleep(0.2)', [], opts(false, signal));
  assert.equal(w.rowCount, 1);
  const r = await connector.run('SELECT v FROM t', [], opts(true, signal));
  assert.deepEqual(r.rows.map((row) => String(row[0])), ['7']);
  await db.query('TRUNCATE t');
});
