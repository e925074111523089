/**
 * A read grant's statements run in a read-only transaction (README, Defence in depth), via
 * `warden serve` against a real PostgreSQL. The read-only transaction is what keeps a function
 * the grant lists from writing (a user function the admin took for a report, which in fact
 * inserts): PostgreSQL refuses its INSERT there. The hole: `EXPLAIN ANALYZE SELECT ...` under a
 * grant of `[select, explain]` ran on the write pool, in a READ WRITE transaction that was
 * committed, so the same function's INSERT was kept. Now an EXPLAIN ANALYZE whose statement only
 * reads runs read-only like the statement itself, and one of a write still needs the write grant.
 * And functions that write where a read-only transaction does not stop them (index maintenance:
 * brin_summarize_new_values, gin_clean_pending_list, as the index's owner) are never allowed
 * under a read grant, even one that lists them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const POLICY = `
rules:
  - id: analysts-read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql:
      statements: [select, explain]
      read: [public.items]
      functions: [count, public.report, brin_summarize_new_values, gin_clean_pending_list]
`;

let db: TestDatabase;
let w: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2ereadonly' });
  // Autovacuum off for both: it summarises new BRIN ranges and empties GIN pending lists itself
  // (2,000 inserts pass its insert threshold), and on a slow machine it did so before the fixture
  // check below, which then found nothing left to summarise.
  await db.query(`
    CREATE TABLE items (id int PRIMARY KEY, tags int[]) WITH (autovacuum_enabled = off);
    INSERT INTO items VALUES (1, '{1}'), (2, '{2}');
    CREATE TABLE readings (id int) WITH (autovacuum_enabled = off);
    CREATE INDEX readings_brin ON readings USING brin (id) WITH (pages_per_range = 1);
    INSERT INTO readings SELECT generate_series(1, 2000);
    CREATE INDEX items_gin ON items USING gin (tags) WITH (fastupdate = on);
    INSERT INTO items VALUES (10, '{10}');
    DELETE FROM items WHERE id = 10;
    CREATE TABLE audit (at int);
    CREATE FUNCTION public.report() RETURNS int LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO public.audit VALUES (1); RETURN 1; END $$;
  `);
  await ownTables(db, ['items', 'audit', 'readings']);
  await db.query(`ALTER FUNCTION public.report() OWNER TO ${db.role}`);
  w = await startSqlWarden(db, { 'p.yaml': POLICY });
});

after(async () => {
  await w?.close();
});

const audited = async (): Promise<number> => (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit')).rows[0]!.n;

test('a function that writes is refused by the read-only transaction, in a SELECT and in EXPLAIN ANALYZE of it', async () => {
  for (const sql of [
    'SELECT public.report() AS r FROM public.items',
    'EXPLAIN ANALYZE SELECT public.report() AS r FROM public.items',
    'EXPLAIN ANALYZE SELECT count(*) FROM public.items WHERE public.report() = 1',
  ]) {
    const r = await w.query(sql);
    assert.equal(r.isError, true, `${sql} wrote: ${r.text.slice(0, 300)}`);
    assert.match(r.text, /read-only transaction/, sql);
    assert.equal(await audited(), 0, `${sql} left a row in audit`);
  }
});

test('EXPLAIN ANALYZE of a plain read still runs, and EXPLAIN ANALYZE of a write still needs a write grant', async () => {
  const r = await w.query('EXPLAIN ANALYZE SELECT count(*) FROM public.items');
  assert.equal(r.isError, false, r.text.slice(0, 300));
  assert.match(r.text, /actual time/);
  const write = await w.query('EXPLAIN ANALYZE INSERT INTO public.items VALUES (3)');
  assert.equal(write.isError, true);
  assert.match(write.text, /^WARDEN_DENIED: /);
  assert.equal((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM items')).rows[0]!.n, 2);
});

test('index maintenance, which a read-only transaction lets write, is never allowed under a read grant', async () => {
  const calls = ["SELECT brin_summarize_new_values('public.readings_brin') AS n", "SELECT gin_clean_pending_list('public.items_gin') AS n"];
  for (const sql of calls) {
    const r = await w.query(sql);
    assert.equal(r.isError, true, `${sql} ran: ${r.text.slice(0, 300)}`);
    assert.match(r.text, /^WARDEN_DENIED: .*is never allowed under a read grant/, sql);
  }
  // The fixture: PostgreSQL itself runs them, and writes, in a read-only transaction of the role.
  const c = new pg.Client({ connectionString: db.url, options: '-c default_transaction_read_only=on' });
  await c.connect();
  try {
    assert.equal((await c.query('SHOW transaction_read_only')).rows[0]!.transaction_read_only, 'on');
    assert.ok(Number((await c.query<{ n: number }>(calls[0]!)).rows[0]!.n) > 0, 'brin_summarize_new_values summarised ranges');
    assert.ok(Number((await c.query<{ n: number }>(calls[1]!)).rows[0]!.n) > 0, 'gin_clean_pending_list moved pending pages');
  } finally {
    await c.end();
  }
});
