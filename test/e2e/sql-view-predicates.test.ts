/**
 * Views whose own definition uses a masked column in a condition, via `warden serve` against a
 * real PostgreSQL (view-lineage.ts feedingPredicates, predicate-channels.ts checkViewPredicates).
 * Reading a view is reading its definition as a subquery in FROM: `SELECT count(*) FROM v` over
 * `CREATE VIEW v AS SELECT id FROM users WHERE email LIKE 'al%'` counts the emails starting with
 * `al`, as `SELECT count(*) FROM (SELECT id FROM users WHERE email LIKE 'al%') x` does, which
 * masking refuses. Without masks each view gives back something of the emails (the leak); under
 * a mask on users.email each is refused wherever the condition sits in the view (its WHERE, a
 * WITH query, a subquery in FROM, a join's ON, HAVING, GROUP BY, DISTINCT ON, ORDER BY with LIMIT),
 * through a view of a view and in a materialized view; a view whose conditions do not touch the
 * column still reads, masked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestDatabase, type TestDatabase } from '../support/pg-cluster.js';
import { ANALYSTS_READ_ALL, ownTables, refusalOf, startSqlWarden, type SqlWarden } from '../support/sql-warden.js';

const SECRET = 'alice.secret@example.com';
const MASKS = 'masking:\n  columns: [{ column: public.users.email, with: redact }]\n';

/** Each view, its definition, a read of it, and what the read returns without masks (rows as text). */
const VIEWS: readonly (readonly [string, string, string, string[][]])[] = [
  ['al_ids', "SELECT id FROM users WHERE email LIKE 'al%'", 'SELECT count(*) AS n FROM public.al_ids', [['1']]],
  ['al_ids_again', 'SELECT id FROM al_ids', 'SELECT id FROM public.al_ids_again', [['1']]],
  ['al_cte', "WITH c AS (SELECT id FROM users WHERE email LIKE 'al%') SELECT id FROM c", 'SELECT id FROM public.al_cte', [['1']]],
  ['al_sub', "SELECT s.id FROM (SELECT id, email FROM users) s WHERE s.email LIKE 'al%'", 'SELECT id FROM public.al_sub', [['1']]],
  ['al_orders_on', "SELECT o.id FROM orders o JOIN users u ON u.id = o.user_id AND u.email LIKE 'al%'", 'SELECT id FROM public.al_orders_on', [['10']]],
  ['al_orders', "SELECT o.id, o.total FROM orders o JOIN users u ON u.id = o.user_id WHERE u.email LIKE 'al%'", 'SELECT id FROM public.al_orders', [['10']]],
  ['al_having', "SELECT id FROM users GROUP BY id HAVING max(email) LIKE 'al%'", 'SELECT id FROM public.al_having', [['1']]],
  ['first_letters', 'SELECT count(*) AS n FROM users GROUP BY substr(email, 1, 1)', 'SELECT count(*) AS letters FROM public.first_letters', [['2']]],
  ['one_per_letter', 'SELECT DISTINCT ON (substr(email, 1, 1)) id FROM users ORDER BY substr(email, 1, 1), id', 'SELECT id FROM public.one_per_letter ORDER BY id', [['1'], ['2']]],
  ['first_email', 'SELECT id FROM users ORDER BY email LIMIT 1', 'SELECT id FROM public.first_email', [['3']]],
];

/** A materialized view filtering on the value: its rows were computed from it at refresh. */
const MATERIALIZED = ['al_mv', "SELECT id FROM users WHERE email LIKE 'al%'", 'SELECT count(*) AS n FROM public.al_mv', [['1']]] as const;

let db: TestDatabase;
let plain: SqlWarden;
let masked: SqlWarden;

before(async () => {
  db = await createTestDatabase({ prefix: 'e2eviewpred' });
  await db.query(`
    CREATE TABLE users (id int PRIMARY KEY, email text);
    INSERT INTO users VALUES (1, '${SECRET}'), (2, 'bob@example.com'), (3, 'adam@example.com');
    CREATE TABLE orders (id int, user_id int, total int);
    INSERT INTO orders VALUES (10, 1, 5), (20, 2, 7);
    ${VIEWS.map(([name, definition]) => `CREATE VIEW ${name} AS ${definition};`).join('\n')}
    CREATE MATERIALIZED VIEW ${MATERIALIZED[0]} AS ${MATERIALIZED[1]};
    CREATE VIEW user_list AS SELECT id, email FROM users WHERE id > 1 ORDER BY id;
  `);
  await ownTables(db, ['users', 'orders', ...VIEWS.map(([name]) => name), 'user_list']);
  await db.query(`ALTER MATERIALIZED VIEW ${MATERIALIZED[0]} OWNER TO ${db.role}`);
  [plain, masked] = await Promise.all([startSqlWarden(db, { 'p.yaml': ANALYSTS_READ_ALL }), startSqlWarden(db, { 'p.yaml': MASKS + ANALYSTS_READ_ALL })]);
});

after(async () => {
  await Promise.all([plain, masked].map((x) => x?.close()));
  await db?.drop();
});

const rows = (r: { structured?: unknown }): string[][] => (r.structured as { rows: unknown[][] }).rows.map((row) => row.map(String));

describe('without masks each view tells something of the emails (the leak)', () => {
  test('each read returns rows chosen by the emails', async () => {
    for (const [, , sql, expected] of [...VIEWS, MATERIALIZED]) {
      const r = await plain.query(sql);
      assert.equal(r.isError, false, `${sql}: ${r.text.slice(0, 300)}`);
      assert.deepEqual(rows(r), expected, sql);
    }
  });
});

describe('under a mask on users.email', () => {
  const refused = refusalOf([SECRET, 'alice', 'adam']);

  test('a view using the column in any condition of its own definition is refused, naming the column and the view', async () => {
    for (const [name, , sql] of VIEWS) {
      // A view of a view is refused for the view whose definition holds the condition.
      const holder = name === 'al_ids_again' ? 'al_ids' : name;
      refused(await masked.query(sql), sql, new RegExp(`masked column public\\.users\\.email .*view public\\.${holder}'s own definition`));
    }
  });

  test('so is a view of such a view, and a materialized view filtering on it', async () => {
    refused(await masked.query('SELECT count(*) AS n FROM public.al_ids_again'), 'view of a view', /masked column public\.users\.email .*view public\.al_ids/);
    refused(await masked.query(MATERIALIZED[2]), MATERIALIZED[2], /masked column public\.users\.email .*view public\.al_mv's own definition/);
  });

  test('as the same condition written in the statement, in a subquery in FROM, is', async () => {
    const sql = "SELECT count(*) AS n FROM (SELECT id FROM public.users WHERE email LIKE 'al%') x";
    refused(await masked.query(sql), sql, /masked column public\.users\.email .*subquery/);
  });

  test('a view whose conditions do not touch the column still reads, the column masked', async () => {
    const r = await masked.query('SELECT id, email FROM public.user_list ORDER BY id');
    assert.equal(r.isError, false, r.text);
    assert.deepEqual(rows(r).map((row) => row[0]), ['2', '3']);
    assert.ok(!JSON.stringify(r.structured).includes('@example.com'), r.text);
    const own = await masked.query("SELECT id FROM public.users WHERE email LIKE 'al%'");
    assert.deepEqual(rows(own), [['1']]);
  });
});
