/**
 * Two channels past column masking found by red-teaming, via `warden serve` against a real
 * PostgreSQL, under a partial mask on users.email and a grant with no `sql` block (every
 * function allowed): a set-returning function fed the masked value, anywhere a statement may
 * call one (a subquery's or the outermost select list, ORDER BY, GROUP BY, DISTINCT ON),
 * multiplies the rows by a count computed from it (`SELECT count(*) FROM (SELECT
 * generate_series(1, ascii(substr(email, 1, 1))) FROM users) x` is the first character's
 * code); and a cast to a name type whose parser reports a dotted value as a cross-database
 * reference (SQLSTATE 0A000: `email::regconfig`, regoper, regcollation) quotes it in the message.
 * Without masks each query returns what it computes (the leak); under the mask the SRFs are
 * refused (rule masking.columns) and the 0A000 message is withheld, leaking nothing; SRFs over
 * other columns still read.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { emailMaskTrio, noLeakOf, ownTables, refusalOf, structuredRows, type SqlWarden } from '../support/sql-warden.js';

const SECRET = 'alice.secret@example.com';

/** Statements whose row count (or one count cell) is computed from the email, and what that is without masks. */
const ROW_COUNTS: readonly (readonly [string, string])[] = [
  ['SELECT count(*) AS n FROM (SELECT generate_series(1, ascii(substr(email, 1, 1))) FROM public.users WHERE id = 1) x', '97'],
  ['SELECT count(*) AS n FROM (SELECT id, generate_series(1, length(email)) AS z FROM public.users WHERE id = 1) x', String(SECRET.length)],
  ["SELECT count(*) AS n FROM (SELECT regexp_matches(email, 'e', 'g') FROM public.users WHERE id = 1) x", '5'],
  ["SELECT count(*) AS n FROM (SELECT unnest(string_to_array(email, '.')) FROM public.users WHERE id = 1) x", '3'],
  ["SELECT count(*) AS n FROM (SELECT pg_catalog.regexp_split_to_table(email, '') FROM public.users WHERE id = 1) x", String(SECRET.length)],
  ['SELECT count(*) AS n FROM (SELECT id FROM public.users WHERE id = 1 ORDER BY generate_series(1, length(email))) x', String(SECRET.length)],
  ['SELECT count(*) AS n FROM (SELECT count(*) FROM public.users WHERE id = 1 GROUP BY generate_series(1, length(email))) x', String(SECRET.length)],
  ['SELECT count(*) AS n FROM (SELECT DISTINCT ON (generate_series(1, length(email))) id FROM public.users WHERE id = 1) x', String(SECRET.length)],
];
/** The outermost query: its row count is the leak, whatever masking does to its cells. */
const OUTERMOST = [
  'SELECT id FROM public.users WHERE id = 1 ORDER BY generate_series(1, length(email))',
  'SELECT id, generate_series(1, length(email)) AS z FROM public.users WHERE id = 1',
];
/** Casts whose 0A000 message quotes the dotted value. */
const CROSS_DB = ['regconfig', 'regoper', 'regcollation'].map((t) => `SELECT id FROM public.users WHERE id = 1 AND email::${t} IS NOT NULL`);

let db: TestDatabase;
let plain: SqlWarden;
let masked: SqlWarden;
let maskedDerived: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2emaskrows' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text, email text);
    INSERT INTO users VALUES (1, 'Alice', '${SECRET}'), (2, 'Bob', 'bob@example.com');
  `);
  await ownTables(db, ['users']);
  ({ plain, masked, derived: maskedDerived } = await emailMaskTrio(db));
});

after(async () => {
  await Promise.all([plain, masked, maskedDerived].map((x) => x?.close()));
  await db?.drop();
});

const rows = structuredRows;

describe('without masks (the leak)', () => {
  test('each set-returning function returns as many rows as the email computes', async () => {
    for (const [sql, n] of ROW_COUNTS) {
      const r = await plain.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
      assert.deepEqual(rows(r), [[n]], sql);
    }
    for (const sql of OUTERMOST) {
      const r = await plain.query(sql);
      assert.equal(rows(r).length, SECRET.length, sql);
    }
  });
});

describe('under a mask on users.email', () => {
  const refused = refusalOf([SECRET, 'alice.secret']);
  test('a set-returning function fed the masked column is refused, wherever it is called', async () => {
    for (const [sql] of ROW_COUNTS) refused(await masked.query(sql), sql, /masked column public\.users\.email .*set-returning function/);
    for (const sql of OUTERMOST) {
      // Under on_derived: deny a computed output column is refused first; under mask, the row count is the leak.
      refused(await masked.query(sql), sql, /set-returning function|rule: masking\.on_derived/);
      refused(await maskedDerived.query(sql), sql, /set-returning function/);
    }
  });

  test('pg_sleep fed the masked column (a duration computed from it, timed by the agent) is refused, wherever it is called', async () => {
    for (const sql of [
      'SELECT id FROM public.users WHERE id = 1 AND pg_sleep(ascii(substr(email, 1, 1)) / 1000.0) IS NOT NULL',
      "SELECT id FROM public.users WHERE id = 1 AND pg_catalog.pg_sleep_for(make_interval(secs => length(email) / 1000.0)) IS NOT NULL",
      'SELECT pg_sleep(length(email) / 1000.0) FROM public.users WHERE id = 1',
    ]) refused(await masked.query(sql), sql, /masked column public\.users\.email .*pg_sleep/);
    const r = await masked.query('SELECT id FROM public.users WHERE id = 1 AND pg_sleep(0.001) IS NOT NULL');
    assert.equal(r.isError, false, r.text.slice(0, 300));
  });

  test('a cast whose cross-database-reference error (0A000) quotes the value has its message withheld', async () => {
    const noLeak = noLeakOf([SECRET, 'alice.secret']);
    for (const sql of CROSS_DB) {
      const r = await masked.query(sql);
      assert.equal(r.isError, true, sql);
      assert.match(r.text, /SQLSTATE 0A000.*withheld/, sql);
      noLeak(r, sql);
    }
  });

  test('set-returning functions over other columns, and filters on the masked one, still read', async () => {
    const noLeak = noLeakOf([SECRET]);
    for (const sql of [
      'SELECT count(*) AS n FROM (SELECT generate_series(1, length(name)) FROM public.users WHERE id = 1) x',
      "SELECT id, unnest(ARRAY[1, 2]) AS k FROM public.users WHERE email LIKE 'alice%' ORDER BY id, k",
      'SELECT g FROM generate_series(1, 3) g ORDER BY g',
    ]) {
      const r = await masked.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
      noLeak(r, sql);
    }
  });
});
