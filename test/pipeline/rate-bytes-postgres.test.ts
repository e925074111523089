/**
 * A bytes quota holds against calls already running: 16 query_database calls sent at once to a
 * real `warden serve` over a real PostgreSQL all pass the check before any result is charged;
 * together they must not deliver more bytes than the hour allows (one row at most over), the
 * ones that no longer fit are cut with a note, and a later call gets no more than what is left.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ownTables, sqlConfig, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const QUOTA = 30_000;
const ROW = 'x'.repeat(200);
const POLICY = `
rules:
  - id: read-big
    effect: allow
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.big, public.spin] }
`;

let db: TestDatabase;
let warden: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'ratebytes' });
  await db.query(`CREATE TABLE big AS SELECT n AS id, '${ROW}'::text AS pad FROM generate_series(1, 100) AS n`);
  await db.query('CREATE TABLE spin AS SELECT n FROM generate_series(1, 200) AS n');
  await ownTables(db, ['big', 'spin']);
  warden = await startSqlWarden(db, { 'p.yaml': POLICY }, `${sqlConfig()}rate_limits: { bytes_per_hour: ${QUOTA} }\n`);
});

after(async () => {
  await warden?.close();
  await db?.drop();
});

test('concurrent calls that all passed the check deliver no more bytes than the bytes quota', async () => {
  // Each result is ~20 KB (100 rows of ~205 bytes); the cross join keeps every statement running
  // a moment, so all 16 are admitted before the first result is charged.
  const sql = 'SELECT b.id, b.pad FROM big b CROSS JOIN (SELECT count(*) AS n FROM spin s1, spin s2) AS x ORDER BY b.id';
  const results = await Promise.all(Array.from({ length: 16 }, () => warden.query(sql)));
  const delivered = results.filter((r) => !r.isError);
  const bytes = delivered.reduce((n, r) => n + Buffer.byteLength(r.text), 0);
  const oneRow = Buffer.byteLength(`100\t${ROW}\n`);
  assert.ok(delivered.length >= 1, results.map((r) => r.text.slice(0, 200)).join('\n---\n'));
  assert.ok(bytes <= QUOTA + oneRow, `16 concurrent calls delivered ${bytes} bytes under a ${QUOTA}-byte quota`);
  const cut = delivered.filter((r) => /bytes-per-hour quota/.test(r.text));
  assert.ok(cut.length >= 1, 'a result that did not fit is cut, with a note');
  for (const r of cut) assert.match(r.text, /\(\d+ rows?, truncated\)/);
  for (const r of results.filter((x) => x.isError)) assert.match(r.text, /^WARDEN_RATE_LIMITED: /);
  // What the hour has left (less than a row) is all a later call may take: refused, or cut to it.
  const next = await warden.query(sql);
  if (next.isError) assert.match(next.text, /^WARDEN_RATE_LIMITED: .*bytes per hour/);
  else assert.match(next.text, /\(0 rows, truncated\)\nnote: cut to 0 of 100 rows: the bytes-per-hour quota/);
  const total = bytes + (next.isError ? 0 : Buffer.byteLength(next.text));
  assert.ok(total <= QUOTA + oneRow, `${total} bytes with the next call`);
});
