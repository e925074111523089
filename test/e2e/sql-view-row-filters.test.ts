/**
 * Row filters through a view that joins, via `warden serve` against a real PostgreSQL
 * (predicate-channels.ts, PredicateColumn.alongside). An outermost condition may compare a masked
 * column with columns of the same row: of a base table, that row is one of the table's. A view's
 * row is whatever its definition joins: `user_orders` (users JOIN orders) carries users.email
 * and orders.total side by side, so `WHERE ascii(substr(email, 1, 1)) = total` over it is the
 * join `FROM users u JOIN orders o ... WHERE ascii(substr(u.email, 1, 1)) = o.total`, which
 * masking refuses: it returns the code as total. Without masks each read returns the code (the
 * leak); under a mask on users.email each is refused (a WHERE, an ORDER BY, a GROUP BY, through
 * a view of the view), while conditions comparing the column with constants or with columns of
 * its own table still filter, through a single-table view, a UNION ALL view and a joining one alike.
 * A view joining users to itself holds two users rows in one: its columns beside the email may be
 * the other row's, and its two email columns are two rows' filters (a self-join's).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, noLeakOf, ownTables, refusalOf, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const SECRET = 'zorblax.hidden@example.com';
/** ascii('z'), the first character's code each read below returns without masks. */
const CODE = '122';
const MASKS = 'masking:\n  columns: [{ column: public.users.email, with: redact }]\n';

/** Reads comparing the email with a column of the view's other table, and what each returns without masks. */
const CHANNELS: readonly (readonly [string, string[][]])[] = [
  ['SELECT total FROM public.user_orders WHERE id = 1 AND ascii(substr(email, 1, 1)) = total', [[CODE]]],
  ['SELECT total FROM public.user_orders WHERE id = 1 ORDER BY abs(ascii(substr(email, 1, 1)) - total) LIMIT 1', [[CODE]]],
  // two groups: the totals below the code (code - 1 of them) and the rest
  ['SELECT count(*) AS n FROM public.user_orders WHERE id = 1 GROUP BY ascii(substr(email, 1, 1)) <= total ORDER BY n', [['121'], ['134']]],
  ['SELECT total FROM public.user_orders_again WHERE id = 1 AND ascii(substr(email, 1, 1)) = total', [[CODE]]],
  // a column of constants the view joins to every user
  ['SELECT n FROM public.user_codes WHERE id = 1 AND ascii(substr(email, 1, 1)) = n', [[CODE]]],
  // the other column reached from a subquery inside the condition, correlated: still the same comparison
  ['SELECT total FROM public.user_orders v WHERE v.id = 1 AND ascii(substr(v.email, 1, 1)) IN (SELECT v.total)', [[CODE]]],
];

let db: TestDatabase;
let plain: SqlWarden;
let masked: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2eviewrows' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, email text, name text);
    INSERT INTO users VALUES (1, '${SECRET}', 'Zed'), (2, 'bob@example.com', 'Bob');
    CREATE TABLE orders (id int, user_id int, total int);
    INSERT INTO orders SELECT g, 1, g FROM generate_series(1, 255) g;
    INSERT INTO orders VALUES (1000, 2, 5);
    CREATE VIEW user_orders AS SELECT u.id, u.email, u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id;
    CREATE VIEW user_orders_again AS SELECT id, email, total FROM user_orders;
    CREATE VIEW user_codes AS SELECT u.id, u.email, c.n FROM users u, LATERAL (SELECT 121 AS n UNION ALL SELECT 122) c;
    CREATE VIEW user_info AS SELECT id, email, name FROM users;
    CREATE TABLE archived_users (id int, email text);
    INSERT INTO archived_users VALUES (3, 'carol@example.com');
    CREATE VIEW pairs AS SELECT a.id AS aid, a.email, b.id AS bid, b.email AS other_email FROM users a, users b;
    CREATE VIEW contacts AS SELECT id, email FROM users UNION ALL SELECT id, email FROM archived_users;
  `);
  await ownTables(db, ['users', 'orders', 'user_orders', 'user_orders_again', 'user_codes', 'user_info', 'archived_users', 'contacts', 'pairs']);
  [plain, masked] = await Promise.all([startSqlWarden(db, { 'p.yaml': ANALYSTS_READ_ALL }), startSqlWarden(db, { 'p.yaml': MASKS + ANALYSTS_READ_ALL })]);
});

after(async () => {
  await Promise.all([plain, masked].map((x) => x?.close()));
  await db?.drop();
});

const rowsOf = (r: { structured?: unknown }): string[][] =>
  ((r.structured as { rows?: unknown[][] } | undefined)?.rows ?? []).map((row) => row.map((v) => String(v)));

describe('a masked column compared with another table\'s column through a joining view', () => {
  test('each read returns the first character\'s code without masks', async () => {
    for (const [sql, rows] of CHANNELS) {
      const r = await plain.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text}`);
      assert.deepEqual(rowsOf(r), rows, sql);
    }
  });

  test('under the mask each is refused as the join it is, naming the column', async () => {
    const refused = refusalOf([SECRET, `total ${CODE}`]);
    for (const [sql] of CHANNELS) {
      const r = await masked.query(sql);
      refused(r, sql, /masked column public\.users\.email .*a join condition/);
      assert.match(r.text, /rule: masking\.columns/, sql);
      assert.deepEqual(rowsOf(r), [], sql);
    }
  });

  test('the same comparison with its own table\'s columns, or in a separate condition, still filters', async () => {
    const noLeak = noLeakOf([SECRET]);
    const reads: readonly (readonly [string, string[][]])[] = [
      // the email and a column of users: the same row, through a single-table view and the joining one
      ["SELECT id FROM public.user_info WHERE email LIKE 'zorblax%' OR id = 2 ORDER BY id", [['1'], ['2']]],
      ['SELECT id FROM public.user_info WHERE ascii(substr(email, 1, 1)) > length(name) ORDER BY id', [['1'], ['2']]],
      ["SELECT DISTINCT id FROM public.user_orders WHERE email LIKE 'zorblax%' OR name = 'Bob' ORDER BY id", [['1'], ['2']]],
      // a UNION ALL view's row is one branch's: its id and email come from the same table
      ["SELECT id FROM public.contacts WHERE email LIKE 'carol%' OR id = 2 ORDER BY id", [['2'], ['3']]],
      // a separate conjunct on the other table's column: a bit per user, as on the base tables
      ["SELECT id, total FROM public.user_orders WHERE email LIKE 'bob%' AND total = 5", [['2', '5']]],
      ['SELECT total FROM public.user_orders WHERE id = 2 ORDER BY email, total', [['5']]],
    ];
    for (const [sql, rows] of reads) {
      const r = await masked.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text}`);
      assert.deepEqual(rowsOf(r), rows, sql);
      noLeak(r, sql);
    }
    const r = await masked.query('SELECT id, email FROM public.user_orders WHERE total = 5 ORDER BY id');
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(rowsOf(r), [['1', '[REDACTED]'], ['2', '[REDACTED]']]);
  });
});

describe('through a view that joins the table to itself', () => {
  /** bid is the first character's code minus 120; two users' bits in one row. */
  const CHANNELS: readonly (readonly [string, string[][], RegExp])[] = [
    ['SELECT bid FROM public.pairs WHERE aid = 1 AND ascii(substr(email, 1, 1)) - 120 = bid', [['2']], /a join condition/],
    ['SELECT aid, bid FROM public.pairs WHERE ascii(substr(email, 1, 1)) > 100 AND ascii(substr(other_email, 1, 1)) < 100', [['1', '2']], /more than one relation/],
  ];

  test('each read returns what the emails decide without masks, and is refused under the mask', async () => {
    const refused = refusalOf([SECRET]);
    for (const [sql, rows, guard] of CHANNELS) {
      const r = await plain.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text}`);
      assert.deepEqual(rowsOf(r), rows, sql);
      refused(await masked.query(sql), sql, guard);
    }
  });

  test('a filter on one of its email columns alone still filters', async () => {
    const sql = "SELECT aid, bid FROM public.pairs WHERE email LIKE 'zorblax%' ORDER BY aid, bid";
    const r = await masked.query(sql);
    assert.equal(r.isError, false, `${sql}: ${r.text}`);
    assert.deepEqual(rowsOf(r), [['1', '1'], ['1', '2']]);
  });
});
