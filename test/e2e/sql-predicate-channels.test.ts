/**
 * Predicates wired so that a statement's output is computed from a masked column's value, via
 * `warden serve` against a real PostgreSQL (predicate-channels.ts, analysis/predicates.ts): a
 * scalar subquery counting below a character's code, a join whose other side matches the value
 * (a function's rows, a dictionary table), the same join written in WHERE, ORDER BY or GROUP BY,
 * EXISTS, IN and LATERAL subqueries, a WITH query, an aggregate's FILTER, a window's partition, a
 * FROM function's arguments, a write's join, set-operation branches and self-joins each filtering
 * on a bit of the value, a view whose own definition joins on it. Without masks each returns the email's first
 * characters (the leak); under a mask on users.email each is refused, leaking nothing; and the
 * filters column masking accepts (a bit per row of the outermost query, an order, a count of
 * equal values: README, Masking by lineage) still read, as do a bare masked column next to a
 * function in FROM whose columns are known (generate_series, unnest of constants) and a UNION
 * whose branches select the same plain columns of users (one query with OR); a bare one next to a
 * function that may return such a column, and UNION branches the output tells apart, stay refused.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, noLeakOf, ownTables, refusalOf, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const SECRET = 'alice.secret@example.com';
const MASKS = 'masking:\n  columns: [{ column: public.users.email, with: redact }]\n';
/** The code of user 1's email's character `i` (1-based), as SQL. */
const code = (i: number): string => `ascii(substr(u.email, ${i}, 1))`;

/** Bit `k` of the first character's code of alias `a`'s email is set, as SQL. */
const bit = (a: string, k: number): string => `mod(ascii(substr(${a}.email, 1, 1)) / ${2 ** k}, 2) = 1`;
const sumOf = (cells: (string | undefined)[]): string => String(cells.reduce((n, c) => n + Number(c), 0));

/** Each channel, and how its rows (as text) give back the email's first characters without masks. */
type Decode = (rows: string[][]) => string;
const chars = (codes: (string | undefined)[]): string => String.fromCharCode(...codes.map(Number));
const firstCell: Decode = (rows) => chars([rows[0]?.[0]]);
const CHANNELS: readonly (readonly [string, Decode, string])[] = [
  [
    `SELECT u.id, ${[1, 2, 3].map((i) => `(SELECT count(*) FROM generate_series(1, 255) g WHERE g <= ${code(i)}) AS c${i}`).join(', ')} FROM public.users u WHERE u.id = 1`,
    (rows) => chars(rows[0]!.slice(1)),
    'ali',
  ],
  [`SELECT g FROM public.users u JOIN generate_series(1, 255) g ON g = ${code(1)} WHERE u.id = 1`, firstCell, 'a'],
  ['SELECT d.word FROM public.users u JOIN public.dictionary d ON d.word = u.email WHERE u.id = 1', (rows) => rows[0]![0]!, SECRET],
  [`SELECT g FROM public.users u, generate_series(1, 255) g WHERE u.id = 1 AND g = ${code(1)}`, firstCell, 'a'],
  ['SELECT d.email FROM public.users u JOIN (SELECT word AS email FROM public.dictionary) d USING (email) WHERE u.id = 1', (rows) => rows[0]![0]!, SECRET],
  [`SELECT g FROM public.users u, generate_series(1, 255) g WHERE u.id = 1 ORDER BY abs(g - ${code(2)}) LIMIT 1`, firstCell, 'l'],
  [`SELECT count(*) AS n, min(g) AS lo FROM public.users u, generate_series(1, 255) g WHERE u.id = 1 GROUP BY g <= ${code(1)} ORDER BY lo LIMIT 1`, firstCell, 'a'],
  [`SELECT g FROM generate_series(1, 255) g WHERE EXISTS (SELECT 1 FROM public.users u WHERE u.id = 1 AND ${code(1)} = g)`, firstCell, 'a'],
  [`SELECT g FROM generate_series(1, 255) g WHERE g IN (SELECT ${code(1)} FROM public.users u WHERE u.id = 1)`, firstCell, 'a'],
  [`SELECT n.id FROM public.numbers n WHERE n.id = (SELECT ${code(1)} FROM public.users u WHERE u.id = 1)`, firstCell, 'a'],
  [`SELECT x.g FROM public.users u, LATERAL (SELECT g FROM generate_series(1, 255) g WHERE g = ${code(1)}) x WHERE u.id = 1`, firstCell, 'a'],
  [`WITH c AS (SELECT g FROM public.users u, generate_series(1, 255) g WHERE u.id = 1 AND g = ${code(1)}) SELECT g FROM c`, firstCell, 'a'],
  [`SELECT count(*) FILTER (WHERE g <= ${code(1)}) AS n FROM public.users u, generate_series(1, 255) g WHERE u.id = 1`, firstCell, 'a'],
  [`SELECT x.g FROM (SELECT g, rank() OVER (ORDER BY abs(g - ${code(1)})) AS r FROM public.users u, generate_series(1, 255) g WHERE u.id = 1) x WHERE x.r = 1`, firstCell, 'a'],
  [`SELECT count(*) AS n FROM public.users u, generate_series(1, ${code(1)}) g WHERE u.id = 1`, firstCell, 'a'],
  // Each relation filtered on the value is a bit per row of its own: set-operation branches, self-joins.
  [[0, 1, 2, 3, 4, 5, 6].map((k) => `SELECT ${2 ** k} AS b FROM public.users u WHERE u.id = 1 AND ${bit('u', k)}`).join(' UNION ALL '), (rows) => chars([sumOf(rows.map((r) => r[0]))]), 'a'],
  // UNION without ALL, each branch told apart by its constant: the distinct values still add up to the code.
  [[0, 1, 2, 3, 4, 5, 6].map((k) => `SELECT ${2 ** k} AS b FROM public.users u WHERE u.id = 1 AND ${bit('u', k)}`).join(' UNION '), (rows) => chars([sumOf(rows.map((r) => r[0]))]), 'a'],
  [`SELECT ${[0, 1, 2, 3, 4, 5, 6].map((k) => `u${k}.id AS b${k}`).join(', ')} FROM ${[0, 1, 2, 3, 4, 5, 6].map((k) => `public.users u${k}`).join(', ')} WHERE ${[0, 1, 2, 3, 4, 5, 6].map((k) => `((u${k}.id = 1 AND ${bit(`u${k}`, k)}) OR u${k}.id = 2)`).join(' AND ')}`,
    (rows) => chars([sumOf([0, 1, 2, 3, 4, 5, 6].map((k) => (rows.some((r) => r[k] === '1') ? String(2 ** k) : '0')))]), 'a'],
  [`SELECT a.id AS a, b.id AS b FROM (SELECT id, email FROM public.users) a, (SELECT id, email FROM public.users) b WHERE a.id = 1 AND b.id = 1 AND ${bit('a', 0)} AND ${bit('b', 1)}`, (rows) => String(rows.length), '0'],
  // A view an admin defined with a join on the value (its own predicates are judged too).
  ['SELECT c.code FROM public.user_codes c WHERE c.id = 1', firstCell, 'a'],
];

/** A write that tags the number equal to the first character's code, and the read that finds it. */
const TAG_WRITE = `UPDATE public.numbers n SET tag = 'hit' FROM public.users u WHERE u.id = 1 AND n.id = ${code(1)}`;
const TAG_READ = "SELECT id FROM public.numbers WHERE tag = 'hit'";

/** What column masking accepts: the outermost query's own filters, orders and groups, and joins and subqueries that do not touch the masked column. */
const STILL_READ = [
  "SELECT id, email FROM public.users WHERE email = 'nobody@example.com'",
  "SELECT id, email FROM public.users WHERE email LIKE '%@example.com' ORDER BY email",
  "SELECT count(*) AS n FROM public.users WHERE email IS NOT NULL",
  "SELECT id FROM public.users u WHERE u.email = 'x' OR u.id = 2",
  'SELECT u.id, o.total FROM public.users u JOIN public.orders o ON o.user_id = u.id WHERE u.email LIKE \'alice%\'',
  'SELECT u.id FROM public.users u, public.orders o WHERE o.user_id = u.id AND u.email IS NOT NULL ORDER BY u.email',
  'SELECT id FROM public.users WHERE id IN (SELECT user_id FROM public.orders WHERE total > 5)',
  'SELECT u.id, (SELECT count(*) FROM public.orders o WHERE o.user_id = u.id) AS n FROM public.users u WHERE u.email LIKE \'%example.com\'',
  'SELECT u.id FROM public.users u WHERE u.email IN (SELECT d.word FROM public.dictionary d)',
  'SELECT email, count(*) AS n FROM public.users GROUP BY email',
  'SELECT DISTINCT ON (email) id, email FROM public.users ORDER BY email, id',
  "SELECT id FROM public.users GROUP BY id HAVING max(email) LIKE 'a%'",
  "SELECT u.id FROM public.users u JOIN public.orders o ON o.user_id = u.id WHERE u.email LIKE 'a%' AND o.total > 1 ORDER BY u.email",
  "SELECT id FROM public.users WHERE email LIKE 'a%' UNION SELECT user_id FROM public.orders",
  // A bare name next to a function in FROM whose columns are known is the table's.
  "SELECT id FROM public.users, generate_series(1, 3) g WHERE email = 'nobody@example.com'",
  "SELECT id FROM public.users u CROSS JOIN LATERAL unnest(ARRAY[1]) x WHERE email LIKE '%@example.com'",
  // A UNION whose branches select the same plain columns of the table is one query with OR.
  "SELECT id FROM public.users WHERE email = 'nobody@example.com' UNION SELECT id FROM public.users WHERE email LIKE 'bob%'",
];

/** Seven UNION branches, each selecting the same id when one bit of the first character's code is set: one bit in all, as with OR. */
const UNION_OF_BITS = [0, 1, 2, 3, 4, 5, 6].map((k) => `SELECT u.id FROM public.users u WHERE u.id = 1 AND ${bit('u', k)}`).join(' UNION ');
/** The same seven filters in one query with OR. */
const OR_OF_BITS = `SELECT DISTINCT u.id FROM public.users u WHERE u.id = 1 AND (${[0, 1, 2, 3, 4, 5, 6].map((k) => bit('u', k)).join(' OR ')})`;

/** A function in FROM with a column named email: a bare email next to it may be its, so it stays refused. */
const MAIL_ROWS = [
  "SELECT u.id FROM public.users u, public.mail_rows() f WHERE email LIKE 'a%'",
  "SELECT u.id FROM public.users u, public.mail_rows() f(k) WHERE email LIKE 'a%'",
  "SELECT u.id FROM public.users u, generate_series(1, 3) g(email) WHERE email LIKE 'a%'",
];

let db: TestDatabase;
let plain: SqlWarden;
let masked: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2epredch' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, email text);
    INSERT INTO users VALUES (1, '${SECRET}'), (2, 'bob@example.com');
    CREATE TABLE dictionary (word text);
    INSERT INTO dictionary VALUES ('carol@example.com'), ('${SECRET}'), ('dave@example.com');
    CREATE TABLE numbers (id int PRIMARY KEY, tag text);
    INSERT INTO numbers SELECT g, NULL FROM generate_series(1, 255) g;
    CREATE TABLE orders (id int, user_id int, total int);
    INSERT INTO orders VALUES (1, 1, 10), (2, 2, 3);
    CREATE VIEW user_codes AS SELECT u.id, n.id AS code FROM users u JOIN numbers n ON n.id = ascii(substr(u.email, 1, 1));
    CREATE VIEW alice_ids AS SELECT id FROM users WHERE email LIKE 'alice%';
    CREATE FUNCTION public.mail_rows() RETURNS TABLE (n int, email text) LANGUAGE sql AS $$ SELECT 7, 'fn@example.com' $$;
  `);
  await ownTables(db, ['users', 'dictionary', 'numbers', 'orders', 'user_codes', 'alice_ids']);
  [plain, masked] = await Promise.all([startSqlWarden(db, { 'p.yaml': ANALYSTS_READ_ALL }), startSqlWarden(db, { 'p.yaml': MASKS + ANALYSTS_READ_ALL })]);
});

after(async () => {
  await Promise.all([plain, masked].map((x) => x?.close()));
  await db?.drop();
});

const rows = (r: { structured?: unknown }): string[][] => (r.structured as { rows: unknown[][] }).rows.map((row) => row.map(String));

describe('without masks each channel returns the email (the leak)', () => {
  test('each statement gives back the first characters', async () => {
    for (const [sql, decode, expected] of CHANNELS) {
      const r = await plain.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
      assert.equal(decode(rows(r)), expected, sql);
    }
  });

  test('a write joined on the value tags the number equal to its code', async () => {
    await db.query('UPDATE numbers SET tag = NULL');
    const w = await plain.query(TAG_WRITE);
    assert.equal(w.isError, false, w.text);
    const r = await plain.query(TAG_READ);
    assert.equal(firstCell(rows(r)), 'a');
  });
});

describe('a function in FROM next to an unqualified column, and UNION branches (without masks)', () => {
  test('an alias column list renames only the first column of a function returning a row: email is still its', async () => {
    const r = await plain.query('SELECT k, email FROM public.mail_rows() f(k)');
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(rows(r), [['7', 'fn@example.com']]);
  });

  test('seven UNION branches selecting the same id return what the one query with OR does: one bit', async () => {
    const union = await plain.query(UNION_OF_BITS);
    const or = await plain.query(OR_OF_BITS);
    assert.equal(union.isError, false, union.text);
    assert.deepEqual(rows(union), rows(or));
    assert.deepEqual(rows(union), [['1']]);
  });
});

describe('under a mask on users.email', () => {
  const refused = refusalOf([SECRET, 'alice']);
  test('each channel is refused, naming the column', async () => {
    for (const [sql] of CHANNELS) refused(await masked.query(sql), sql, /masked column public\.users\.email/);
  });

  test('the write is refused before it runs', async () => {
    await db.query('UPDATE numbers SET tag = NULL');
    refused(await masked.query(TAG_WRITE), TAG_WRITE, /masked column public\.users\.email .*join condition/);
    const left = await db.query<{ n: string }>("SELECT count(*) AS n FROM numbers WHERE tag = 'hit'");
    assert.equal(left.rows[0]!.n, '0');
  });

  test('the refusal says where the column was used', async () => {
    const r = await masked.query(CHANNELS[0]![0]);
    assert.match(r.text, /subquery/);
    const j = await masked.query(CHANNELS[1]![0]);
    assert.match(j.text, /join condition/);
  });

  test('a view filtering on the column in its own WHERE is refused, as the same subquery in FROM is', async () => {
    const sql = 'SELECT a.id FROM public.alice_ids a JOIN public.users u ON u.id = a.id';
    // The view's name holds 'alice': only the email itself must not show.
    refusalOf([SECRET])(await masked.query(sql), sql, /masked column public\.users\.email .*view public\.alice_ids's own definition/);
  });

  test('a bare email next to a function that may have such a column stays refused', async () => {
    for (const sql of MAIL_ROWS) refused(await masked.query(sql), sql, /masked column public\.users\.email .*join condition/);
  });

  test('next to generate_series or unnest of constants, a bare email is the table\'s: it filters', async () => {
    const r = await masked.query("SELECT id, g FROM public.users, generate_series(1, 2) g WHERE email LIKE 'alice%' ORDER BY g");
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(rows(r), [['1', '1'], ['1', '2']]);
    const u = await masked.query("SELECT id, x FROM public.users u CROSS JOIN LATERAL unnest(ARRAY[5]) x WHERE email LIKE '%@example.com' ORDER BY id");
    assert.equal(u.isError, false, u.text);
    assert.deepEqual(rows(u), [['1', '5'], ['2', '5']]);
  });

  test('a UNION of branches selecting the same columns of users reads, as the one query with OR does; told apart, refused', async () => {
    const union = await masked.query(UNION_OF_BITS);
    assert.equal(union.isError, false, union.text);
    assert.deepEqual(rows(union), [['1']]);
    const r = await masked.query("SELECT id FROM public.users WHERE email LIKE 'alice%' UNION SELECT id FROM public.users WHERE email LIKE 'bob%' ORDER BY id");
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(rows(r), [['1'], ['2']]);
    const apart = "SELECT id, 1 AS b FROM public.users WHERE email LIKE 'a%' UNION SELECT id, 2 AS b FROM public.users WHERE email LIKE 'b%'";
    refused(await masked.query(apart), apart, /more than one relation.*combine the conditions with OR in one query/);
  });

  test('filters of the outermost query, and joins and subqueries not touching the column, still read', async () => {
    const noLeak = noLeakOf([SECRET]);
    for (const sql of STILL_READ) {
      const r = await masked.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
      noLeak(r, sql);
    }
    const hit = await masked.query("SELECT id FROM public.users WHERE email LIKE 'alice%'");
    assert.deepEqual(rows(hit), [['1']]);
  });
});
