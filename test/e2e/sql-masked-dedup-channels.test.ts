/**
 * Channels past column masking found by red-teaming, via `warden serve` against a real
 * PostgreSQL under a partial mask on users.email and a grant with no `sql` block:
 * - a view whose own definition feeds the masked column to a user set-returning function
 *   (`CREATE VIEW v AS SELECT id, public.explode(email) FROM users`): `SELECT count(*) FROM v`
 *   is a count computed from the value, though the statement names no masked column;
 * - deduplication compares values: `SELECT DISTINCT least(ascii(email), g) ... generate_series(1, 255) g`
 *   has as many rows as the first character's code, and so do UNION, INTERSECT and EXCEPT
 *   (without ALL) of such branches, in a subquery or a view;
 * - a recursive CTE carrying the masked value iterates as many times as its recursive term's
 *   condition on it allows (`WHERE n < ascii(e)`), through the self-reference;
 * - program_limit_exceeded errors (SQLSTATE 54000) print numbers computed from the value
 *   (`chr(ascii(email) * 100000)` -> "requested character too large for encoding: 9700000").
 * Without masks each returns what it computes (the leak); under the mask each is refused, or its
 * message withheld, leaking nothing; the plain forms the README allows still run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { emailMaskTrio, noLeakOf, ownTables, refusalOf, structuredRows, type SqlWarden } from '../support/sql-warden.js';

const SECRET = 'alice.secret@example.com';
/** least(first character's code, g) over g in 1..255 takes exactly `code` distinct values. */
const CODES = 'SELECT least(ascii(email), g) AS n FROM public.users, generate_series(1, 255) g WHERE id = 1';
const VIEWS = ['v_user_srf', 'v_user_srf_where', 'v_user_srf_nested', 'v_distinct', 'v_union', 'v_recursive', 'v_scalar'];

/** Statements whose one cell is a count computed from alice's email, and that count. */
const LEAKS: readonly (readonly [string, string, RegExp])[] = [
  ['SELECT count(*) AS n FROM public.v_user_srf WHERE id = 1', '97', /view public\.v_user_srf's own definition in the arguments of public\.explode, a set-returning function/],
  ['SELECT count(*) AS n FROM public.v_user_srf_where WHERE id = 1', '1', /view public\.v_user_srf_where's own definition/],
  ['SELECT count(*) AS n FROM public.v_user_srf_nested WHERE id = 1', '97', /view public\.v_user_srf's own definition in the arguments of public\.explode, a set-returning function/],
  ['SELECT count(*) AS n FROM public.v_distinct', '97', /view public\.v_distinct's own definition/],
  ['SELECT count(*) AS n FROM public.v_union', '98', /view public\.v_union's own definition/],
  ['SELECT count(*) AS n FROM public.v_recursive', '97', /view public\.v_recursive's own definition/],
  [`SELECT count(*) AS n FROM (SELECT DISTINCT least(ascii(email), g) FROM public.users, generate_series(1, 255) g WHERE id = 1) x`, '97', /used in a subquery/],
  [`SELECT count(*) AS n FROM (${CODES} UNION SELECT 0) x`, '98', /used in a subquery/],
  [`SELECT count(*) AS n FROM (${CODES} INTERSECT SELECT g FROM generate_series(1, 255) g) x`, '97', /used in a subquery/],
  [`SELECT count(*) AS n FROM (SELECT g FROM generate_series(1, 255) g EXCEPT ${CODES}) x`, '158', /used in a subquery/],
  ['WITH RECURSIVE r(n, e) AS (SELECT 1, email FROM public.users WHERE id = 1 UNION ALL SELECT n + 1, e FROM r WHERE n < ascii(e)) SELECT count(*) AS n FROM r', '97', /used in a subquery/],
  ['WITH RECURSIVE r(n, e) AS (SELECT 1, email FROM public.users WHERE id = 1 UNION SELECT least(n + 1, ascii(e)), e FROM r) SELECT count(*) AS n FROM r', '97', /used in a subquery/],
  ['WITH RECURSIVE r(n, l) AS (SELECT 1, length(email) FROM public.users WHERE id = 1 UNION ALL SELECT n + 1, l FROM r WHERE n < l) SELECT count(*) AS n FROM r', String(SECRET.length), /used in a subquery/],
  ['WITH RECURSIVE r(n, e) AS (SELECT 1, email FROM public.users WHERE id = 1 UNION ALL SELECT n + 1, e FROM r, public.explode(e) x WHERE n < 2) SELECT count(*) AS n FROM r', '98', /public\.users\.email/],
];

let db: TestDatabase;
const w: Record<'plain' | 'masked' | 'derived', SqlWarden | undefined> = { plain: undefined, masked: undefined, derived: undefined };

before(async () => {
  db = await createTestDatabase({ prefix: 'e2emaskdedup' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text, email text);
    INSERT INTO users VALUES (1, 'Alice', '${SECRET}'), (2, 'Bob', 'bob@example.com');
    CREATE FUNCTION public.explode(t text) RETURNS SETOF int LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.generate_series(1, pg_catalog.ascii(t))';
    CREATE FUNCTION public.width(t text) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.length(t)';
    CREATE VIEW v_user_srf AS SELECT id, public.explode(email) AS n FROM users;
    CREATE VIEW v_user_srf_where AS SELECT id FROM users WHERE (SELECT count(*) FROM public.explode(email)) > 96;
    CREATE VIEW v_user_srf_nested AS SELECT id FROM v_user_srf;
    CREATE VIEW v_distinct AS SELECT DISTINCT least(ascii(email), g) AS n FROM users, generate_series(1, 255) g WHERE id = 1;
    CREATE VIEW v_union AS SELECT least(ascii(email), g) AS n FROM users, generate_series(1, 255) g WHERE id = 1 UNION SELECT 0;
    CREATE VIEW v_recursive AS WITH RECURSIVE r(n, e) AS (SELECT 1, email FROM users WHERE id = 1 UNION ALL SELECT n + 1, e FROM r WHERE n < ascii(e)) SELECT n FROM r;
    CREATE VIEW v_scalar AS SELECT id, public.width(email) AS w FROM users;
  `);
  await ownTables(db, ['users', ...VIEWS]);
  Object.assign(w, await emailMaskTrio(db));
});

after(async () => {
  await Promise.all(Object.values(w).map((x) => x?.close()));
  await db?.drop();
});

const rows = structuredRows;

test('without masks each statement returns a count computed from the email (the leak)', async () => {
  for (const [sql, n] of LEAKS) {
    const r = await w.plain!.query(sql);
    assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
    assert.deepEqual(rows(r), [[n]], sql);
  }
});

describe('under a mask on users.email', () => {
  const refused = refusalOf([SECRET, 'alice.secret']);

  test('views feeding the value to a user set-returning function, deduplicating or recursing on it, and such queries of its own, are refused', async () => {
    // Every statement is tried, and those let through are listed together.
    const through: string[] = [];
    for (const [sql, , guard] of LEAKS) {
      for (const x of [w.masked!, w.derived!]) {
        const r = await x.query(sql);
        try {
          refused(r, sql, guard);
        } catch {
          through.push(`${sql} -> ${r.text.slice(0, 200)}`);
        }
      }
    }
    assert.deepEqual(through, []);
  });

  test('under on_derived: mask an outermost DISTINCT or UNION over a value computed with another relation is refused (its row count is the code)', async () => {
    for (const sql of [`SELECT DISTINCT least(ascii(email), g) AS n FROM public.users, generate_series(1, 255) g WHERE id = 1`, `${CODES} UNION SELECT 0`]) {
      const plainRows = await w.plain!.query(sql);
      assert.equal(rows(plainRows).length, sql.includes('UNION') ? 98 : 97, sql);
      refused(await w.derived!.query(sql), sql, /masked column public\.users\.email .*join condition/);
    }
  });

  test('a program-limit error computed from the value is withheld', async () => {
    const sql = 'SELECT id FROM public.users WHERE id = 1 AND chr(ascii(email) * 100000) IS NULL';
    const plainErr = await w.plain!.query(sql);
    assert.match(plainErr.text, /9700000/, 'without masks PostgreSQL prints the computed number');
    const r = await w.masked!.query(sql);
    assert.equal(r.isError, true);
    assert.match(r.text, /SQLSTATE 54000/);
    assert.doesNotMatch(r.text, /9700000|97/, r.text);
  });

  test('a scalar user function in a view is refused now: its body reads without masks, and the grant (no sql block) does not name it (sql-masked-function-bodies.test.ts)', async () => {
    refusalOf([SECRET])(await w.masked!.query('SELECT count(*) AS n FROM public.v_scalar'), 'v_scalar', /public\.width .*view public\.v_scalar.*not named by the grant's functions/);
  });

  test('what masking allows still runs: plain DISTINCT and UNION in the outermost query, recursion over other columns', async () => {
    const noLeak = noLeakOf([SECRET]);
    for (const sql of [
      'SELECT DISTINCT email FROM public.users',
      'SELECT DISTINCT * FROM public.users',
      'SELECT DISTINCT id, email FROM public.users',
      'SELECT id, email FROM public.users WHERE id = 1 UNION SELECT id, email FROM public.users WHERE id = 2',
      'SELECT count(*) AS n FROM (SELECT DISTINCT name FROM public.users) x',
      'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT count(*) AS n FROM r',
      'WITH RECURSIVE r(n, i) AS (SELECT 1, id FROM public.users WHERE id = 1 UNION ALL SELECT n + 1, i FROM r WHERE n < i + 3) SELECT count(*) AS n FROM r',
    ]) {
      const r = await w.masked!.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
      noLeak(r, sql);
    }
  });
});
