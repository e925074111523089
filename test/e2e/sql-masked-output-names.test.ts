/**
 * ORDER BY, GROUP BY and DISTINCT ON naming a select-list item by its output name or position,
 * via `warden serve` against a real PostgreSQL under a partial mask on users.email
 * (predicates.ts outputItems): `SELECT abs(ascii(u.email) - g) AS k, g FROM users u,
 * generate_series(1, 255) g ORDER BY k LIMIT 1` orders on a join of the masked column, so g is
 * the first character's code, while the masked cell k hides nothing (on_derived: mask); in a
 * subquery whose outer query returns only g, the default on_derived: deny sees no masked column
 * in the output at all. Without masks each returns the code (the leak); under the mask each is
 * refused; an ORDER BY or GROUP BY naming a plain masked column by alias or position still runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { emailMaskTrio, noLeakOf, ownTables, refusalOf, structuredRows, type SqlWarden } from '../support/sql-warden.js';

const SECRET = 'alice.secret@example.com';
const JOIN = 'FROM public.users u, generate_series(1, 255) g WHERE u.id = 1';
const DIST = 'abs(ascii(u.email) - g)';

/** Statements that return alice's first character's code, 97 (as g, or as n, the count of g up to it), and how to read it from the rows. */
const LEAKS: readonly (readonly [string, (rows: string[][]) => string])[] = [
  [`SELECT ${DIST} AS k, g ${JOIN} ORDER BY k LIMIT 1`, (r) => r[0]![1]!],
  [`SELECT ${DIST} AS k, g ${JOIN} ORDER BY 1 LIMIT 1`, (r) => r[0]![1]!],
  [`SELECT ${DIST}, g ${JOIN} ORDER BY abs LIMIT 1`, (r) => r[0]![1]!],
  [`SELECT DISTINCT ON (k) ${DIST} AS k, g ${JOIN} ORDER BY k, g LIMIT 1`, (r) => r[0]![1]!],
  [`SELECT DISTINCT ON (1) ${DIST} AS k, g ${JOIN} ORDER BY 1, g LIMIT 1`, (r) => r[0]![1]!],
  [`SELECT g <= ascii(u.email) AS k, count(*) AS n ${JOIN} GROUP BY k ORDER BY k`, (r) => r[1]![1]!],
  [`SELECT g <= ascii(u.email) AS k, count(*) AS n ${JOIN} GROUP BY 1 ORDER BY 1`, (r) => r[1]![1]!],
  [`SELECT x.g FROM (SELECT ${DIST} AS k, g ${JOIN} ORDER BY k LIMIT 1) x`, (r) => r[0]![0]!],
  [`SELECT x.g FROM (SELECT ${DIST} AS k, g ${JOIN} ORDER BY 1 LIMIT 1) x`, (r) => r[0]![0]!],
  // A set operation's ORDER BY (the parser hangs it on the last branch) names the first
  // branch's output columns, and a position is that column in every branch.
  [`SELECT 1000 AS k, 0 AS g UNION ALL SELECT ${DIST} AS x, g ${JOIN} ORDER BY k LIMIT 1`, (r) => r[0]![1]!],
  [`SELECT ${DIST} AS k, g ${JOIN} UNION ALL SELECT 1000, 0 ORDER BY 1 LIMIT 1`, (r) => r[0]![1]!],
  [`SELECT ${DIST} AS k, g ${JOIN} UNION ALL SELECT 1000 AS y, 0 ORDER BY k LIMIT 1`, (r) => r[0]![1]!],
  [`SELECT ${DIST} AS k, g ${JOIN} EXCEPT SELECT 1000 AS y, 0 ORDER BY k LIMIT 1`, (r) => r[0]![1]!],
  [`SELECT x.g FROM (SELECT 1000 AS k, 0 AS g UNION ALL SELECT ${DIST} AS y, g ${JOIN} ORDER BY k LIMIT 1) x`, (r) => r[0]![0]!],
];

let db: TestDatabase;
const w: Record<'plain' | 'masked' | 'derived', SqlWarden | undefined> = { plain: undefined, masked: undefined, derived: undefined };

before(async () => {
  db = await createTestDatabase({ prefix: 'e2emaskoutnames' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, name text, email text);
    INSERT INTO users VALUES (1, 'Alice', '${SECRET}'), (2, 'Bob', 'bob@example.com');
  `);
  await ownTables(db, ['users']);
  Object.assign(w, await emailMaskTrio(db));
});

after(async () => {
  await Promise.all(Object.values(w).map((x) => x?.close()));
  await db?.drop();
});

test('without masks each statement returns the first character\'s code (the leak)', async () => {
  for (const [sql, decode] of LEAKS) {
    const r = await w.plain!.query(sql);
    assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
    assert.equal(decode(structuredRows(r)), '97', sql);
  }
});

describe('under a mask on users.email', () => {
  const refused = refusalOf([SECRET, 'alice.secret']);

  test('an ORDER BY, GROUP BY or DISTINCT ON item naming a computed join of the masked column by output name or position is refused', async () => {
    // Every statement is tried under both Wardens, and those let through are listed together.
    const through: string[] = [];
    for (const [sql] of LEAKS) {
      for (const x of [w.masked!, w.derived!]) {
        const r = await x.query(sql);
        try {
          refused(r, sql, /masked column public\.users\.email/);
          assert.doesNotMatch(JSON.stringify(r.structured ?? {}), /"rows"/);
        } catch {
          through.push(`${sql} -> ${r.text.slice(0, 200)}`);
        }
      }
    }
    assert.deepEqual(through, []);
  });

  test('naming a plain column (masked or not) by alias or position still runs', async () => {
    const noLeak = noLeakOf([SECRET]);
    for (const sql of [
      'SELECT email AS e, id FROM public.users ORDER BY e',
      'SELECT id, email FROM public.users ORDER BY 2',
      'SELECT email, count(*) AS n FROM public.users GROUP BY 1 ORDER BY 1',
      'SELECT DISTINCT ON (1) email, id FROM public.users ORDER BY 1, id',
      'SELECT g AS email FROM public.users u, generate_series(1, 3) g WHERE u.id = 1 ORDER BY email',
      'SELECT lower(name) AS l, email FROM public.users ORDER BY l',
      'SELECT * FROM public.users ORDER BY 3',
      'SELECT id AS k, name FROM public.users UNION ALL SELECT 3, \'x\' ORDER BY k',
      'SELECT email AS e, id FROM public.users UNION SELECT \'x\', 3 ORDER BY e, 2',
    ]) {
      for (const x of [w.masked!, w.derived!]) {
        const r = await x.query(sql);
        assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
        noLeak(r, sql);
      }
    }
  });
});
