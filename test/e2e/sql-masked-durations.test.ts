/**
 * A statement's duration computed from a masked value, via `warden serve` against a real
 * PostgreSQL, under a mask on users.email and a grant with no `sql` block (every function
 * allowed). The agent times the call: work sized by the value in a filter that keeps every row
 * (`WHERE length(repeat('x', ascii(email) * 100000)) > 0`) takes as long as the code. The length
 * argument of repeat, lpad, rpad and array_fill, a width format() reads (`%*s`, or a format
 * string not written as a constant), factorial's argument and a power's exponent are judged as
 * a set-returning function's arguments are (analysis/functions.ts sizingArguments,
 * predicate-channels.ts): refused wherever they are fed
 * the value, under `on_derived: mask` too (where the select list would run, masked, and be timed).
 * What other rules already close is pinned here as well: pg_sleep_until, generate_series sized by
 * the value (CPU time, in FROM or a subquery), advisory locks (a wait on a key another session
 * holds). A string argument that does not size the work, and sizes from other columns, still read.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { emailMaskTrio, ownTables, refusalOf, structuredRows, type SqlWarden } from '../support/sql-warden.js';

const SECRET = 'alice.secret@example.com';
const CODE = 'ascii(substr(email, 1, 1))';

/** Work sized by the value in the outermost WHERE, each filter keeping the row; and the size it computes without masks. */
const SIZED: readonly (readonly [string, string])[] = [
  [`length(repeat('x', ${CODE} * 1000))`, '97000'],
  [`length(lpad('', ${CODE} * 1000))`, '97000'],
  [`length(rpad('y', ${CODE} * 1000, 'z'))`, '97000'],
  [`array_length(array_fill(0, ARRAY[${CODE} * 1000]), 1)`, '97000'],
  // A width format() reads from its arguments (`%*s`), or one written into a format string
  // computed from the value: a 97 MB pad takes seconds.
  [`length(format('%*s', ${CODE} * 1000, ''))`, '97000'],
  [`length(format('%-*s|', ${CODE} * 1000, 'a'))`, '97001'],
  [`length(format('%' || ${CODE} * 1000 || 's', ''))`, '97000'],
  [`length(pg_catalog.format(concat('%', ${CODE} * 1000, 's'), ''))`, '97000'],
  // factorial(n) and a numeric power's exponent: digits, and time, grow with the value.
  [`length(factorial(${CODE})::text)`, '152'],
  [`length(trunc(power(10::numeric, ${CODE}))::text)`, '98'],
  [`length(trunc(pow(10::numeric, ${CODE}))::text)`, '98'],
];
const whereSized = (size: string): string => `SELECT id FROM public.users WHERE id = 1 AND ${size} > 0`;

/** Already closed by other rules: sleeps, set-returning sizes, advisory locks. */
const ALREADY: readonly (readonly [string, RegExp])[] = [
  [`SELECT id FROM public.users WHERE id = 1 AND pg_sleep_until(now() + make_interval(secs => ${CODE} / 1000.0)) IS NOT NULL`, /pg_sleep/],
  [`SELECT count(*) AS n FROM public.users u, generate_series(1, ascii(substr(u.email, 1, 1)) * 10000) g WHERE u.id = 1`, /function in FROM/],
  [`SELECT id FROM public.users WHERE id = 1 AND (SELECT count(*) FROM generate_series(1, ${CODE} * 10000)) > 0`, /masked column public\.users\.email/],
  [`SELECT id FROM public.users WHERE id = 1 AND pg_advisory_xact_lock(${CODE}) IS NOT NULL`, /advisory lock/],
  [`SELECT id FROM public.users WHERE id = 1 AND pg_catalog.pg_advisory_lock(${CODE}) IS NOT NULL`, /advisory lock/],
];

/** Sizes the value does not compute. */
const STILL_READ = [
  'SELECT id FROM public.users WHERE id = 1 AND length(repeat(email, 2)) > 0',
  "SELECT id FROM public.users WHERE id = 1 AND lpad(email, 30) LIKE ' %'",
  "SELECT id FROM public.users WHERE id = 1 AND length(repeat('x', id * 1000)) > 0 AND email LIKE 'a%'",
  // format with a constant format string (widths written in it), factorial and power of other columns.
  "SELECT id FROM public.users WHERE id = 1 AND format('%s <%30s>', id, email) LIKE '1 <%'",
  "SELECT id FROM public.users WHERE id = 1 AND length(format('%*s', id * 10, 'x')) = 10 AND email LIKE 'a%'",
  "SELECT id FROM public.users WHERE id = 1 AND factorial(id) = 1 AND power(2, id) = 2 AND power(length(email), 2) > 0",
];

let db: TestDatabase;
let plain: SqlWarden;
let masked: SqlWarden;
let maskedDerived: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2emaskdur' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, email text);
    INSERT INTO users VALUES (1, '${SECRET}'), (2, 'bob@example.com');
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
  test('each size is computed from the first character, and the filter keeps the row', async () => {
    for (const [size, n] of SIZED) {
      const s = await plain.query(`SELECT ${size} AS n FROM public.users WHERE id = 1`);
      assert.deepEqual(rows(s), [[n]], size);
      const w = await plain.query(whereSized(size));
      assert.deepEqual(rows(w), [['1']], size);
    }
  });
});

describe('under a mask on users.email', () => {
  const refused = refusalOf([SECRET, 'alice']);

  test('a size computed from the value is refused in the outermost WHERE, under on_derived deny and mask', async () => {
    for (const warden of [masked, maskedDerived]) {
      for (const [size] of SIZED) {
        const sql = whereSized(size);
        refused(await warden.query(sql), sql, /masked column public\.users\.email .*the length argument of repeat, lpad, rpad or array_fill, a width format\(\) reads .*factorial or the exponent of power/);
      }
    }
  });

  test('in the select list under on_derived: mask (which would run it, masked, and let it be timed) too', async () => {
    for (const [size] of SIZED) {
      const sql = `SELECT ${size} AS n FROM public.users WHERE id = 1`;
      refused(await maskedDerived.query(sql), sql, /masked column public\.users\.email .*length argument of repeat/);
    }
  });

  test('sleeps, set-returning sizes and advisory locks fed the value are refused by the rules that already were', async () => {
    for (const [sql, guard] of ALREADY) refused(await masked.query(sql), sql, guard);
  });

  test('sizes the value does not compute still read', async () => {
    for (const sql of STILL_READ) {
      const r = await masked.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
      assert.deepEqual(rows(r), [['1']], sql);
    }
  });
});
