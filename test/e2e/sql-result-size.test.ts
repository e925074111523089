/**
 * What one read may make Warden hold, via `warden serve` against a real PostgreSQL, under a read
 * grant with the default functions (`@safe-read`, which has `repeat`): the bytes PostgreSQL
 * sends for a statement's rows are counted as they arrive, so
 * - a single cell longer than Node can hold as a string (`repeat(...)` of 540 million
 *   characters, or a recursive CTE doubling a string, which needs no function at all) ended
 *   the Warden process (the driver's parser threw ERR_STRING_TOO_LONG out of a socket event):
 *   every principal's calls and sessions with it;
 * - cells of an array or json type were counted as 16 bytes each against `max_bytes`, so
 *   `SELECT ARRAY[repeat('x', 5000000)]` returned 5 MB under a 64 KiB cap.
 * Now the statement is stopped once its rows pass the wire budget (four times max_bytes), its
 * session destroyed, and the read answered with the rows that fit, marked truncated; a write is
 * rolled back and refused; and array and json cells count their text.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const MAX_BYTES = 65536;
// statement_timeout: a minute, as the statements below build strings of hundreds of MB, which on a
// loaded two-core machine took more than 20 s (the wire cut, not the timeout, is what is checked).
const CONFIG = `
transcripts: { store: sqlite:warden.db }
responses: { structured_content: true }
identity: { stdio: { subject: agent, groups: [analysts] } }
connections:
  db: { type: postgres, url: env:TEST_DATABASE_URL, statement_timeout: 60s, max_bytes: ${MAX_BYTES}, max_rows: 1000 }
policies: [policies/*.yaml]
`;

/** A read-only grant: SELECT of public.items with the default functions (@safe-read). */
const READ_ONLY = `
rules:
  - id: analysts-read
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.items] }
  - id: analysts-write
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [update], write: [public.items] }
`;

/** 540 million characters: past V8's longest string (0x1fffffe8), built fast (memcpy of 10 kB pieces). */
const HUGE_CELL = "SELECT repeat(repeat('x', 10000), 54000) AS v";
/** The same length without any function: a recursive CTE doubling a string 29 times. */
const HUGE_CELL_NO_FUNCTION = "WITH RECURSIVE r(n, s) AS (SELECT 1, 'x'::text UNION ALL SELECT n + 1, s || s FROM r WHERE n < 30) SELECT s FROM r WHERE n = 30";

let db: TestDatabase;
let w: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2esize' });
  await db.query(`
    CREATE TABLE items (id int PRIMARY KEY, note text);
    INSERT INTO items SELECT g, 'note ' || g FROM generate_series(1, 50) g;
  `);
  await ownTables(db, ['items']);
  w = await startSqlWarden(db, { 'p.yaml': READ_ONLY }, CONFIG);
});

after(async () => {
  await w?.close();
});

/** Warden still answers an ordinary read, with the right row. */
async function stillServes(what: string): Promise<void> {
  const r = await w.query('SELECT id, note FROM public.items WHERE id = 7');
  assert.equal(r.isError, false, `after ${what}, Warden must still answer: ${r.text.slice(0, 300)}`);
  assert.deepEqual((r.structured as { rows: unknown[][] }).rows, [[7, 'note 7']], what);
}

describe('one read cannot make Warden hold more than its byte cap allows', () => {
  test('array and json cells count their text against max_bytes', async () => {
    for (const sql of [
      // Within the wire budget (320 KiB): cut by max_bytes alone.
      "SELECT ARRAY[repeat('x', 200000)] AS v",
      "SELECT ARRAY[repeat('x', 500000)] AS v",
      "SELECT ('[\"' || repeat('x', 500000) || '\"]')::json AS v",
      "SELECT id, ARRAY[repeat('y', 20000)] AS v FROM public.items ORDER BY id",
    ]) {
      const r = await w.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
      const s = r.structured as { rows: unknown[][]; truncated: boolean };
      assert.equal(s.truncated, true, sql);
      assert.ok(JSON.stringify(s.rows).length <= MAX_BYTES + 1024, `${sql}: ${JSON.stringify(s.rows).length} bytes of rows under a ${MAX_BYTES} cap`);
    }
    // Rows that fit are all kept: 3 rows of 20 000 characters each under 64 KiB.
    const r = await w.query("SELECT id, ARRAY[repeat('y', 20000)] AS v FROM public.items WHERE id <= 3 ORDER BY id");
    const s = r.structured as { rows: unknown[][]; truncated: boolean };
    assert.equal(s.truncated, false, r.text.slice(0, 300));
    assert.equal(s.rows.length, 3);
  });

  test('many rows of large cells are cut at the cap, the rows before it kept', async () => {
    const r = await w.query("SELECT id, repeat('z', 30000) AS v FROM public.items ORDER BY id");
    assert.equal(r.isError, false, r.text.slice(0, 300));
    const s = r.structured as { rows: unknown[][]; truncated: boolean };
    assert.equal(s.truncated, true);
    assert.deepEqual(s.rows.map((row) => row[0]), [1, 2]);
    await stillServes('many large rows');
  });

  test('a write whose RETURNING passes the wire budget is rolled back and refused', async () => {
    const sql = "UPDATE public.items SET note = 'changed' WHERE id = 9 RETURNING repeat(repeat('x', 10000), 54000) AS v";
    const r = await w.query(sql);
    assert.equal(r.isError, true, r.text.slice(0, 300));
    assert.match(r.text, /^WARDEN_BACKEND_ERROR: .*nothing was committed/);
    const row = await db.query<{ note: string }>('SELECT note FROM items WHERE id = 9');
    assert.equal(row.rows[0]!.note, 'note 9');
    await stillServes('the write');
  });

  test('a cell longer than a JavaScript string can be is cut, and Warden lives', async () => {
    for (const sql of [HUGE_CELL, HUGE_CELL_NO_FUNCTION]) {
      const r = await w.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
      const s = r.structured as { rows: unknown[][]; truncated: boolean };
      assert.equal(s.truncated, true, sql);
      assert.deepEqual(s.rows, [], sql);
      assert.ok(r.text.length < 4 * MAX_BYTES, `${sql}: the answer is ${r.text.length} characters`);
      await stillServes(sql);
    }
  });
});

test('limits.max_result_bytes caps query_database below a larger connection max_bytes, as it caps ssh_run and the kubectl tools', async (t) => {
  const limited = CONFIG.replace('transcripts: {', 'limits: { max_result_bytes: 40000 }\ntranscripts: {');
  const x = await startSqlWarden(db, { 'p.yaml': READ_ONLY }, limited);
  t.after(() => x.close());
  const r = await x.query("SELECT id, repeat('z', 15000) AS v FROM public.items ORDER BY id");
  assert.equal(r.isError, false, r.text.slice(0, 300));
  const s = r.structured as { rows: unknown[][]; truncated: boolean };
  assert.equal(s.truncated, true);
  // 15,000 characters a row: two rows fit under 40,000 (four would under the connection's 64 KiB).
  assert.deepEqual(s.rows.map((row) => row[0]), [1, 2]);
});
