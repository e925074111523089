/**
 * LOCK TABLE through `warden serve` against a real PostgreSQL. Only ACCESS SHARE (what a SELECT
 * takes) is a read: every stronger mode (the default ACCESS EXCLUSIVE, SHARE, ROW EXCLUSIVE...)
 * blocks the table's writers or readers, which PostgreSQL itself grants only with INSERT, UPDATE,
 * DELETE or TRUNCATE, so it counts as writing the table whole. The hole: LOCK named its tables as
 * reads, so a grant reading public.users with `lock` took ACCESS EXCLUSIVE on it, queueing every
 * reader and writer of the table behind it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql } from '../../tools/postgres/analysis/index.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const POLICY = `
rules:
  - id: lockers
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [select, lock], read: [public.users], write: [public.orders] }
`;

describe('LOCK facts', () => {
  test('ACCESS SHARE reads; every other mode writes the table whole', () => {
    const facts = (sql: string) => {
      const f = analyzeSql(sql);
      return { reads: f.reads, writes: f.writes, columns: f.writtenColumns.map((c) => `${c.table}.${c.column}`) };
    };
    assert.deepEqual(facts('LOCK TABLE users IN ACCESS SHARE MODE'), { reads: ['public.users'], writes: [], columns: [] });
    for (const mode of ['', ' IN ROW SHARE MODE', ' IN ROW EXCLUSIVE MODE', ' IN SHARE UPDATE EXCLUSIVE MODE', ' IN SHARE MODE', ' IN SHARE ROW EXCLUSIVE MODE', ' IN EXCLUSIVE MODE', ' IN ACCESS EXCLUSIVE MODE']) {
      for (const wait of ['', ' NOWAIT']) {
        assert.deepEqual(facts(`LOCK TABLE users${mode}${wait}`), { reads: [], writes: ['public.users'], columns: ['public.users.*'] }, mode + wait);
      }
    }
    assert.deepEqual(facts('LOCK TABLE ONLY users IN SHARE MODE').writes, ['public.users']);
    assert.deepEqual(facts('LOCK users, public.orders IN SHARE MODE').writes, ['public.orders', 'public.users']);
  });

});

describe('LOCK through warden serve', () => {
  let db: TestDatabase;
  let warden: SqlWarden;
  before(async () => {
    db = await createTestDatabase({ prefix: 'e2elock' });
    await db.query('CREATE TABLE users (id int PRIMARY KEY); CREATE TABLE orders (id int PRIMARY KEY);');
    await ownTables(db, ['users', 'orders']);
    warden = await startSqlWarden(db, { 'p.yaml': POLICY });
  });
  after(async () => {
    await warden?.close();
    await db?.drop();
  });

  test('a table the grant only reads may be locked in ACCESS SHARE, not in a mode that blocks others', async () => {
    for (const sql of ['LOCK TABLE users', 'LOCK TABLE users IN ACCESS EXCLUSIVE MODE', 'LOCK users IN SHARE MODE NOWAIT', 'LOCK TABLE orders, users IN ROW EXCLUSIVE MODE']) {
      const r = await warden.query(sql);
      assert.equal(r.isError, true, `${sql} must be refused: ${r.text.slice(0, 300)}`);
      assert.match(r.text, /^WARDEN_DENIED: .*table public\.users may not be written/, sql);
    }
    for (const sql of ['LOCK TABLE users IN ACCESS SHARE MODE', 'LOCK TABLE orders', 'LOCK TABLE orders IN SHARE MODE']) {
      const r = await warden.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
    }
    const only = await warden.query('LOCK TABLE ONLY users');
    assert.match(only.text, /^WARDEN_DENIED: .*table public\.users may not be written/);
  });
});
