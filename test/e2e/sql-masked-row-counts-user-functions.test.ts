/**
 * The row-count channel of sql-masked-row-counts.test.ts through a set-returning function that
 * is not pg_catalog's: a public function declared RETURNS SETOF or RETURNS TABLE, which a grant
 * with no `sql` block (every function) or one listing it (`functions: [public.explode]`) lets an
 * agent call. Fed the masked column, the number of rows it returns is computed from the value
 * (`SELECT count(*) FROM (SELECT public.explode(email) FROM users) x` is the first character's
 * code). Via `warden serve` against a real PostgreSQL: without masks the count comes back (the
 * leak); under a partial mask on users.email Warden asks the catalog (pg_proc.proretset) and
 * refuses (rule masking.columns); a scalar function of the same grant, and the set-returning
 * one over another column, still run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, EMAIL_MASK, noLeakOf, ownTables, refusalOf, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const SECRET = 'alice.secret@example.com';
const MASKS = EMAIL_MASK;
const LISTED = `
rules:
  - id: agents
    effect: allow
    who: { groups: [analysts] }
    tool: query_database
    on: [db]
    sql: { statements: [select], read: [public.users], functions: [count, substr, public.explode, public.spread, public.width] }
`;

/** Statements whose one cell is a count computed from the email, and that count. */
const ROW_COUNTS: readonly (readonly [string, string])[] = [
  ['SELECT count(*) AS n FROM (SELECT public.explode(substr(email, 1, 1)) FROM public.users WHERE id = 1) x', '97'],
  ['SELECT count(*) AS n FROM (SELECT id, public.spread(email) AS z FROM public.users WHERE id = 1) x', String(SECRET.length)],
];

let db: TestDatabase;
const wardens: Record<'plain' | 'masked' | 'listed', SqlWarden | undefined> = { plain: undefined, masked: undefined, listed: undefined };

before(async () => {
  db = await createTestDatabase({ prefix: 'e2eusersrf' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text, email text);
    INSERT INTO users VALUES (1, 'Alice', '${SECRET}'), (2, 'Bob', 'bob@example.com');
    CREATE FUNCTION public.explode(t text) RETURNS SETOF int LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.generate_series(1, pg_catalog.ascii(t))';
    CREATE FUNCTION public.spread(t text) RETURNS TABLE (n int) LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.generate_series(1, pg_catalog.length(t))';
    CREATE FUNCTION public.width(t text) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.length(t)';
  `);
  await ownTables(db, ['users']);
  [wardens.plain, wardens.masked, wardens.listed] = await Promise.all([
    startSqlWarden(db, { 'p.yaml': ANALYSTS_READ_ALL }),
    startSqlWarden(db, { 'p.yaml': MASKS + ANALYSTS_READ_ALL }),
    startSqlWarden(db, { 'p.yaml': MASKS + LISTED }),
  ]);
});

after(async () => {
  await Promise.all(Object.values(wardens).map((x) => x?.close()));
  await db?.drop();
});

const rows = (r: { structured?: unknown }): string[][] => (r.structured as { rows: unknown[][] }).rows.map((row) => row.map(String));

test('without masks each user set-returning function returns as many rows as the email computes (the leak)', async () => {
  for (const [sql, n] of ROW_COUNTS) {
    const r = await wardens.plain!.query(sql);
    assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
    assert.deepEqual(rows(r), [[n]], sql);
  }
});

describe('under a mask on users.email', () => {
  const refused = refusalOf([SECRET, 'alice.secret']);
  for (const grant of ['masked', 'listed'] as const) {
    test(`a user set-returning function fed the masked column is refused (${grant === 'masked' ? 'a grant with no sql block' : 'a grant listing the function'})`, async () => {
      for (const [sql] of ROW_COUNTS) refused(await wardens[grant]!.query(sql), sql, /masked column public\.users\.email .*public\.(explode|spread), a set-returning function/);
    });
  }

  const SCALAR_AND_CONSTANTS = [
    'SELECT count(*) AS n FROM public.users WHERE public.width(email) > 3',
    "SELECT count(*) AS n FROM (SELECT id, public.spread('abc') AS z FROM public.users WHERE id = 1) x",
  ];

  test('a scalar user function fed the masked column, and the set-returning one over constants, still run under the grant listing them', async () => {
    const noLeak = noLeakOf([SECRET]);
    for (const sql of SCALAR_AND_CONSTANTS) {
      const r = await wardens.listed!.query(sql);
      assert.equal(r.isError, false, `listed: ${sql}: ${r.text.slice(0, 300)}`);
      noLeak(r, sql);
    }
  });

  test('under the grant with no sql block they are refused: it names no function, so none is trusted to read under masks (sql-masked-function-bodies.test.ts)', async () => {
    for (const sql of SCALAR_AND_CONSTANTS) refused(await wardens.masked!.query(sql), sql, /public\.(width|spread), a function outside pg_catalog .*not named by the grant's functions/);
  });
});
